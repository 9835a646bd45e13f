"""Every shipped config is listed in the model index, builds with the listed (and published)
parameter count, has the official recipes' hyper-parameters, and can be inherited from another
directory by path and by the ``pvt_mm::`` scope."""
import glob
import os.path as osp
import re

import pytest
import torch
import yaml
from mmengine.config import Config

from official_recipes import CONFIGS as OFFICIAL
from official_recipes import RECIPES, Recipe
from tools_helper import CONFIGS, build_model, in_process

ROOT = osp.dirname(CONFIGS)
URL = 'https://github.com/whai362/PVT/releases/download/v2/'
ARCH = dict(t='tiny', s='small', m='medium', l='large')
# Configs of the frameworks beyond the papers (configs/pvtv2/README.md), which have no official
# recipe.
FRAMEWORK_PREFIXES = ('dino-', 'deformable-detr-', 'mask2former_', 'panoptic-fpn_', 'upernet_')


def _listed_models():
    """Every model of the metafiles the root model-index.yml imports."""
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    models = []
    for path in index['Import']:
        with open(osp.join(ROOT, path)) as f:
            models += yaml.safe_load(f)['Models']
    return models


MODELS = _listed_models()


def _paper_params():
    """Published parameter counts (millions) and their tolerance, by config name.

    1x (PVT / PVTv2 papers, one decimal): within 1%. 3x (PVTv2 paper, Table 4, whole millions):
    within the rounding. Mask R-CNN 3x is the 1x model.
    """
    one_x = {
        'retinanet':
        dict(
            t=23.0,
            s=34.2,
            m=53.9,
            l=71.1,
            b0=13.0,
            b1=23.8,
            b2=35.1,
            **{'b2-li': 32.3},
            b3=55.0,
            b4=72.3,
            b5=91.7),
        'mask-rcnn':
        dict(
            t=32.9,
            s=44.1,
            m=63.9,
            l=81.0,
            b0=23.5,
            b1=33.7,
            b2=45.0,
            **{'b2-li': 42.2},
            b3=64.9,
            b4=82.2,
            b5=101.6),
        'fpn':
        dict(
            t=17.0,
            s=28.2,
            m=48.0,
            l=65.1,
            b0=7.6,
            b1=17.8,
            b2=29.1,
            **{'b2-li': 26.3},
            b3=49.0,
            b4=66.3,
            b5=85.7),
    }
    out = {}
    for fam, sizes in one_x.items():
        for size, params in sizes.items():
            net = f'pvt-{size}' if size in ARCH else f'pvtv2-{size}'
            name = (f'{fam}_{net}_fpn_1x_coco'
                    if fam != 'fpn' else f'fpn_{net}_8xb4-40k_ade20k-512x512')
            out[name] = (params, 0.01 * params)
            if fam == 'mask-rcnn' and size.startswith('b'):
                out[f'mask-rcnn_{net}_fpn_ms-crop-3x_coco'] = (params, 0.01 * params)
    table4 = {
        'cascade-mask-rcnn': (83, 80),
        'atss': (33, 30),
        'gfl': (33, 30),
        'sparse-rcnn': (107, 104)
    }
    for fam, (b2, b2li) in table4.items():
        for arch, params in (('b2', b2), ('b2-li', b2li)):
            name = (f'sparse-rcnn_pvtv2-{arch}_fpn_300-proposals_crop-ms-480-800-3x_coco'
                    if fam == 'sparse-rcnn' else f'{fam}_pvtv2-{arch}_fpn_ms-crop-3x_coco')
            out[name] = (params, 0.5)
    out['retinanet_pvt-s_fpn_1x_coco-640'] = out['retinanet_pvt-s_fpn_1x_coco']
    return out


PAPER_PARAMS = _paper_params()


def test_model_index_lists_every_config_once():
    shipped = {osp.relpath(p, ROOT) for p in glob.glob(osp.join(CONFIGS, 'pvt*/*.py'))}
    listed = [m['Config'] for m in MODELS]
    assert sorted(listed) == sorted(shipped)  # every config, each once, nothing else
    assert all(m['Name'] == osp.basename(m['Config'])[:-3] for m in MODELS)
    for path in {osp.dirname(m['Config']) for m in MODELS}:  # each folder's model-zoo page
        with open(osp.join(ROOT, path, 'metafile.yml')) as f:
            collections = yaml.safe_load(f)['Collections']
        assert {c['README'] for c in collections} == {f'{path}/README.md'}
        assert osp.isfile(osp.join(ROOT, path, 'README.md'))
    assert set(PAPER_PARAMS) <= {m['Name'] for m in MODELS}
    # The model-index library (what `mim search` reads) parses the index the same way.
    modelindex = pytest.importorskip('modelindex')
    index = modelindex.load(osp.join(ROOT, 'model-index.yml'))
    assert sorted(m.config for m in index.models) == sorted(listed)


