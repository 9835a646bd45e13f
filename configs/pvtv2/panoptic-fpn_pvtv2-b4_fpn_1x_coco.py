_base_ = './panoptic-fpn_pvtv2-b2_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        arch='b4',
        init_cfg=dict(checkpoint='https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b4.pth')))
