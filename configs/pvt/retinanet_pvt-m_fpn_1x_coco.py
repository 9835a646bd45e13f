_base_ = './retinanet_pvt-t_fpn_1x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_medium.pth'
model = dict(backbone=dict(arch='medium', init_cfg=dict(checkpoint=checkpoint_file)))
