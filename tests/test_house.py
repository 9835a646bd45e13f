"""The package's structure: import layers, one table per backbone family, one entry per toolbox,
what ``import pvt_mm`` changes in the process."""
import ast
import os
import os.path as osp
import re
import subprocess
import sys
from functools import partial

import pytest
import torch
from mmengine.config import Config

import pvt_mm
from pvt_mm import benchmark as bench
from pvt_mm import cli, registry
from pvt_mm.apis import build_model, inferencer, load_config, toolbox
from pvt_mm.models import FAMILIES, Family, OfficialPVT, PVTv2, arch_names, backbone_arch, family_of
from tools_helper import config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# The layers of pvt_mm, bottom up: leaves; components; the toolbox table; the wiring and the
# entry points (which import no module of their own layer); tools/ is the fifth, on top.
LAYERS = {
    'utils': 1,
    'version': 1,
    'compat': 1,
    'state_dicts': 1,
    'fileio': 1,
    'models': 2,
    'datasets': 2,
    'engine': 2,
    'panoptic': 2,
    'analysis': 2,
    'deployment': 2,
    'toolboxes': 3,
    'registry': 4,
    'apis': 4,
    'cli': 4,
    'benchmark': 4,
    'testing': 4,
}


def _imports(path, package):
    """The pvt_mm rooms (top-level module or package names) a source file of ``package``
    imports."""
    tree = ast.parse(open(path).read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.split('.')[:len(package.split('.')) - node.level + 1]
                module = '.'.join(base + ([node.module] if node.module else []))
                names = [module] if node.module else [f'{module}.{a.name}' for a in node.names]
            elif node.module == 'pvt_mm':  # from pvt_mm import cli
                names = [f'pvt_mm.{a.name}' for a in node.names]
            else:
                names = [node.module or '']
        else:
            continue
        for name in names:
            parts = name.split('.')
            if parts[0] == 'pvt_mm' and len(parts) > 1:
                found.add(parts[1])
    return found


def test_imports_go_down_the_layers():
    """Every import inside pvt_mm goes to a lower layer (no circle, four layers, tools/ the
    fifth); every module has its layer."""
    wrong = []
    for folder, _, files in os.walk(osp.join(ROOT, 'pvt_mm')):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            rel = osp.relpath(path, ROOT)[:-3].split(os.sep)
            if rel == ['pvt_mm', '__init__']:
                continue  # the package's face imports what it exports
            room = rel[1]
            assert room in LAYERS, f'{path}: give pvt_mm.{room} its layer in LAYERS'
            for other in _imports(path, '.'.join(rel[:-1])):
                if other != room and LAYERS.get(other, 0) >= LAYERS[room]:
                    wrong.append(f'{osp.relpath(path, ROOT)} imports pvt_mm.{other}')
    assert not wrong, wrong


def test_layer_check_sees_an_upward_import(tmp_path):
    """The layer check is not vacuous: a component importing the wiring is found."""
    path = tmp_path / 'hooks.py'
    path.write_text('from ..registry import register_all\nimport pvt_mm.cli\n'
                    'from pvt_mm import apis as a\nfrom pvt_mm.benchmark import IMPLS\n'
                    'from .. import testing\nfrom . import hooks\n')
    assert _imports(
        path, 'pvt_mm.engine') == {'registry', 'cli', 'apis', 'benchmark', 'testing', 'engine'}


def test_import_pvt_mm_changes_one_thing_of_other_libraries():
    """``import pvt_mm`` imports what registration needs, not mmdet's or mmseg's inferencers, and
    patches one function of another library (mmengine's ``get_installed_path``, for an
    editable install's ``pvt_mm::`` configs); the rest goes through registration APIs."""
    code = '''
import sys
import mmengine.config.config as config_module
before = config_module.get_installed_path
import pvt_mm
assert not [m for m in sys.modules if m.startswith(('mmdet.apis', 'mmseg.apis'))]
assert config_module.get_installed_path is not before
assert config_module.get_installed_path.pvt_mm_fixed
print('ok')
'''
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          cwd=str(ROOT + '/tests'))
    assert proc.returncode == 0 and proc.stdout.strip() == 'ok', proc.stderr[-3000:]


def test_each_toolbox_gives_its_inferencer():
    """``apis.inferencer`` builds the config's toolbox's inferencer, which predicts; mmdet's
    DetInferencer gets panopticapi's id conversion there (where panopticapi is absent), not at
    import."""
    import numpy as np
    from mmdet.apis import det_inferencer

    from pvt_mm.panoptic import has_panopticapi, id2rgb
    no_weights = {'model.backbone.init_cfg': None}
    inf = inferencer(
        config('pvtv2/fpn_pvtv2-b0_8xb4-40k_ade20k-512x512.py'),
        device='cpu',
        cfg_options=no_weights)
    assert type(inf).__name__ == 'MMSegInferencer'
    result = inf(np.zeros((64, 64, 3), np.uint8), return_datasamples=True)
    assert result.pred_sem_seg.data.shape == (1, 64, 64)
    if not has_panopticapi():
        det_inferencer.id2rgb = None  # what mmdet sets without panopticapi
    inf = inferencer(
        config('pvtv2/panoptic-fpn_pvtv2-b0_fpn_1x_coco.py'), device='cpu', cfg_options=no_weights)
    assert type(inf).__name__ == 'DetInferencer'
    assert det_inferencer.id2rgb is not None
    if not has_panopticapi():
        assert det_inferencer.id2rgb is id2rgb


