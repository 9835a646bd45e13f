# Mask R-CNN PVT-Large, 1x (official mask_rcnn_pvt_l_fpn_1x_coco.py): the large-model recipe of the
# official repository, 1 image per GPU (8 GPUs x 1) at the Mask R-CNN lr / 1.4.
_base_ = './mask-rcnn_pvt-t_fpn_1x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_large.pth'
model = dict(backbone=dict(arch='large', init_cfg=dict(checkpoint=checkpoint_file)))
optim_wrapper = dict(optimizer=dict(lr=0.0002 / 1.4))
train_dataloader = dict(batch_size=1, num_workers=1)
auto_scale_lr = dict(base_batch_size=8)
