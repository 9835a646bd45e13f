# ATSS with PVTv2-b2 (PVTv2 paper's 3x configs, equal to mmdet's ATSS): RetinaNet's detector with
# one square anchor per location, adaptive training sample selection (top 9), a centerness
# branch, GIoU loss 2 and NMS at IoU 0.6; FPN from level 1 with extra convs on the outputs.
_base_ = './retinanet_pvt_fpn.py'
model = dict(
    type='ATSS',
    backbone=dict(
        type='PVTv2',
        arch='b2',
        init_cfg=dict(
            checkpoint='https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2.pth')),
    neck=dict(add_extra_convs='on_output'),
    bbox_head=dict(
        type='ATSSHead',
        anchor_generator=dict(ratios=[1.0], octave_base_scale=8, scales_per_octave=1),
        bbox_coder=dict(target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(
        _delete_=True,
        assigner=dict(type='ATSSAssigner', topk=9),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(nms=dict(iou_threshold=0.6)))
