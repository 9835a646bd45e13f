# Quickstart: the COCO Mask R-CNN PVTv2-b0 config, shrunk to the built-in toy dataset (written to
# data/toy on first use by tools/train.py): 256x192 images, 3 classes, random init, CPU schedule.
_base_ = ['../pvtv2/mask-rcnn_pvtv2-b0_fpn_1x_coco.py', '../_base_/datasets/toy.py']
model = dict(
    backbone=dict(init_cfg=None),
    roi_head=dict(bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)))
data_root = _base_.toy_coco_root
train_pipeline = _base_.toy_coco_instance_train_pipeline
test_pipeline = _base_.toy_coco_instance_test_pipeline
train_dataloader = _base_.toy_coco_instance_train_dataloader
val_dataloader = _base_.toy_coco_instance_val_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.toy_coco_evaluator
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=12, val_interval=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[9, 11], gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.0005))
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval=4, max_keep_ckpts=2))
randomness = dict(seed=0)
