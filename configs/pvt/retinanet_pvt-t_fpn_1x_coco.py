_base_ = [
    '../_base_/models/retinanet_pvt_fpn.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x_adamw.py',
    '../_base_/default_runtime_det.py',
]
