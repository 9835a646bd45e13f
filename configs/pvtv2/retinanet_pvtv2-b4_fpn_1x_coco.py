# RetinaNet PVTv2-b4, 1x (official retinanet_pvt_v2_b4_fpn_1x_coco.py): the large-model recipe of
# the official repository, 1 image per GPU (8 GPUs x 1) at the RetinaNet lr / 1.4.
_base_ = './retinanet_pvtv2-b1_fpn_1x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b4.pth'
model = dict(backbone=dict(arch='b4', init_cfg=dict(checkpoint=checkpoint_file)))
optim_wrapper = dict(optimizer=dict(lr=0.0001 / 1.4))
train_dataloader = dict(batch_size=1, num_workers=1)
auto_scale_lr = dict(base_batch_size=8)
