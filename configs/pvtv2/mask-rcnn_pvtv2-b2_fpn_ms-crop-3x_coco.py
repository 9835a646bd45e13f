# Mask R-CNN PVTv2-b2, 3x with multi-scale + crop training (official
# mask_rcnn_pvt_v2_b2_fpn_3x_mstrain.py): the 1x model, the 3x recipe, fp32.
_base_ = [
    '../_base_/models/mask-rcnn_pvt_fpn.py',
    '../_base_/datasets/coco_instance_ms-crop.py',
    '../_base_/schedules/schedule_3x_adamw.py',
    '../_base_/default_runtime_det.py',
]
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2.pth'
model = dict(backbone=dict(type='PVTv2', arch='b2', init_cfg=dict(checkpoint=checkpoint_file)))
