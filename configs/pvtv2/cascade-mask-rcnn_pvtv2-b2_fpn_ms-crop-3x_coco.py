# Cascade Mask R-CNN PVTv2-b2, 3x with multi-scale + crop training (official
# cascade_mask_rcnn_pvt_v2_b2_fpn_3x_mstrain_fp16.py; mixed precision as the official apex O1).
_base_ = [
    '../_base_/models/cascade-mask-rcnn_pvtv2_fpn.py',
    '../_base_/datasets/coco_instance_ms-crop.py',
    '../_base_/schedules/schedule_3x_adamw.py',
    '../_base_/default_runtime_det.py',
]
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
