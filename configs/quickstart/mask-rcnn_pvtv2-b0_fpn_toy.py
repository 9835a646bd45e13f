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
train_cfg = _base_.toy_det_train_cfg
param_scheduler = _base_.toy_det_param_scheduler
optim_wrapper = _base_.toy_det_optim_wrapper
default_hooks = _base_.toy_det_default_hooks
randomness = dict(seed=0)
