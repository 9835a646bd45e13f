"""PVTv2 in DINO, Deformable DETR, Mask2Former and UperNet: each recipe is its mmdet / mmseg base
recipe with only what the backbone dictates changed, its optimizer treats every parameter as the
recipe says, and each framework trains and tests on the toy data with our tools."""
import os.path as osp
import re

import mmdet
import mmseg
import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from torch.nn import GroupNorm, LayerNorm
from torch.nn.modules.batchnorm import _BatchNorm

from pvt_mm.utils import iter_dicts
from tools_helper import (build_model, config, in_process, tool_in_process, toy_ade_config,
                          toy_coco_config, written_metrics)

MMDET = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')
MMSEG = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs')
ARCHS = ('b0', 'b1', 'b2', 'b2-li', 'b3', 'b4', 'b5')

# name: (our config pattern, the base recipe it follows, where the backbone's widths go)
FRAMEWORKS = {
    'dino': ('pvtv2/dino-4scale_pvtv2-{}_8xb2-12e_coco.py',
             osp.join(MMDET, 'dino/dino-4scale_r50_8xb2-12e_coco.py'), 'neck'),
    'dino-24e': ('pvtv2/dino-4scale_pvtv2-{}_8xb2-24e_coco.py',
                 osp.join(MMDET, 'dino/dino-4scale_r50_8xb2-24e_coco.py'), 'neck'),
    'deformable-detr':
    ('pvtv2/deformable-detr-refine-twostage_pvtv2-{}_16xb2-50e_coco.py',
     osp.join(MMDET,
              'deformable_detr/deformable-detr-refine-twostage_r50_16xb2-50e_coco.py'), 'neck'),
    'mask2former-coco':
    ('pvtv2/mask2former_pvtv2-{}_8xb2-lsj-50e_coco.py',
     osp.join(MMDET,
              'mask2former/mask2former_swin-t-p4-w7-224_8xb2-lsj-50e_coco.py'), 'panoptic_head'),
    'mask2former-panoptic':
    ('pvtv2/mask2former_pvtv2-{}_8xb2-lsj-50e_coco-panoptic.py',
     osp.join(MMDET, 'mask2former/mask2former_swin-t-p4-w7-224_8xb2-lsj-50e_coco-panoptic.py'),
     'panoptic_head'),
    'panoptic-fpn-1x': ('pvtv2/panoptic-fpn_pvtv2-{}_fpn_1x_coco.py',
                        osp.join(MMDET, 'panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py'), 'neck'),
    'panoptic-fpn-3x': ('pvtv2/panoptic-fpn_pvtv2-{}_fpn_ms-3x_coco.py',
                        osp.join(MMDET, 'panoptic_fpn/panoptic-fpn_r50_fpn_ms-3x_coco.py'), 'neck'),
    'upernet': ('pvtv2/upernet_pvtv2-{}_8xb2-160k_ade20k-512x512.py',
                osp.join(MMSEG, 'swin',
                         'swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py'),
                'decode_head'),
    'mask2former-ade20k':
    ('pvtv2/mask2former_pvtv2-{}_8xb2-160k_ade20k-512x512.py',
     osp.join(MMSEG, 'mask2former/mask2former_swin-t_8xb2-160k_ade20k-512x512.py'), 'decode_head'),
}
# Settings a base config holds for its own backbone (top-level variables and the model's init_cfg)
# or for the plugin; everything else must be the base's. pvt_mm's bases of values (names
# starting with pvtv2_ or panoptic_) are read by the configs, not by mmdet.
BACKBONE_ONLY = ('pretrained', 'depths', 'checkpoint_file', 'custom_keys', 'backbone_norm_multi',
                 'backbone_embed_multi', 'backbone_norm', 'custom_imports', 'custom_hooks')
VALUE_BASES = ('pvtv2_', 'panoptic_')
# What pvt_mm's panoptic configs name instead of mmdet's classes that import panopticapi.
WITHOUT_PANOPTICAPI = {
    'LoadCocoPanopticAnnotations': 'LoadPanopticAnnotations',
    'CocoPanopticMetricOrHotcoco': 'CocoPanopticMetric'
}


def _without_scope(cfg_dict):
    """The config (a dict, changed in place) without the ``_scope_`` keys mmengine adds to dicts
    inherited through ``mmdet::`` / ``mmseg::``, with mmdet's names for pvt_mm's panoptic
    transform and metric."""
    for d in iter_dicts(cfg_dict):
        d.pop('_scope_', None)
        if d.get('type') in WITHOUT_PANOPTICAPI:
            d['type'] = WITHOUT_PANOPTICAPI[d['type']]
    return cfg_dict


