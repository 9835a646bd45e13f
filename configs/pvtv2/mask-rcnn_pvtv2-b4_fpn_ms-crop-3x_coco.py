_base_ = './mask-rcnn_pvtv2-b2_fpn_ms-crop-3x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b4.pth'
model = dict(backbone=dict(arch='b4', init_cfg=dict(checkpoint=checkpoint_file)))
