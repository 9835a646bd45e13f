"""Every shipped config builds, has the papers' hyper-parameters and parameter counts, and can be
inherited from another directory by path and by the ``pvt_mm::`` scope."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from tools_helper import CONFIGS, build_model

# Millions of parameters of the built models (PVT / PVTv2 papers), checked within 1%.
PAPER_PARAMS = {
    'retinanet': dict(t=23.0, s=34.2, m=53.9, l=71.1, b0=13.0, b1=23.8, b2=35.1, **{
        'b2-li': 32.3}, b3=55.0, b4=72.3, b5=91.7),
    'mask-rcnn': dict(t=32.9, s=44.1, m=63.9, l=81.0, b0=23.5, b1=33.7, b2=45.0, **{
        'b2-li': 42.2}, b3=64.9, b4=82.2, b5=101.6),
    'fpn': dict(t=17.0, s=28.2, m=48.0, l=65.1, b0=7.6, b1=17.8, b2=29.1, **{'b2-li': 26.3},
                b3=49.0, b4=66.3, b5=85.7),
}
ARCH = dict(t='tiny', s='small', m='medium', l='large')
URL = 'https://github.com/whai362/PVT/releases/download/v2/'


def _configs():
    out = []
    for fam, sizes in PAPER_PARAMS.items():
        for size in sizes:
            if size in ARCH:
                name = (f'pvt/{fam}_pvt-{size}_fpn_1x_coco.py' if fam != 'fpn' else
                        f'pvt/fpn_pvt-{size}_8xb4-40k_ade20k-512x512.py')
            else:
                name = (f'pvtv2/{fam}_pvtv2-{size}_fpn_1x_coco.py' if fam != 'fpn' else
                        f'pvtv2/fpn_pvtv2-{size}_8xb4-40k_ade20k-512x512.py')
            out.append((fam, size, name))
    return out


def test_every_config_file_is_covered():
    shipped = {osp.relpath(p, CONFIGS) for p in glob.glob(osp.join(CONFIGS, 'pvt*/*.py'))}
    assert shipped == {name for _, _, name in _configs()}


@pytest.mark.parametrize('fam,size,name', _configs(), ids=[c[2] for c in _configs()])
def test_config_builds_with_paper_params(fam, size, name):
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    backbone = cfg.model.backbone
    v1 = size in ARCH
    assert backbone.type == ('PVT' if v1 else 'PVTv2')
    assert backbone.arch == (ARCH[size] if v1 else size)
    ckpt = (f'pvt_{ARCH[size]}.pth' if v1 else f'pvt_v2_{size.replace("-", "_")}.pth')
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=URL + ckpt)
    assert 'pvt_mm' in cfg.custom_imports.imports
    model = build_model(cfg)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    assert params == pytest.approx(PAPER_PARAMS[fam][size], rel=0.01)


def test_detection_hyper_parameters():
    for fam, lr, start_level in [('retinanet', 1e-4, 1), ('mask-rcnn', 2e-4, 0)]:
        cfg = Config.fromfile(osp.join(CONFIGS, f'pvt/{fam}_pvt-s_fpn_1x_coco.py'))
        assert cfg.default_scope == 'mmdet'
        assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=lr, weight_decay=1e-4)
        assert cfg.train_cfg.max_epochs == 12
        warmup, steps = cfg.param_scheduler
        assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR', 0.001, 500)
        assert steps.milestones == [8, 11] and steps.gamma == 0.1
        assert cfg.train_dataloader.batch_size == 2 and cfg.auto_scale_lr.base_batch_size == 16
        assert cfg.model.neck.out_channels == 256 and cfg.model.neck.num_outs == 5
        assert cfg.model.neck.get('start_level', 0) == start_level
        assert cfg.model.backbone.drop_path_rate == 0.1
        resize = cfg.train_dataloader.dataset.pipeline[2]
        assert resize.scale == (1333, 800) and resize.keep_ratio
        assert cfg.train_dataloader.dataset.pipeline[3].prob == 0.5
    retina = Config.fromfile(osp.join(CONFIGS, 'pvt/retinanet_pvt-t_fpn_1x_coco.py'))
    assert retina.model.neck.add_extra_convs == 'on_input'


def test_segmentation_hyper_parameters():
    cfg = Config.fromfile(osp.join(CONFIGS, 'pvtv2/fpn_pvtv2-b2_8xb4-40k_ade20k-512x512.py'))
    assert cfg.default_scope == 'mmseg'
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=2e-4, weight_decay=1e-4)
    (poly, ) = cfg.param_scheduler
    assert (poly.type, poly.power, poly.eta_min, poly.end) == ('PolyLR', 0.9, 0.0, 40000)
    assert cfg.train_cfg.max_iters == 40000 and cfg.train_cfg.val_interval == 4000
    assert cfg.default_hooks.checkpoint.interval == 4000
    assert cfg.train_dataloader.batch_size == 4
    head = cfg.model.decode_head
    assert (head.type, head.channels, head.dropout_ratio, head.num_classes) == (
        'FPNHead', 128, 0.1, 150)
    assert head.norm_cfg.type == 'SyncBN'
    assert cfg.model.neck.num_outs == 4 and cfg.model.neck.out_channels == 256
    train = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert train['RandomResize'].scale == (2048, 512)
    assert train['RandomResize'].ratio_range == (0.5, 2.0)
    assert train['RandomCrop'].crop_size == (512, 512) and train['RandomCrop'].cat_max_ratio == 0.75
    assert train['LoadAnnotations'].reduce_zero_label and 'PhotoMetricDistortion' in train
    test = {t.type: t for t in cfg.test_dataloader.dataset.pipeline}
    assert test['AlignResize'].scale == (2048, 512) and test['AlignResize'].size_divisor == 32
    assert cfg.model.test_cfg.mode == 'whole'


def test_align_resize_rounds_sides_up_to_32():
    import numpy as np
    from mmseg.registry import TRANSFORMS
    t = TRANSFORMS.build(dict(type='AlignResize', scale=(2048, 512), keep_ratio=True))
    out = t(dict(img=np.zeros((375, 500, 3), np.uint8)))
    # keep-ratio to fit 2048x512: 512x683 -> sides rounded up to multiples of 32: 512x704.
    assert out['img'].shape[:2] == (512, 704) and out['img_shape'] == (512, 704)


def test_inherit_by_path_and_by_scope(tmp_path):
    import pvt_mm  # noqa: F401  (registers the pvt_mm:: scope, as our tools do)
    by_path = tmp_path / 'by_path.py'
    by_path.write_text(f"_base_ = '{CONFIGS}/pvt/retinanet_pvt-t_fpn_1x_coco.py'\n"
                       "model = dict(backbone=dict(frozen_stages=1))\n")
    by_scope = tmp_path / 'by_scope.py'
    by_scope.write_text("_base_ = 'pvt_mm::pvt/retinanet_pvt-t_fpn_1x_coco.py'\n"
                        "model = dict(backbone=dict(frozen_stages=1))\n")
    for path in (by_path, by_scope):
        cfg = Config.fromfile(str(path))
        assert cfg.model.backbone.type == 'PVT' and cfg.model.backbone.frozen_stages == 1
        assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    seg = tmp_path / 'seg.py'
    seg.write_text("_base_ = 'pvt_mm::pvtv2/fpn_pvtv2-b1_8xb4-40k_ade20k-512x512.py'\n")
    assert Config.fromfile(str(seg)).model.backbone.arch == 'b1'
    # Loaded as our tools load it, a pvt_mm:: config builds in its toolbox's scope.
    from pvt_mm.launch import load_config
    for path, cls in [(by_scope, 'RetinaNet'), (seg, 'EncoderDecoder')]:
        assert type(build_model(load_config(str(path)))).__name__ == cls


def test_tools_run_from_another_directory_with_scope_config(tmp_path):
    """tools/test.py imports pvt_mm before parsing, so a pvt_mm:: config works from anywhere;
    a bad config is reported by name."""
    import subprocess
    import sys
    cfg = tmp_path / 'mine.py'
    cfg.write_text("_base_ = 'pvt_mm::pvt/retinanet_pvt-t_fpn_1x_coco.py'\n")
    proc = subprocess.run([sys.executable, osp.join(osp.dirname(CONFIGS), 'tools', 'test.py'),
                           str(cfg), str(tmp_path / 'missing.pth')], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and 'missing.pth' in proc.stderr
    assert 'pvt_mm::' not in proc.stderr  # the config itself parsed
    proc = subprocess.run([sys.executable, osp.join(osp.dirname(CONFIGS), 'tools', 'train.py'),
                           str(tmp_path / 'nope.py')], cwd=tmp_path, capture_output=True,
                          text=True)
    assert proc.returncode != 0 and 'config file not found' in proc.stderr