def _recipe(cfg, widths_into):
    """The config as a dict without what the backbone dictates: the backbone, the widths it feeds,
    the parameter-wise keys; returns (rest, custom_keys)."""
    d = _without_scope(cfg.to_dict())
    for key in list(d):
        if key in BACKBONE_ONLY or key.startswith(VALUE_BASES):
            d.pop(key)
    model = d['model']
    model.pop('backbone')
    model.pop('init_cfg', None)
    model[widths_into].pop('in_channels')
    model.get('auxiliary_head', {}).pop('in_channels', None)
    keys = d['optim_wrapper'].get('paramwise_cfg', {}).pop('custom_keys', None)
    if d['model']['type'] == 'PanopticFPN':  # the PVTv2 paper's AdamW (test_optimizer_...)
        d['optim_wrapper'].pop('optimizer')
        d['optim_wrapper'].pop('paramwise_cfg', None)
        keys = None
    return d, keys


@pytest.mark.parametrize('name', list(FRAMEWORKS))
def test_recipe_is_the_base_recipe_but_for_the_backbone(name):
    """Optimizer, schedule, augmentation, batch, heads, losses: the base config's, for every arch;
    the base's custom keys that name its own backbone's modules are the only ones replaced."""
    pattern, base, widths_into = FRAMEWORKS[name]
    theirs, their_keys = _recipe(Config.fromfile(base), widths_into)
    for arch in ARCHS:
        cfg = Config.fromfile(config(pattern.format(arch)))
        backbone = cfg.model.backbone
        assert (backbone.type, backbone.arch, backbone.drop_path_rate) == ('PVTv2', arch, 0.1)
        assert 'pvt_mm' in cfg.custom_imports.imports
        if 'panoptic' in name:  # nothing left that imports panopticapi
            assert not re.search(r"'(LoadPanopticAnnotations|CocoPanopticMetric)'", cfg.pretty_text)
        ours, our_keys = _recipe(cfg, widths_into)
        assert ours == theirs, arch
        kept = {
            k: v
            for k, v in (their_keys or {}).items()
            if not k.startswith(('backbone.', 'absolute_pos_embed', 'relative_position_bias_table'))
        }
        assert {k: v for k, v in (our_keys or {}).items() if k in kept} == kept


def _expected(name, param_name, module, base_lr, base_wd):
    """(lr, weight decay) the recipe gives a parameter."""
    backbone = param_name.startswith('backbone.')
    is_norm = isinstance(module, (_BatchNorm, GroupNorm, LayerNorm))
    if name.startswith(('dino', 'deformable')):
        slow = backbone or (name == 'deformable-detr'
                            and re.search(r'sampling_offsets|reference_points', param_name))
        return base_lr * (0.1 if slow else 1), base_wd
    if name.startswith('mask2former'):
        no_decay = is_norm or re.search(r'query_embed|query_feat|level_embed', param_name)
        return base_lr * (0.1 if backbone else 1), 0. if no_decay else base_wd
    if name == 'panoptic-fpn-1x':  # AdamW lr 2e-4, weight decay 1e-4 on every parameter
        assert (base_lr, base_wd) == (2e-4, 1e-4)
        return base_lr, base_wd
    if name == 'panoptic-fpn-3x':  # AdamW lr 1e-4, weight decay 0.05 but on the backbone's norms
        assert (base_lr, base_wd) == (1e-4, 0.05)
        return base_lr, 0. if backbone and is_norm else base_wd
    assert name == 'upernet'  # no decay on the backbone's norms only (the heads' are SyncBN)
    return base_lr, 0. if backbone and is_norm else base_wd


@pytest.mark.parametrize('name', [
    'dino', 'deformable-detr', 'mask2former-coco', 'upernet', 'mask2former-ade20k',
    'mask2former-panoptic', 'panoptic-fpn-1x', 'panoptic-fpn-3x'
])
def test_optimizer_treats_every_parameter_as_the_recipe_says(name):
    """Per parameter, the lr and weight decay of the built optimizer: the backbone's lr x0.1 where
    the base has it, no decay on PVTv2's LayerNorms where the base spares its backbone's norms."""
    cfg = Config.fromfile(config(FRAMEWORKS[name][0].format('b0')))
    model = build_model(cfg)
    groups = build_optim_wrapper(model, cfg.optim_wrapper).optimizer.param_groups
    got = {id(p): (g['lr'], g['weight_decay']) for g in groups for p in g['params']}
    modules = dict(model.named_modules())
    base_lr, base_wd = cfg.optim_wrapper.optimizer.lr, cfg.optim_wrapper.optimizer.weight_decay
    layernorms = 0
    for param_name, param in model.named_parameters():
        module = modules[param_name.rsplit('.', 1)[0] if '.' in param_name else '']
        layernorms += isinstance(module, LayerNorm) and param_name.startswith('backbone.')
        want = _expected(name, param_name, module, base_lr, base_wd)
        assert got[id(param)] == pytest.approx(want), param_name
    assert layernorms == 2 * (4 + 4 + 2 * 8 + 6)  # patch embedding, stage, block, reduction norms
    # Every custom key names parameters of this model, but for one of the base's own: mmdet's
    # two-stage Deformable DETR keeps a 'reference_points' key (lr x0.1) from the one-stage
    # recipe, and its two-stage model has no parameter of that name.
    names = [f'.{n}' for n, _ in model.named_parameters()]  # mmengine matches '<prefix>.<name>'
    for key in cfg.optim_wrapper.get('paramwise_cfg', {}).get('custom_keys', {}):
        if not (name == 'deformable-detr' and key == 'reference_points'):
            assert any(key in n for n in names), f'custom key {key!r} matches no parameter'


