# Learning check: the COCO panoptic Panoptic FPN PVTv2-b0 config (1x) shrunk for a CPU as the
# quickstarts are: the toy COCO panoptic data at 256x192 (3 thing classes, 1 stuff class), random
# init, a CPU schedule, and stuff segments kept from 1024 pixels (4096 in COCO's 1333x800).
_base_ = ['../pvtv2/panoptic-fpn_pvtv2-b0_fpn_1x_coco.py', '../_base_/datasets/toy.py']
model = dict(
    backbone=dict(init_cfg=None),
    roi_head=dict(bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)),
    semantic_head=dict(num_things_classes=3, num_stuff_classes=1),
    panoptic_fusion_head=dict(num_things_classes=3, num_stuff_classes=1),
    test_cfg=dict(panoptic=dict(stuff_area_limit=1024)))
data_root = _base_.toy_coco_root
train_pipeline = _base_.toy_panoptic_train_pipeline
test_pipeline = _base_.toy_panoptic_test_pipeline
train_dataloader = _base_.toy_panoptic_train_dataloader
val_dataloader = _base_.toy_panoptic_val_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.toy_panoptic_evaluator
test_evaluator = val_evaluator
train_cfg = _base_.toy_det_train_cfg
param_scheduler = _base_.toy_det_param_scheduler
optim_wrapper = _base_.toy_det_optim_wrapper
default_hooks = _base_.toy_det_default_hooks
randomness = dict(seed=0)
