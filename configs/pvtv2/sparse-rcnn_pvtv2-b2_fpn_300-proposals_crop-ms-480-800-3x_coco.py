# Sparse R-CNN PVTv2-b2, 300 proposals, 3x with multi-scale + crop training (official
# sparse_rcnn_pvt_v2_b2_fpn_300_proposals_crop_mstrain_480-800_3x_coco.py): mmdet's own config of
# that recipe (FPN from level 0, 4 outputs; 6 stages; AdamW weight decay 1e-4, gradient clipping
# at norm 1; 36 epochs, lr x0.1 at 27 and 33, fp32) with PVTv2-b2 and the official b2 batch: lr
# 2.5e-5 / 1.4 for 8 GPUs x 1 image.
_base_ = [
    'mmdet::sparse_rcnn/sparse-rcnn_r50_fpn_300-proposals_crop-ms-480-800-3x_coco.py',
    '../_base_/pvt_mm_plugin.py',
]
model = dict(
    backbone=dict(
        _delete_=True,
        type='PVTv2',
        arch='b2',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2.pth')),
    neck=dict(in_channels=[64, 128, 320, 512]))
optim_wrapper = dict(optimizer=dict(lr=0.000025 / 1.4))
train_dataloader = dict(batch_size=1, num_workers=1)
auto_scale_lr = dict(base_batch_size=8)
