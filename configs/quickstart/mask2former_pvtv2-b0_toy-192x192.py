# Learning check: the Mask2Former (ADE20K) PVTv2-b0 config shrunk for a CPU as the quickstarts
# are: the toy ADE20K-layout data, 192x192 crops, 4 classes, random init, a CPU schedule,
# CPU-sized FFNs (512 channels in the pixel decoder and the transformer decoder instead of 1024
# and 2048) and 3,136 sampled points per mask loss (not 12,544).
_base_ = ['../pvtv2/mask2former_pvtv2-b0_8xb2-160k_ade20k-512x512.py', '../_base_/datasets/toy.py']
num_classes = 4
model = dict(
    data_preprocessor=dict(size=_base_.toy_seg_crop_size),
    backbone=dict(init_cfg=None),
    decode_head=dict(
        num_classes=num_classes,
        pixel_decoder=dict(encoder=dict(layer_cfg=dict(ffn_cfg=dict(feedforward_channels=512)))),
        transformer_decoder=dict(layer_cfg=dict(ffn_cfg=dict(feedforward_channels=512))),
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1]),
        train_cfg=dict(num_points=3136)))
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
    dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters, by_epoch=False)
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=100, max_keep_ckpts=2))
randomness = dict(seed=0)
