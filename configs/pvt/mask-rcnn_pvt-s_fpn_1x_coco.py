_base_ = './mask-rcnn_pvt-t_fpn_1x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_small.pth'
model = dict(backbone=dict(arch='small', init_cfg=dict(checkpoint=checkpoint_file)))
