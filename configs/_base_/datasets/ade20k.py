# ADE20K (150 classes, label 0 ignored via reduce_zero_label): 512x512 crops of images resized
# to scale (2048, 512) x [0.5, 2.0], flip 0.5, photometric distortion; 4 images per GPU
# (8 GPUs x 4). Test: keep-ratio resize to (2048, 512) with sides rounded up to multiples of 32
# (the official "AlignResize"), whole-image inference.
_base_ = 'mmseg::_base_/datasets/ade20k.py'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='AlignResize', scale=(2048, 512), keep_ratio=True, size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=4, num_workers=4)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
