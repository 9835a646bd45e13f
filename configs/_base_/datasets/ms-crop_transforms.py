# The PVTv2 3x recipe's training augmentation (official configs; "from DETR / Sparse R-CNN"):
# flip 0.5, then one of two branches at random:
#   (a) keep-ratio resize to a short side of 480, 512, ..., 800 (long side <= 1333);
#   (b) keep-ratio resize to a short side of 400 / 500 / 600, a random crop of 384-600 pixels a
#       side (`absolute_range`, crops without boxes allowed), then (a).
# Shared by coco_detection_ms-crop.py and coco_instance_ms-crop.py.
ms_scales = [(480, 1333), (512, 1333), (544, 1333), (576, 1333), (608, 1333), (640, 1333),
             (672, 1333), (704, 1333), (736, 1333), (768, 1333), (800, 1333)]
ms_crop_transforms = [
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[
            [dict(type='RandomChoiceResize', scales=ms_scales, keep_ratio=True)],
            [
                dict(
                    type='RandomChoiceResize',
                    scales=[(400, 1333), (500, 1333), (600, 1333)],
                    keep_ratio=True),
                dict(
                    type='RandomCrop',
                    crop_type='absolute_range',
                    crop_size=(384, 600),
                    allow_negative_crop=True),
                dict(type='RandomChoiceResize', scales=ms_scales, keep_ratio=True),
            ],
        ]),
]
