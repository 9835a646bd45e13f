# RetinaNet PVT-Large, 1x (official retinanet_pvt_l_fpn_1x_coco.py): the 1x RetinaNet recipe (2
# images per GPU, lr 1e-4) in mixed precision, as the official run (apex fp16 O1).
_base_ = './retinanet_pvt-t_fpn_1x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_large.pth'
model = dict(backbone=dict(arch='large', init_cfg=dict(checkpoint=checkpoint_file)))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
