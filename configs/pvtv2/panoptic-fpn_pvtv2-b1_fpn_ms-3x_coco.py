_base_ = './panoptic-fpn_pvtv2-b2_fpn_ms-3x_coco.py'
model = dict(
    backbone=dict(
        arch='b1',
        init_cfg=dict(checkpoint='https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b1.pth')))