@pytest.mark.parametrize('meta', MODELS, ids=[m['Name'] for m in MODELS])
def test_config_builds_as_listed(meta):
    """Every config: its model-index entry (backbone, weights, batch, schedule, precision,
    parameters: the papers' where published) and, for the papers' configs, the official recipe."""
    name, info = meta['Name'], meta['Metadata']
    cfg = Config.fromfile(osp.join(ROOT, meta['Config']))
    assert 'pvt_mm' in cfg.custom_imports.imports
    hooks = [h.type for h in cfg.custom_hooks]
    assert 'RNGStateHook' in hooks and 'CheckpointFitHook' in hooks
    backbone = cfg.model.backbone
    size = re.search(r'_pvt(v2)?-(\w+?(-li)?)_', name)[2]
    v1 = size in ARCH
    assert backbone.type == ('PVT' if v1 else 'PVTv2')
    assert backbone.arch == (ARCH[size] if v1 else size) and backbone.drop_path_rate == 0.1
    ckpt = (f'pvt_{ARCH[size]}.pth' if v1 else f'pvt_v2_{size.replace("-", "_")}.pth')
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=URL + ckpt)
    assert info['Pretrained Backbone'] == URL + ckpt
    gpus = int(info['Training Resources'].split('x')[0])
    assert info['Batch Size'] == gpus * cfg.train_dataloader.batch_size
    if name.startswith(FRAMEWORK_PREFIXES):  # no PVTv2 number published
        assert 'Results' not in meta and 'Weights' not in meta
    assert info.get('Epochs',
                    info.get('Iterations')) == cfg.train_cfg.get('max_epochs',
                                                                 cfg.train_cfg.get('max_iters'))
    amp = cfg.optim_wrapper.get('type') == 'AmpOptimWrapper'
    assert amp == ('Mixed Precision Training' in info['Training Techniques'])
    if name in OFFICIAL:  # a paper's config (parsing takes a second: once per config)
        assert_official_recipe(name, cfg)
    if name.endswith('_fpn_ms-crop-3x_coco'):  # AdamW's official betas, the 1333x800 test resize
        assert cfg.optim_wrapper.optimizer.betas == (0.9, 0.999)
        test = {t.type: t for t in cfg.test_dataloader.dataset.pipeline}
        assert test['Resize'].scale == (1333, 800) and test['Resize'].keep_ratio
    with torch.device('meta'):  # the same modules, without allocating and initialising weights
        params = sum(p.numel() for p in build_model(cfg).parameters())
    assert params == info['Parameters']
    if name in PAPER_PARAMS:
        paper, tolerance = PAPER_PARAMS[name]
        assert abs(params / 1e6 - paper) <= tolerance, (params, paper)


def test_every_paper_config_has_an_official_recipe_row():
    paper = {
        osp.basename(p)[:-3]
        for p in glob.glob(osp.join(CONFIGS, 'pvt*', '*.py'))
        if not osp.basename(p).startswith(FRAMEWORK_PREFIXES)
    }
    assert paper == set(OFFICIAL)
    assert {key for _, key in OFFICIAL.values()} == set(RECIPES)


