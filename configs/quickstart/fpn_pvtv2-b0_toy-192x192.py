# Quickstart: the ADE20K Semantic FPN PVTv2-b0 config, shrunk to the built-in toy dataset (written
# to data/toy on first use by tools/train.py, in ADE20K's layout): 192x192 crops, 4 classes
# (background, square, circle, triangle: pvt_mm.datasets.toy.SEG_CLASSES), random init, CPU
# schedule, and a CPU-sized neck (128 FPN channels instead of 256: the full-width neck takes over
# half of a training step at this size).
# mmseg's generic BaseSegDataset reads it with those names (labels 1-4, 0 unused).
_base_ = ['../pvtv2/fpn_pvtv2-b0_8xb4-40k_ade20k-512x512.py', '../_base_/datasets/toy.py']
max_iters = 200
model = dict(
    data_preprocessor=dict(size=_base_.toy_seg_crop_size),
    backbone=dict(init_cfg=None),
    neck=dict(out_channels=128),
    decode_head=dict(in_channels=[128, 128, 128, 128], num_classes=4))
data_root = _base_.toy_ade_root
crop_size = _base_.toy_seg_crop_size
train_pipeline = _base_.toy_ade_train_pipeline
test_pipeline = _base_.toy_ade_test_pipeline
train_dataloader = _base_.toy_ade_train_dataloader
val_dataloader = _base_.toy_ade_val_dataloader
test_dataloader = val_dataloader
train_cfg = dict(max_iters=max_iters, val_interval=50)
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters, by_epoch=False)
]
optim_wrapper = dict(optimizer=dict(lr=0.0005))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=50, max_keep_ckpts=2))
randomness = dict(seed=0)
