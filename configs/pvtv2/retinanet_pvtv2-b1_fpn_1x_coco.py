_base_ = './retinanet_pvtv2-b0_fpn_1x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b1.pth'
model = dict(
    backbone=dict(arch='b1', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[64, 128, 320, 512]))
