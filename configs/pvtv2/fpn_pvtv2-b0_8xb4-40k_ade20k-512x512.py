_base_ = [
    '../_base_/models/fpn_pvt.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/schedules/schedule_40k_adamw_poly.py',
    '../_base_/default_runtime_seg.py',
]
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b0.pth'
model = dict(
    backbone=dict(type='PVTv2', arch='b0', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[32, 64, 160, 256]))
