# Panoptic FPN (COCO panoptic segmentation) with PVTv2-b2, 1x: mmdet's
# panoptic-fpn_r50_fpn_1x_coco.py (Mask R-CNN plus a semantic FPN head for stuff, fused by
# HeuristicFusionHead; 1333x800, flip; 12 epochs, lr x0.1 at epochs 8 and 11; 8 GPUs x 2 images)
# with PVTv2-b2's four stages into the FPN and, instead of ResNet's SGD (lr 0.02), the optimizer
# of the PVTv2 paper's Mask R-CNN 1x (mask-rcnn_pvtv2-b2_fpn_1x_coco.py): AdamW lr 2e-4, weight
# decay 1e-4. Panoptic FPN is that Mask R-CNN with a semantic head, and PVTv2 is trained and
# fine-tuned with AdamW throughout the paper; SGD at ResNet's lr is untested with it.
# Panoptic annotations are loaded and PQ is evaluated without panopticapi
# (configs/_base_/datasets/coco_panoptic_without_panopticapi.py).
_base_ = [
    'mmdet::panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py', '../_base_/models/pvtv2_backbone.py',
    '../_base_/datasets/coco_panoptic_without_panopticapi.py'
]
model = dict(
    backbone=dict(_delete_=True, **_base_.pvtv2_backbone),
    neck=dict(in_channels=_base_.pvtv2_in_channels))
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=0.0002, weight_decay=0.0001))
train_pipeline = _base_.panoptic_train_pipeline
test_pipeline = _base_.panoptic_test_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = _base_.panoptic_evaluator
test_evaluator = val_evaluator
# What ../_base_/pvt_mm_plugin.py adds to other configs, set here because mmdet's base sets
# custom_hooks (to []) and two bases may not share a key.
custom_imports = dict(imports=['pvt_mm'], allow_failed_imports=False)
custom_hooks = [dict(type='RNGStateHook'), dict(type='CheckpointFitHook')]
