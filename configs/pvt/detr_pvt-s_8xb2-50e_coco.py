# DETR with PVT-Small (PVT v1 paper; official detr_pvt_s_8x2_50ep_coco.py): mmdet's DETR with the
# last PVT-S stage (512 channels) as its only feature map, images padded to multiples of 32;
# AdamW lr 1e-4, weight decay 1e-4, backbone lr x0.1, gradient clipping at norm 0.1; 50 epochs,
# lr x0.1 at epoch 33, no warm-up; training resizes to a short side of 640, 672, ..., 800 (long
# side <= 1333), then flips (no crop branch, unlike mmdet's DETR); 8 GPUs x 2 images.
_base_ = ['mmdet::detr/detr_r50_8xb2-150e_coco.py', '../_base_/pvt_mm_plugin.py']
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        type='PVT',
        arch='small',
        out_indices=(3, ),
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/whai362/PVT/releases/download/v2/pvt_small.pth')),
    neck=dict(in_channels=[512]))
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768), (1333, 800)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
max_epochs = 50
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[33], gamma=0.1)
]