def assert_official_recipe(name, cfg):
    """The resolved config carries its official file's recipe (tests/official_recipes.py)."""
    official_file, key = OFFICIAL[name]
    wrapper, loop = cfg.optim_wrapper, cfg.train_cfg
    schedulers = cfg.param_scheduler
    schedulers = list(schedulers) if isinstance(schedulers, (list, tuple)) else [schedulers]
    warmup = 0
    if schedulers[0].type == 'LinearLR':
        first = schedulers.pop(0)
        assert (first.start_factor, first.by_epoch, first.begin) == (0.001, False, 0), name
        warmup = first.end
    (main, ) = schedulers
    length = loop.get('max_epochs', loop.get('max_iters'))
    if main.type == 'PolyLR':
        assert (main.power, main.eta_min, main.by_epoch, main.end) == (0.9, 0.0, False, length)
        milestones = 'poly'
    else:
        assert (main.type, main.by_epoch, main.gamma, main.end) == ('MultiStepLR', True, 0.1,
                                                                    length), name
        milestones = main.milestones
    custom_keys = wrapper.get('paramwise_cfg', {}).get('custom_keys')
    got = Recipe(wrapper.optimizer.type, wrapper.optimizer.lr, wrapper.optimizer.weight_decay,
                 cfg.train_dataloader.batch_size, cfg.auto_scale_lr.base_batch_size, length,
                 milestones, warmup, 'amp' if wrapper.get('type') == 'AmpOptimWrapper' else 'fp32',
                 (wrapper.get('clip_grad') or {}).get('max_norm'),
                 custom_keys.to_dict() if custom_keys is not None else None)
    want = RECIPES[key]
    assert got == want._replace(lr=pytest.approx(want.lr, rel=1e-12)), official_file
    if got.precision == 'amp':
        assert wrapper.loss_scale == 'dynamic'


def test_detection_models_and_pipelines():
    for fam, start_level in [('retinanet', 1), ('mask-rcnn', 0)]:
        cfg = Config.fromfile(osp.join(CONFIGS, f'pvt/{fam}_pvt-s_fpn_1x_coco.py'))
        assert cfg.default_scope == 'mmdet'
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
    assert cfg.train_cfg.val_interval == 4000 and cfg.default_hooks.checkpoint.interval == 4000
    head = cfg.model.decode_head
    assert (head.type, head.channels, head.dropout_ratio, head.num_classes) == ('FPNHead', 128, 0.1,
                                                                                150)
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
    from pvt_mm.apis import load_config
    for path, cls in [(by_scope, 'RetinaNet'), (seg, 'EncoderDecoder')]:
        assert type(build_model(load_config(str(path)))).__name__ == cls


def test_tools_run_from_another_directory_with_scope_config(tmp_path, monkeypatch):
    """tools/test.py imports pvt_mm before parsing, so a pvt_mm:: config works from anywhere
    (a fresh process, as a user's); a bad config is reported by name (in this process)."""
    import subprocess
    import sys
    cfg = tmp_path / 'mine.py'
    cfg.write_text("_base_ = 'pvt_mm::pvt/retinanet_pvt-t_fpn_1x_coco.py'\n")
    proc = subprocess.run([
        sys.executable,
        osp.join(osp.dirname(CONFIGS), 'tools', 'test.py'),
        str(cfg),
        str(tmp_path / 'missing.pth')
    ],
                          cwd=tmp_path,
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0 and 'missing.pth' in proc.stderr
    assert 'pvt_mm::' not in proc.stderr  # the config itself parsed
    msg = in_process(monkeypatch, tmp_path, 'train.py', tmp_path / 'nope.py')
    assert msg == f'error: config file not found: {tmp_path / "nope.py"}', msg


def _3x(fam, arch):
    if fam == 'sparse-rcnn':
        return f'pvtv2/sparse-rcnn_pvtv2-{arch}_fpn_300-proposals_crop-ms-480-800-3x_coco.py'
    return f'pvtv2/{fam}_pvtv2-{arch}_fpn_ms-crop-3x_coco.py'


V2_ARCHS = ('b0', 'b1', 'b2', 'b2-li', 'b3', 'b4', 'b5')


def test_3x_heads_are_the_official_ones():
    cascade = Config.fromfile(osp.join(CONFIGS, _3x('cascade-mask-rcnn', 'b2'))).model
    assert cascade.roi_head.stage_loss_weights == [1, 0.5, 0.25]
    stds = [h.bbox_coder.target_stds for h in cascade.roi_head.bbox_head]
    assert stds == [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067]]
    for head in cascade.roi_head.bbox_head:
        assert (head.type, head.num_shared_convs, head.num_shared_fcs,
                head.fc_out_channels) == ('ConvFCBBoxHead', 4, 1, 1024)
        assert head.norm_cfg.type == 'SyncBN' and not head.reg_class_agnostic
        assert head.reg_decoded_bbox and head.loss_bbox == dict(type='GIoULoss', loss_weight=10.)
    assert cascade.neck.get('start_level', 0) == 0 and cascade.neck.num_outs == 5
    # ATSS and GFL: exactly mmdet's own models but for the backbone and the FPN's input widths.
    import mmdet
    mmdet_configs = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')
    for fam, mmdet_cfg in [('atss', 'atss/atss_r50_fpn_1x_coco.py'),
                           ('gfl', 'gfl/gfl_r50_fpn_1x_coco.py')]:
        ours = Config.fromfile(osp.join(CONFIGS, _3x(fam, 'b2'))).model.to_dict()
        ref = Config.fromfile(osp.join(mmdet_configs, mmdet_cfg)).model.to_dict()
        for model in (ours, ref):
            del model['backbone'], model['neck']['in_channels']
            model.pop('_scope_', None)  # set by mmengine on configs inherited via mmdet::
        assert ours == ref, fam
    atss = Config.fromfile(osp.join(CONFIGS, _3x('atss', 'b2'))).model
    assert (atss.neck.start_level, atss.neck.add_extra_convs,
            atss.neck.num_outs) == (1, 'on_output', 5)
    assert atss.bbox_head.loss_bbox.type == 'GIoULoss' and atss.test_cfg.nms.iou_threshold == 0.6
    gfl = Config.fromfile(osp.join(CONFIGS, _3x('gfl', 'b2'))).model.bbox_head
    assert (gfl.loss_cls.type, gfl.loss_cls.beta, gfl.loss_dfl.loss_weight,
            gfl.reg_max) == ('QualityFocalLoss', 2.0, 0.25, 16)


