# Quickstart: the ADE20K Semantic FPN PVTv2-b0 config, shrunk to the built-in toy dataset (written
# to data/toy on first use by tools/train.py, in ADE20K's layout): 192x192 crops, 4 classes
# (background, square, circle, triangle: pvt_mm.datasets.toy.SEG_CLASSES), random init, CPU
# schedule. mmseg's generic BaseSegDataset reads it with those names (labels 1-4, 0 unused).
_base_ = '../pvtv2/fpn_pvtv2-b0_8xb4-40k_ade20k-512x512.py'
toy_data = dict(root='data/toy', num_train=64, num_val=16, size=(192, 256), seed=0)
data_root = 'data/toy/ade/ADEChallengeData2016'
metainfo = dict(classes=('background', 'square', 'circle', 'triangle'),
                palette=[(120, 120, 120), (220, 40, 40), (40, 200, 40), (30, 90, 220)])
crop_size = (192, 192)
max_iters = 400
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=None),
    decode_head=dict(num_classes=4))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(1024, 192), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='AlignResize', scale=(1024, 192), keep_ratio=True, size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
toy_dataset = dict(type='BaseSegDataset', data_root=data_root, metainfo=metainfo,
                   reduce_zero_label=True)
train_dataloader = dict(
    batch_size=4, num_workers=1, dataset=dict(**toy_dataset, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=1, dataset=dict(**toy_dataset, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=max_iters, val_interval=100)
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters, by_epoch=False)
]
optim_wrapper = dict(optimizer=dict(lr=0.0005))
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=100, max_keep_ckpts=2))
randomness = dict(seed=0)
