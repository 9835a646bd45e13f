_base_ = './sparse-rcnn_pvtv2-b2_fpn_300-proposals_crop-ms-480-800-3x_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2_li.pth'
model = dict(backbone=dict(arch='b2-li', init_cfg=dict(checkpoint=checkpoint_file)))
# Official b2-li recipe: lr 2.5e-5 for 8 GPUs x 2 images (b2: 2.5e-5 / 1.4 for 8 x 1).
optim_wrapper = dict(optimizer=dict(lr=0.000025))
train_dataloader = dict(batch_size=2, num_workers=2)
auto_scale_lr = dict(base_batch_size=16)