def test_sparse_rcnn_model():
    for arch in V2_ARCHS:
        cfg = Config.fromfile(osp.join(CONFIGS, _3x('sparse-rcnn', arch)))
        model = cfg.model
        assert (model.neck.start_level, model.neck.add_extra_convs,
                model.neck.num_outs) == (0, 'on_input', 4)
        assert model.rpn_head.num_proposals == 300 and model.roi_head.num_stages == 6
        assert cfg.optim_wrapper.clip_grad.norm_type == 2


def test_detr_and_retinanet_640_models_and_pipelines():
    detr = Config.fromfile(osp.join(CONFIGS, 'pvt/detr_pvt-s_8xb2-50e_coco.py'))
    assert detr.model.backbone.out_indices == (3, ) and detr.model.neck.in_channels == [512]
    assert detr.model.data_preprocessor.pad_size_divisor == 32
    train = [t.type for t in detr.train_dataloader.dataset.pipeline]
    assert train == [
        'LoadImageFromFile', 'LoadAnnotations', 'RandomChoiceResize', 'RandomFlip', 'PackDetInputs'
    ]  # resize, then flip; no crop branch
    scales = detr.train_dataloader.dataset.pipeline[2].scales
    assert scales == [(1333, s) for s in range(640, 801, 32)]
    r640 = Config.fromfile(osp.join(CONFIGS, 'pvt/retinanet_pvt-s_fpn_1x_coco-640.py'))
    for pipeline in (r640.train_dataloader.dataset.pipeline, r640.test_dataloader.dataset.pipeline,
                     r640.val_dataloader.dataset.pipeline):
        (resize, ) = [t for t in pipeline if t.type == 'Resize']
        assert resize.scale == (1066, 640) and resize.keep_ratio
    assert r640.tta_pipeline[1].transforms[0][0].scale == (1066, 640)
    assert r640.model.backbone.arch == 'small' and r640.train_cfg.max_epochs == 12


@pytest.mark.parametrize('rel', [_3x('atss', 'b0'), _3x('mask-rcnn', 'b0')])
def test_3x_train_pipeline_takes_both_branches(rel):
    """The config's own training pipeline on a toy image: flips, both branches (plain multi-scale
    keeps the aspect ratio; the crop branch changes it), short sides from 480-800, long <= 1333,
    boxes inside the image."""
    import numpy as np
    from mmdet.registry import TRANSFORMS
    from mmdet.structures.mask import BitmapMasks
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(CONFIGS, rel))
    steps = cfg.train_dataloader.dataset.pipeline[2:-1]  # after loading, before packing
    assert [s.type for s in steps] == ['RandomFlip', 'RandomChoice']
    pipeline = Compose([TRANSFORMS.build(s) for s in steps])
    rng = np.random.default_rng(0)
    aspects, flips, shorts = set(), set(), set()
    for _ in range(60):
        h, w = 300, 400
        boxes = np.array([[40, 50, 200, 220], [250, 30, 380, 150]], np.float32)
        masks = BitmapMasks(np.zeros((2, h, w), np.uint8), h, w)
        out = pipeline(
            dict(
                img=rng.integers(0, 255, (h, w, 3), np.uint8),
                img_shape=(h, w),
                ori_shape=(h, w),
                gt_bboxes=boxes,
                gt_masks=masks,
                gt_bboxes_labels=np.array([0, 1]),
                gt_ignore_flags=np.zeros(2, bool)))
        oh, ow = out['img'].shape[:2]
        assert out['img_shape'] == (oh, ow) and max(oh, ow) <= 1333
        shorts.add(min(oh, ow))
        aspects.add(round(ow / oh, 2) == round(w / h, 2))
        flips.add(out['flip'])
        b = np.asarray(
            out['gt_bboxes'].tensor if hasattr(out['gt_bboxes'], 'tensor') else out['gt_bboxes'])
        assert (b[:, 2] <= ow + 1e-3).all() and (b[:, 3] <= oh + 1e-3).all()
    assert aspects == {True, False} and flips == {True, False}
    assert shorts <= set(range(480, 801, 32)) and len(shorts) > 5


