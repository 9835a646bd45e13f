# Learning check: the UperNet PVTv2-b0 config shrunk for a CPU as the quickstarts are (the toy
# ADE20K-layout data, 192x192 crops, 4 classes, random init, a CPU schedule) with a CPU-sized head
# (128 channels instead of 512) and, from random init, 10x the recipe's lr (6e-4).
_base_ = ['../pvtv2/upernet_pvtv2-b0_8xb2-160k_ade20k-512x512.py', '../_base_/datasets/toy.py']
model = dict(
    data_preprocessor=dict(size=_base_.toy_seg_crop_size),
    backbone=dict(init_cfg=None),
    decode_head=dict(channels=128, num_classes=4),
    auxiliary_head=dict(channels=64, num_classes=4))
data_root = _base_.toy_ade_root
crop_size = _base_.toy_seg_crop_size
train_pipeline = _base_.toy_ade_train_pipeline
test_pipeline = _base_.toy_ade_test_pipeline
train_dataloader = _base_.toy_ade_train_dataloader
val_dataloader = _base_.toy_ade_val_dataloader
test_dataloader = val_dataloader
max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=100)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=20),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=20, end=max_iters, by_epoch=False)
]
optim_wrapper = dict(optimizer=dict(lr=0.0006))
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=100, max_keep_ckpts=2))
randomness = dict(seed=0)
