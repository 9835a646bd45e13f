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
train_cfg = dict(max_epochs=12, val_interval=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[9, 11], gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.0005))
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval=4, max_keep_ckpts=2))
randomness = dict(seed=0)
