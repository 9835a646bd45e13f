"""pvt_mm.compat and what ``import pvt_mm`` leaves of the process: registrations, the pvt_mm::
config scope from the README's editable install, and nothing else (no warning filters, no
replaced file backends)."""
import os
import os.path as osp
import subprocess
import sys

from tools_helper import TOOLS


def test_pvt_mm_scope_from_an_editable_install():
    """mmengine looks for a package's configs in its distribution's directory; a PEP 660
    editable install (PVT_MM_EDITABLE=1 tools/install.sh) has no pvt_mm there, so pvt_mm::
    bases would name missing files. pvt_mm's wrapper of mmengine's lookup falls back to the
    imported package's directory then, and only for pvt_mm."""
    from mmengine.config import config as config_module
    from mmengine.utils import get_installed_path

    import pvt_mm
    from pvt_mm.compat import _locate_pvt_mm
    here = osp.dirname(osp.abspath(pvt_mm.__file__))
    editable = _locate_pvt_mm(lambda package: f'/site-packages/of/an/editable/{package}')
    assert editable('pvt_mm') == here
    assert osp.isfile(osp.join(here, '.mim', 'configs', 'pvt', 'retinanet_pvt-t_fpn_1x_coco.py'))
    assert editable('mmdet') == '/site-packages/of/an/editable/mmdet'  # others: mmengine's
    assert getattr(config_module.get_installed_path, 'pvt_mm_fixed', False)
    assert config_module.get_installed_path('mmdet') == get_installed_path('mmdet')


def test_import_leaves_warnings_and_file_backends_alone():
    """A config's custom_imports of pvt_mm registers modules; it installs no warning filter and
    keeps mmengine's local file backend (pvt_mm's tools choose atomic writes for checkpoints)."""
    # What pvt_mm imports of the toolboxes (the panoptic classes' bases in mmdet's datasets,
    # evaluation and apis modules, which import scipy and sympy: they install filters) first.
    code = ('import warnings, torch, mmcv.cnn, mmdet.registry, mmseg.registry, mmdet.datasets, '
            'mmdet.evaluation, mmdet.apis; '
            'from mmengine.fileio import get_file_backend; before = list(warnings.filters); '
            'import pvt_mm; '
            'assert warnings.filters == before, warnings.filters[:3]; '
            'print(type(get_file_backend("x.pth")).__name__, '
            'type(get_file_backend("x.pth", backend_args=dict(backend="atomic_local"))).__name__)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ['LocalBackend', 'AtomicLocalBackend']


def test_tools_silence_known_third_party_warnings_only(tmp_path):
    """The tools silence setuptools' pkg_resources deprecation (five lines when a config with
    mmdet:: bases is parsed, on the setuptools releases that warn) and no other warning; pvt_mm
    itself filters none. The warnings come from a module the test's config imports, so the test
    holds whichever setuptools is installed."""
    (tmp_path / 'noisy.py').write_text(
        'import warnings\n'
        "warnings.warn('pkg_resources is deprecated as an API. See the docs.', UserWarning)\n"
        "warnings.warn('noisy: a warning the tools keep', UserWarning)\n")
    cfg = tmp_path / 'cfg.py'
    cfg.write_text("_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'\n"
                   "default_scope = 'mmdet'\n"
                   "custom_imports = dict(imports=['noisy'], allow_failed_imports=False)\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run([sys.executable, f'{TOOLS}/test.py',
                           str(cfg), 'missing.pth'],
                          cwd=tmp_path,
                          env=env,
                          capture_output=True,
                          text=True)
    assert 'noisy: a warning the tools keep' in proc.stderr, proc.stderr
    assert 'pkg_resources' not in proc.stderr, proc.stderr
    assert proc.stderr.strip().endswith('\nerror: checkpoint not found: missing.pth')
    proc = subprocess.run([
        sys.executable, '-c', 'import pvt_mm; from mmengine.config import '
        f'Config; Config.fromfile("{cfg}")'
    ],
                          env=env,
                          capture_output=True,
                          text=True)
    assert 'pkg_resources is deprecated' in proc.stderr and 'noisy:' in proc.stderr
