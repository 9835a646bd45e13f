# Learning check: the Mask2Former (COCO instance) PVTv2-b0 config shrunk for a CPU as the
# quickstarts are: the toy COCO data at 256x192 (padded to 256x256, not 1024x1024), 3 classes,
# random init, a CPU schedule, CPU-sized FFNs (512 channels in the pixel decoder and the
# transformer decoder instead of 1024 and 2048) and 3,136 sampled points per mask loss (not
# 12,544).
_base_ = ['../pvtv2/mask2former_pvtv2-b0_8xb2-lsj-50e_coco.py', '../_base_/datasets/toy.py']
num_classes = 3
model = dict(
    data_preprocessor=dict(batch_augments=[
        dict(
            type='BatchFixedSizePad',
            size=(256, 256),
            img_pad_value=0,
            pad_mask=True,
            mask_pad_value=0,
            pad_seg=False)
    ]),
    backbone=dict(init_cfg=None),
    panoptic_head=dict(
        num_things_classes=num_classes,
        pixel_decoder=dict(encoder=dict(layer_cfg=dict(ffn_cfg=dict(feedforward_channels=512)))),
        transformer_decoder=dict(layer_cfg=dict(ffn_cfg=dict(feedforward_channels=512))),
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])),
    panoptic_fusion_head=dict(num_things_classes=num_classes),
    train_cfg=dict(num_points=3136))
data_root = _base_.toy_coco_root
train_pipeline = _base_.toy_coco_instance_train_pipeline
test_pipeline = _base_.toy_coco_instance_test_pipeline
train_dataloader = _base_.toy_coco_instance_train_dataloader
val_dataloader = _base_.toy_coco_instance_val_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.toy_coco_evaluator
test_evaluator = val_evaluator
max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=100, dynamic_intervals=None)
param_scheduler = dict(end=max_iters, milestones=[300, 350])
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=100, max_keep_ckpts=2))
randomness = dict(seed=0)
