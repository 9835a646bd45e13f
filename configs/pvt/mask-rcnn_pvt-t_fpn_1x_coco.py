_base_ = [
    '../_base_/models/mask-rcnn_pvt_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x_adamw.py',
    '../_base_/default_runtime_det.py',
]
# Mask R-CNN: AdamW lr 2e-4.
optim_wrapper = dict(optimizer=dict(lr=0.0002))