def test_3x_weight_decay_spares_layernorms_not_head_norms():
    """'norm' is a substring match: the backbone's LayerNorms get no weight decay, the cascade
    heads' SyncBN ('bn') layers and the other weights get 0.05, as in the official runs."""
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(osp.join(CONFIGS, _3x('cascade-mask-rcnn', 'b0')))
    model = build_model(cfg)
    cfg.optim_wrapper.type = 'OptimWrapper'
    cfg.optim_wrapper.pop('loss_scale')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {id(p): g['weight_decay'] for g in wrapper.optimizer.param_groups for p in g['params']}
    named = dict(model.named_parameters())
    ln = [n for n, m in model.named_modules() if type(m).__name__ == 'LayerNorm']
    bn = [n for n, m in model.named_modules() if 'BatchNorm' in type(m).__name__]
    assert ln and bn
    for n in ln:
        assert decay[id(named[n + '.weight'])] == 0 and decay[id(named[n + '.bias'])] == 0
    for n in bn:
        assert decay[id(named[n + '.weight'])] == 0.05, n
    assert decay[id(named['backbone.stages.0.blocks.0.attn.q.weight'])] == 0.05
    assert decay[id(named['roi_head.bbox_head.0.fc_cls.weight'])] == 0.05


def _imports_a_namespace_package(cwd):
    """Whether ``import pvt_mm`` from ``cwd`` finds a namespace package (a folder named pvt_mm
    without ``__init__.py`` before the installed package): what a setuptools finder-style
    editable install (PVT_MM_EDITABLE=1) meets, where a regular install or a path-entry editable
    install is found first."""
    import subprocess
    import sys
    out = subprocess.run([sys.executable, '-c', 'import pvt_mm; print(pvt_mm.__file__)'],
                         cwd=cwd,
                         capture_output=True,
                         text=True,
                         check=True).stdout
    return out.strip() == 'None'


