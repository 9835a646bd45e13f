# Two-stage Deformable DETR with box refinement, with PVTv2-b2: mmdet's
# deformable-detr-refine-twostage_r50_16xb2-50e_coco.py as it is (AdamW lr 2e-4, weight decay
# 1e-4, lr x0.1 for the backbone and for the sampling offsets and reference points, gradient
# clipping at 0.1; 50 epochs, lr x0.1 at epoch 40; flip + DETR's multi-scale / crop augmentation;
# 16 GPUs x 2 images), with PVTv2-b2's stages 2-4 (128 / 320 / 512 channels at strides 8 / 16 /
# 32, where R-50 gives C3-C5) into the ChannelMapper. No stage is frozen and stochastic depth is
# 0.1, as in every PVTv2 detection recipe.
_base_ = [
    'mmdet::deformable_detr/deformable-detr-refine-twostage_r50_16xb2-50e_coco.py',
    '../_base_/pvt_mm_plugin.py'
]
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
