_base_ = [
    '../_base_/models/fpn_pvt.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/schedules/schedule_40k_adamw_poly.py',
    '../_base_/default_runtime_seg.py',
]
