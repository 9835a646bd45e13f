_base_ = './sparse-rcnn_pvtv2-b2_fpn_300-proposals_crop-ms-480-800-3x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b0.pth'
model = dict(
    backbone=dict(arch='b0', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[32, 64, 160, 256]))
