_base_ = './mask2former_pvtv2-b2_8xb2-lsj-50e_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b0.pth'
model = dict(
    backbone=dict(arch='b0', init_cfg=dict(checkpoint=checkpoint_file)),
    panoptic_head=dict(in_channels=[32, 64, 160, 256]))
