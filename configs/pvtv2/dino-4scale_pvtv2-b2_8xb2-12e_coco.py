# DINO (4 scales) with PVTv2-b2: mmdet's dino-4scale_r50_8xb2-12e_coco.py as it is (AdamW lr
# 1e-4, weight decay 1e-4, backbone lr x0.1, gradient clipping at 0.1; 12 epochs, lr x0.1 at
# epoch 11, no warm-up; flip + DETR's multi-scale / crop augmentation; 8 GPUs x 2 images), with
# PVTv2-b2's stages 2-4 (128 / 320 / 512 channels at strides 8 / 16 / 32, where R-50 gives C3-C5)
# into the ChannelMapper. No stage is frozen and stochastic depth is 0.1, as in every PVTv2
# detection recipe (configs/pvtv2/README.md, "Beyond the papers").
_base_ = ['mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py', '../_base_/pvt_mm_plugin.py']
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='PVTv2',
        arch='b2',
        out_indices=(1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    neck=dict(in_channels=[128, 320, 512]))
