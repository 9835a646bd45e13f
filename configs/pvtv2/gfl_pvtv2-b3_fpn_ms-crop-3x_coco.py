_base_ = './gfl_pvtv2-b2_fpn_ms-crop-3x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b3.pth'
model = dict(backbone=dict(arch='b3', init_cfg=dict(checkpoint=checkpoint_file)))
