"""What the supported stack (torch 2.x, mmengine 0.10, mmdet 3.3, mmseg 1.2) needs beyond itself.

Applied by ``import pvt_mm``, process-wide, because the problem is hit while mmengine parses a
config, before any pvt_mm code could be asked (each has a test that shows what breaks without it):

- :func:`check_not_shadowed`: a folder named ``pvt_mm`` in the current directory (a clone of the
  repository) is imported as an empty namespace package ahead of an editable install, so the
  registration never runs and configs fail later with an mmengine assertion; this fails at once,
  naming the folder and the fix.
- :func:`locate_editable_pvt_mm`: mmengine's ``get_installed_path`` assumes a package lives in
  its distribution's directory; a PEP 660 editable install (``pip install -e .``, the README's
  setup) puts pvt_mm elsewhere, so ``_base_ = 'pvt_mm::...'`` would name a missing file. For
  ``pvt_mm`` only, the imported package's own directory is used.
"""
import os.path as osp
import sys


def _locate_pvt_mm(get_installed_path):

    def located(package: str) -> str:
        path = get_installed_path(package)
        if package == 'pvt_mm' and not osp.isdir(path):
            return osp.dirname(osp.abspath(sys.modules['pvt_mm'].__file__))
        return path

    located.pvt_mm_fixed = True
    return located


def locate_editable_pvt_mm():
    """Resolve ``pvt_mm::`` config bases from an editable install (see the module docstring)."""
    from mmengine.config import config as config_module
    if not getattr(config_module.get_installed_path, 'pvt_mm_fixed', False):
        config_module.get_installed_path = _locate_pvt_mm(config_module.get_installed_path)


def check_not_shadowed():
    """Refuse to run as part of a ``pvt_mm`` namespace package (a clone's folder)."""
    package = sys.modules.get('pvt_mm')
    if package is not None and getattr(package, '__file__', None) is None:
        folders = ', '.join(getattr(package, '__path__', []))
        raise ImportError(
            f'"import pvt_mm" found the folder {folders} (the repository\'s clone?), not the '
            'installed package: Python looks in the current directory first, and that folder has '
            'no __init__.py, so pvt_mm never registers its models or its pvt_mm:: configs. Run '
            'from another directory (e.g. cd into your project), or rename the clone.')


# At import, also when a tool imports a submodule (pvt_mm.cli) of a shadowing namespace package,
# whose __init__.py never runs.
check_not_shadowed()