def test_norm_keys_match_every_pvtv2_layernorm_of_every_arch():
    """The Mask2Former configs' norm keys are arch-independent: for every arch they match exactly
    the backbone's LayerNorm parameters."""
    from pvt_mm import PVTv2
    keys = Config.fromfile(config(FRAMEWORKS['mask2former-coco'][0].format('b2')))
    keys = [k for k in keys.optim_wrapper.paramwise_cfg.custom_keys if k.startswith('.')]
    for arch in ARCHS:
        backbone = PVTv2(arch=arch)
        for module_name, module in backbone.named_modules():
            for param in ('weight', 'bias'):
                if hasattr(module, param) and module_name:
                    full = f'backbone.{module_name}.{param}'
                    assert any(k in full for k in keys) == isinstance(module, LayerNorm), full


# One representative arch each, with the config's own train pipeline.
TOY = {
    'dino': ('pvtv2/dino-4scale_pvtv2-b0_8xb2-12e_coco.py', ['bbox']),
    'deformable-detr':
    ('pvtv2/deformable-detr-refine-twostage_pvtv2-b0_16xb2-50e_coco.py', ['bbox']),
    'mask2former-coco': ('pvtv2/mask2former_pvtv2-b0_8xb2-lsj-50e_coco.py', ['bbox', 'segm']),
    'upernet': ('pvtv2/upernet_pvtv2-b0_8xb2-160k_ade20k-512x512.py', None),
    'mask2former-ade20k': ('pvtv2/mask2former_pvtv2-b0_8xb2-160k_ade20k-512x512.py', None),
}


@pytest.mark.parametrize('name', list(TOY))
def test_trains_then_tests_on_toy_data(tmp_path, monkeypatch, capsys, name):
    """One training iteration (forward, backward, optimizer step, checkpoint) with the config's
    own train pipeline (DETR's multi-scale crops, Mask2Former's large-scale jitter to 1024x1024,
    ADE20K's 512x512 crops) and the real mmcv ops (MultiScaleDeformableAttention's CPU path),
    then tools/test.py writes the metric; both tools run in this process."""
    rel, coco_metrics = TOY[name]
    work = tmp_path / 'work'
    if coco_metrics:
        cfg = toy_coco_config(config(rel), tmp_path, num_train=1)
    else:  # UperNet's pyramid pooling has a BN over 1x1 maps: more than one image per batch
        cfg = toy_ade_config(config(rel), tmp_path, batch_size=2 if name == 'upernet' else 1)
    if Config.fromfile(str(cfg)).train_cfg.type == 'EpochBasedTrainLoop':
        loop, ckpt = ['train_cfg.max_epochs=1', 'train_cfg.val_begin=2'], work / 'epoch_1.pth'
    else:
        loop = [
            'train_cfg.max_iters=1', 'train_cfg.val_begin=2', 'default_hooks.checkpoint.interval=1'
        ]
        ckpt = work / 'iter_1.pth'
    out = tool_in_process(monkeypatch, capsys, tmp_path, 'train.py', cfg, '--work-dir', work,
                          '--cfg-options', *loop)
    assert re.search(r'(Epoch|Iter)\(train\) +(\[1\])?\[1/1\]', out), out[-3000:]
    assert ckpt.is_file() and 'Iter(val)' not in out and 'Epoch(val)' not in out, out[-3000:]
    assert in_process(monkeypatch, tmp_path, 'test.py', cfg, ckpt, '--work-dir',
                      tmp_path / 'test') is None
    metrics = written_metrics(tmp_path / 'test')
    if coco_metrics:
        assert sorted(k for k in metrics
                      if re.fullmatch(r'coco/\w+_mAP', k)) == sorted(f'coco/{m}_mAP'
                                                                     for m in coco_metrics), metrics
    else:
        assert 0 <= metrics['mIoU'] <= 100, metrics
