# COCO 2017 boxes, 1333x800 keep-ratio resize, flip 0.5; 2 images per GPU (8 GPUs x 2 = 16).
_base_ = 'mmdet::_base_/datasets/coco_detection.py'
train_dataloader = dict(batch_size=2, num_workers=2)
# Flip test-time augmentation for `tools/test.py --tta` (boxes merged by NMS).
tta_model = dict(
    type='DetTTAModel', tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='Resize', scale=(1333, 800), keep_ratio=True)],
                    [dict(type='RandomFlip', prob=1.),
                     dict(type='RandomFlip', prob=0.)],
                    [dict(type='LoadAnnotations', with_bbox=True)],
                    [
                        dict(
                            type='PackDetInputs',
                            meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                       'scale_factor', 'flip', 'flip_direction'))
                    ]])
]
