# COCO 2017 boxes with the PVTv2 3x multi-scale + crop training augmentation
# (ms-crop_transforms.py); test 1333x800; 2 images per GPU.
_base_ = ['./coco_detection.py', './ms-crop_transforms.py']
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True), *_base_.ms_crop_transforms,
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
