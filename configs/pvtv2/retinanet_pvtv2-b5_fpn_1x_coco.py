# RetinaNet PVTv2-b5, 1x (official retinanet_pvt_v2_b5_fpn_1x_coco.py): b4's large-model recipe.
_base_ = './retinanet_pvtv2-b4_fpn_1x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b5.pth'
model = dict(backbone=dict(arch='b5', init_cfg=dict(checkpoint=checkpoint_file)))
