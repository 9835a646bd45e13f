# Quickstart: the COCO RetinaNet PVTv2-b0 config, shrunk to the built-in toy dataset (written to
# data/toy on first use by tools/train.py): 256x192 images, 3 classes, random init, CPU schedule,
# and a CPU-sized head: 128 FPN/head channels, 2 stacked convs, with GroupNorm, without which
# RetinaNet's head trains poorly from scratch (bbox AP50 < 0.1 after 20 epochs; 0.95 with it).
_base_ = ['../pvtv2/retinanet_pvtv2-b0_fpn_1x_coco.py', '../_base_/datasets/toy.py']
model = dict(
    backbone=dict(init_cfg=None),
    neck=dict(out_channels=128),
    bbox_head=dict(
        num_classes=3,
        in_channels=128,
        feat_channels=128,
        stacked_convs=2,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)))
data_root = _base_.toy_coco_root
train_pipeline = _base_.toy_coco_train_pipeline
test_pipeline = _base_.toy_coco_test_pipeline
train_dataloader = _base_.toy_coco_train_dataloader
val_dataloader = _base_.toy_coco_val_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.toy_coco_evaluator
test_evaluator = val_evaluator
train_cfg = _base_.toy_det_train_cfg
param_scheduler = _base_.toy_det_param_scheduler
optim_wrapper = _base_.toy_det_optim_wrapper
default_hooks = _base_.toy_det_default_hooks
randomness = dict(seed=0)
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='Resize', scale=_base_.toy_img_scale, keep_ratio=True)],
                    [dict(type='RandomFlip', prob=1.),
                     dict(type='RandomFlip', prob=0.)],
                    [dict(type='LoadAnnotations', with_bbox=True)],
                    [
                        dict(
                            type='PackDetInputs',
                            meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                       'scale_factor', 'flip', 'flip_direction'))
                    ]])
]
