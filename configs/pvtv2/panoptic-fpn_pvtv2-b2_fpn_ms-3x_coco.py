# Panoptic FPN with PVTv2-b2, 3x: the 1x config with mmdet's panoptic-fpn_r50_fpn_ms-3x_coco.py
# changes (shorter side in [640, 800]; 36 epochs, lr x0.1 at epochs 24 and 33) and the optimizer
# of the PVTv2 paper's 3x detectors (mask-rcnn_pvtv2-b2_fpn_ms-crop-3x_coco.py): AdamW lr 1e-4,
# weight decay 0.05, none on the backbone's LayerNorms ('norm' matches no head parameter: the
# semantic head's GroupNorms are '...gn.weight').
_base_ = './panoptic-fpn_pvtv2-b2_fpn_1x_coco.py'
train_pipeline = _base_.panoptic_ms3x_train_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
train_cfg = dict(max_epochs=36, val_interval=3)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=36, by_epoch=True, milestones=[24, 33], gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(lr=0.0001, weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