def test_clone_named_pvt_mm_in_the_current_directory(tmp_path):
    """From the folder that holds a clone named pvt_mm, a finder-style editable install
    (PVT_MM_EDITABLE=1 with current setuptools) loses to the clone's folder, which Python
    imports as an empty namespace package: pvt_mm says so and how to fix it, instead of
    mmengine's 'does not support to load pvt_mm config'. The README's regular install (or a
    path-entry editable one) is found first, so there the config loads. From the project
    folder, and with our tools from anywhere, it loads either way."""
    import subprocess
    import sys
    (tmp_path / 'pvt_mm').symlink_to(ROOT)
    project = tmp_path / 'my_project' / 'configs'
    project.mkdir(parents=True)
    (project / 'my_retinanet.py').write_text(
        "_base_ = 'pvt_mm::pvt/retinanet_pvt-t_fpn_1x_coco.py'\n"
        "model = dict(bbox_head=dict(num_classes=20))\n")
    code = ("from pvt_mm.apis import load_config; "
            "print(load_config('{}').model.bbox_head.num_classes)")
    proc = subprocess.run([sys.executable, '-c',
                           code.format('my_project/configs/my_retinanet.py')],
                          cwd=tmp_path,
                          capture_output=True,
                          text=True)
    if _imports_a_namespace_package(tmp_path):
        assert proc.returncode != 0
        assert f'found the folder {tmp_path / "pvt_mm"}' in proc.stderr
        assert 'Run from another directory' in proc.stderr and 'does not support' not in proc.stderr
    else:
        assert proc.returncode == 0 and proc.stdout.strip() == '20', proc.stderr[-2000:]
    # The check itself, as an editable install meets it: a namespace package named pvt_mm whose
    # path starts with the clone's folder, its submodules found in the installed package.
    import pvt_mm
    path = [str(tmp_path / 'pvt_mm'), osp.dirname(pvt_mm.__file__)]
    shadow = ('import sys, types; package = types.ModuleType("pvt_mm"); '
              f'package.__path__ = {path!r}; sys.modules["pvt_mm"] = package; '
              'import pvt_mm.compat')
    proc = subprocess.run([sys.executable, '-c', shadow],
                          cwd=tmp_path,
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0 and f'found the folder {tmp_path / "pvt_mm"}' in proc.stderr
    proc = subprocess.run(
        [sys.executable, '-c', code.format('configs/my_retinanet.py')],
        cwd=tmp_path / 'my_project',
        capture_output=True,
        text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == '20', proc.stderr[-2000:]
    proc = subprocess.run([
        sys.executable, 'pvt_mm/tools/test.py', 'my_project/configs/my_retinanet.py', 'missing.pth'
    ],
                          cwd=tmp_path,
                          capture_output=True,
                          text=True)
    assert proc.stderr.strip().splitlines()[-1] == 'error: checkpoint not found: missing.pth'


def _readme_block(first_line):
    """The README's code block that starts with ``first_line``."""
    with open(osp.join(ROOT, 'README.md')) as f:
        readme = f.read()
    start = readme.index(first_line)
    return readme[start:readme.index('```', start)]


def test_readme_downstream_config_trains_on_a_custom_coco_dataset(tmp_path, monkeypatch, capsys):
    """The README's complete downstream config, as written there, on a COCO-format dataset in
    the layout it names: trains an epoch and writes COCO AP (with its classes left out of
    metainfo, mmdet would have nothing to train on); tools/train.py runs in this process."""
    import shutil

    from pvt_mm.datasets import generate_toy_data
    from tools_helper import tool_in_process
    block = _readme_block('# my_project/configs/retinanet_pvtv2-b2_fpn_1x_shapes.py')
    path = tmp_path / 'my_project' / 'configs' / 'retinanet_pvtv2-b2_fpn_1x_shapes.py'
    path.parent.mkdir(parents=True)
    path.write_text(block)
    toy = generate_toy_data(str(tmp_path / 'toy'), num_train=4, num_val=2, size=(128, 160))
    shapes = tmp_path / 'data' / 'shapes'
    (shapes / 'annotations').mkdir(parents=True)
    for coco_split, split in (('train', 'train'), ('val', 'val')):
        shutil.copy(f'{toy}/coco/annotations/instances_{coco_split}2017.json',
                    shapes / 'annotations' / f'{split}.json')
        shutil.copytree(f'{toy}/coco/{coco_split}2017', shapes / 'images' / split)
    small = [
        f'{split}_dataloader.{k}' for split in ('train', 'val', 'test')
        for k in ('num_workers=0', 'persistent_workers=False')
    ]
    out = tool_in_process(
        monkeypatch,
        capsys,
        tmp_path,
        'train.py',
        path,
        '--work-dir',
        tmp_path / 'work',
        '--cfg-options',
        'model.backbone.init_cfg=None',
        'train_cfg.max_epochs=1',  # offline
        'train_dataloader.batch_size=2',
        'train_dataloader.dataset.pipeline.2.scale=(160,128)',
        'val_dataloader.dataset.pipeline.1.scale=(160,128)',
        'model.test_cfg.score_thr=0.0',  # an untrained model's boxes
        *small)
    assert re.search(r'Epoch\(train\) +\[1\]\[2/2\]', out), out[-3000:]
    assert re.search(r'coco/bbox_mAP: \d\.\d+', out), out[-3000:]


def test_tools_config_text_is_the_config_unformatted():
    """The text the tools log and dump into the work dir (not yapf-formatted: pvt_mm.cli) reads
    back as the same config."""
    from pvt_mm import cli
    cfg = cli.load_config(
        osp.join(CONFIGS, 'pvtv2/mask-rcnn_pvtv2-b0_fpn_ms-crop-3x_coco.py'), work_dir='work')
    text = cfg.pretty_text
    assert 'auto_scale_lr=dict(\n    base_batch_size=16,' in text  # a key per line, no yapf
    assert Config.fromstring(text, '.py').to_dict() == cfg.to_dict()
