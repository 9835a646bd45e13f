# Mask2Former (COCO panoptic segmentation, 80 thing + 53 stuff classes) with PVTv2-b2: the recipe
# of mmdet's mask2former_swin-t-p4-w7-224_8xb2-lsj-50e_coco-panoptic.py (that of the instance
# config, mask2former_pvtv2-b2_8xb2-lsj-50e_coco.py, with the panoptic head and data), with
# PVTv2-b2's backbone, widths and norm keys as in the instance config. The Swin-T config is
# mmdet's R-50 panoptic config plus Swin's backbone and Swin's parameter names in custom_keys;
# inheriting the R-50 one leaves no Swin setting in the resolved config (tests/test_frameworks.py
# checks that the recipe is Swin-T's). Panoptic annotations are loaded and PQ is evaluated
# without panopticapi (configs/_base_/datasets/coco_panoptic_without_panopticapi.py); the
# instance metrics (bbox, segm AP on instances_val2017.json) are mmdet's CocoMetric, as in mmdet.
_base_ = [
    'mmdet::mask2former/mask2former_r50_8xb2-lsj-50e_coco-panoptic.py',
    '../_base_/pvt_mm_plugin.py', '../_base_/models/pvtv2_backbone.py',
    '../_base_/datasets/coco_panoptic_without_panopticapi.py'
]
model = dict(
    backbone=dict(_delete_=True, **_base_.pvtv2_backbone),
    panoptic_head=dict(in_channels=_base_.pvtv2_in_channels))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.pvtv2_norm_keys))
train_pipeline = _base_.panoptic_lsj_train_pipeline
test_pipeline = _base_.panoptic_test_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    _base_.panoptic_evaluator,
    dict(
        type='CocoMetric',
        ann_file=_base_.panoptic_data_root + 'annotations/instances_val2017.json',
        metric=['bbox', 'segm'],
        backend_args=None)
]
test_evaluator = val_evaluator
