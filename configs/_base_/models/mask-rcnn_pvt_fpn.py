# Mask R-CNN with PVT-Tiny: FPN on the four stage widths from level 0, 5 outputs.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='PVT',
        arch='tiny',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/whai362/PVT/releases/download/v2/pvt_tiny.pth')),
    neck=dict(type='FPN', in_channels=[64, 128, 320, 512], out_channels=256, num_outs=5))
