# DINO (4 scales) with PVTv2-b4, 24 epochs: the 12-epoch config with the schedule of mmdet's
# dino-4scale_r50_8xb2-24e_coco.py (lr x0.1 at epoch 20).
_base_ = './dino-4scale_pvtv2-b4_8xb2-12e_coco.py'
max_epochs = 24
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[20], gamma=0.1)
]