class ToyPVT(PVTv2):
    """A backbone family of its own: PVTv2 blocks at toy widths."""
    arch_settings = {
        't':
        dict(
            PVTv2.arch_settings['b0'],
            embed_dims=[16, 32, 48, 64],
            num_heads=[1, 2, 3, 4],
            depths=[1, 1, 1, 1])
    }

    def __init__(self, arch='t', **kwargs):
        super().__init__(arch=arch, **kwargs)


def test_a_family_is_added_through_the_table_alone(tmp_path, monkeypatch):
    """A family added to FAMILIES (nothing else) has its --arch names, registers in the
    toolboxes, builds, loads its official-layout weights (converted on load) to the reference's
    outputs, and is benchmarked against its reference; peers it lacks are named errors."""
    torch.manual_seed(0)
    reference = partial(OfficialPVT, 2)
    official = reference(**ToyPVT.arch_settings['t']).eval()
    weights = tmp_path / 'toypvt_t.pth'
    torch.save(official.state_dict(), weights)
    family = Family(
        name='toypvt', backbone=ToyPVT, reference=reference, weights={'t': str(weights)})
    monkeypatch.setitem(FAMILIES, 'toypvt', family)
    assert 'toypvt-t' in arch_names() and backbone_arch('toypvt-t') == (ToyPVT, 't')
    assert family_of(ToyPVT) is family and family_of('ToyPVT') is family

    from mmdet.registry import MODELS
    assert registry.register_all() == pvt_mm.TOOLBOXES_FOUND
    try:
        model = MODELS.build(
            dict(
                type='ToyPVT',
                arch='t',
                init_cfg=dict(type='Pretrained', checkpoint=family.weights['t']))).eval()
    finally:
        MODELS._module_dict.pop('ToyPVT', None)
        from mmseg.registry import MODELS as SEG_MODELS
        SEG_MODELS._module_dict.pop('ToyPVT', None)
    model.init_weights()
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        ours, theirs = model(x), official.forward_pyramid(x)
    assert len(ours) == 4
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)

    times = bench.backbone_times(['pvt_mm', 'reference'],
                                 'toypvt-t', (64, 64),
                                 'cpu',
                                 False,
                                 rounds=1)
    assert set(times) == {'pvt_mm', 'reference'} and all(t[0] > 0 for t in times.values())
    for impl, peer in (('mmdet', 'mmdet has no built-in'), ('timm', 'timm has no'),
                       ('transformers', 'transformers has no')):
        what = f'{peer} ToyPVT'
        with pytest.raises(ValueError, match=what):
            bench.build_backbone(impl, 'toypvt-t')


def test_the_papers_families_are_in_the_table():
    """PVT and PVTv2 with the official release's weights per preset; every weight URL in the
    shipped configs is the table's, of the arch the config's name says."""
    families = {f.name: f.backbone for f in FAMILIES.values()}
    assert families == {'pvt': pvt_mm.PVT, 'pvtv2': PVTv2}
    for family in FAMILIES.values():
        assert set(family.weights) == set(family.archs)
    assert FAMILIES['pvtv2'].weights['b2-li'].endswith('/v2/pvt_v2_b2_li.pth')
    assert FAMILIES['pvt'].weights['small'].endswith('/v2/pvt_small.pth')
    by_url = {
        url: (family.name, arch)
        for family in FAMILIES.values()
        for arch, url in family.weights.items()
    }
    short = {'tiny': 't', 'small': 's', 'medium': 'm', 'large': 'l'}
    checked = 0
    for folder, _, files in os.walk(osp.join(ROOT, 'configs')):
        for name in files:
            if not name.endswith('.py'):
                continue
            text = open(osp.join(folder, name)).read()
            named = re.search(r'_(pvt-[tsml]|pvtv2-b\d(?:-li)?)_', name)
            for url in re.findall(r"'(https://github.com/whai362/PVT/releases/[^']*)'", text):
                assert url in by_url, (name, url)
                family, arch = by_url[url]
                if named:
                    assert named[1] == f'{family}-{short.get(arch, arch)}', (name, url)
                checked += 1
    assert checked > 100


def test_an_unknown_toolbox_is_a_named_error_everywhere():
    """Each place that takes a toolbox's path refuses another toolbox's config by name."""
    cfg = Config(
        dict(
            default_scope='mmpretrain', model=dict(type='X'), test_evaluator={}, train_pipeline=[]))
    message = r"default_scope must be one of \('mmdet', 'mmseg'\), got 'mmpretrain'"
    cfg.default_hooks = dict(visualization=dict(type='X'))
    for call in (
            lambda: cli.set_output(cfg, 'out.pkl'),
            lambda: build_model(cfg),
            lambda: cli.enable_visualization(cfg, False, 'shown'),
            lambda: toolbox(cfg),  # the tools' prediction, export and FLOPs paths
            lambda: bench.toy_batch(cfg, (32, 32)),
            lambda: bench.whole_model_steps(cfg, cfg.model, {}, 'cpu')):
        with pytest.raises(ValueError, match=message):
            call()
    path = config('pvtv2/retinanet_pvtv2-b0_fpn_1x_coco.py')
    with pytest.raises(ValueError, match=message):
        load_config(path, {'default_scope': 'mmpretrain'})
    entry = toolbox(load_config(path))
    assert entry == 'mmdet' and entry != 'mmseg' and str(entry) == 'mmdet'
    assert entry.name == 'mmdet' and entry.train_shape == (800, 1333)
