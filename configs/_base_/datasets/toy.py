# The toy dataset of the quickstart configs (pvt_mm.datasets.generate_toy_data: coloured
# squares, circles and triangles on textured backgrounds, 64 training and 16 validation images of
# 256x192, in the COCO and the ADE20K layouts; tools/train.py writes it to data/toy on first use).
# A quickstart config lists this file as its second base and takes the toy_* values it needs
# (every name starts with toy_ because two bases may not share a key).
toy_data = dict(root='data/toy', num_train=64, num_val=16, size=(192, 256), seed=0)

# The detection quickstarts' CPU schedule (RetinaNet, Mask R-CNN, Panoptic FPN): 12 epochs of 16
# iterations, a 50-iteration warm-up, lr x0.1 at epochs 9 and 11, AdamW lr 5e-4, validation and
# a checkpoint every 4 epochs.
toy_det_train_cfg = dict(max_epochs=12, val_interval=4)
toy_det_param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[9, 11], gamma=0.1)
]
toy_det_optim_wrapper = dict(optimizer=dict(lr=0.0005))
toy_det_default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval=4, max_keep_ckpts=2))

# COCO layout, 3 classes: keep-ratio resize to 256x192, flip; 4 images per batch.
toy_coco_root = 'data/toy/coco/'
toy_coco_dataset = dict(
    data_root=toy_coco_root, metainfo=dict(classes=('square', 'circle', 'triangle')))
toy_img_scale = (256, 192)
toy_test_meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')
toy_coco_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=toy_img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
toy_coco_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=toy_img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=toy_test_meta_keys)
]
toy_coco_instance_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=toy_img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
toy_coco_instance_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=toy_img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=toy_test_meta_keys)
]
toy_coco_train_dataloader = dict(
    batch_size=4, num_workers=1, dataset=dict(**toy_coco_dataset, pipeline=toy_coco_train_pipeline))
toy_coco_val_dataloader = dict(
    batch_size=4, num_workers=1, dataset=dict(**toy_coco_dataset, pipeline=toy_coco_test_pipeline))
toy_coco_instance_train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(**toy_coco_dataset, pipeline=toy_coco_instance_train_pipeline))
toy_coco_instance_val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(**toy_coco_dataset, pipeline=toy_coco_instance_test_pipeline))
toy_coco_evaluator = dict(ann_file=toy_coco_root + 'annotations/instances_val2017.json')

# ADE20K layout, 4 classes (label 0, ADE20K's "other", is unused: background is a class to
# learn), read with mmseg's generic BaseSegDataset: 192x192 crops of images resized to
# (1024, 192) x [0.5, 2.0], flip, photometric distortion, 4 images per batch; testing on the
# whole image resized to (1024, 192) with sides rounded up to multiples of 32. The palette
# contrasts with each class's own colour, so that correct masks show in drawn predictions.
toy_ade_root = 'data/toy/ade/ADEChallengeData2016'
toy_seg_crop_size = (192, 192)
toy_ade_dataset = dict(
    type='BaseSegDataset',
    data_root=toy_ade_root,
    metainfo=dict(
        classes=('background', 'square', 'circle', 'triangle'),
        palette=[(40, 40, 40), (0, 255, 255), (255, 0, 255), (255, 255, 0)]),
    reduce_zero_label=True)
toy_ade_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(1024, 192), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=toy_seg_crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
toy_ade_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='AlignResize', scale=(1024, 192), keep_ratio=True, size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
toy_ade_train_dataloader = dict(
    batch_size=4, num_workers=1, dataset=dict(**toy_ade_dataset, pipeline=toy_ade_train_pipeline))
toy_ade_val_dataloader = dict(
    batch_size=1, num_workers=1, dataset=dict(**toy_ade_dataset, pipeline=toy_ade_test_pipeline))

# COCO panoptic layout (the same images): the shapes are things, the background is stuff, a
# one-pixel ring around each shape is unlabelled; read and evaluated without panopticapi
# (configs/_base_/datasets/coco_panoptic_without_panopticapi.py). mmdet's CocoPanopticDataset
# finds annotations/panoptic_{train,val}2017.json and the PNG folders under the data root.
toy_panoptic_dataset = dict(
    type='CocoPanopticDataset',
    data_root=toy_coco_root,
    metainfo=dict(
        classes=('square', 'circle', 'triangle', 'background'),
        thing_classes=('square', 'circle', 'triangle'),
        stuff_classes=('background', )))
toy_panoptic_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCocoPanopticAnnotations'),
    dict(type='Resize', scale=toy_img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
toy_panoptic_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=toy_img_scale, keep_ratio=True),
    dict(type='LoadCocoPanopticAnnotations'),
    dict(type='PackDetInputs', meta_keys=toy_test_meta_keys)
]
toy_panoptic_train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(**toy_panoptic_dataset, pipeline=toy_panoptic_train_pipeline))
toy_panoptic_val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(**toy_panoptic_dataset, pipeline=toy_panoptic_test_pipeline))
toy_panoptic_evaluator = dict(
    type='CocoPanopticMetricOrHotcoco',
    ann_file=toy_coco_root + 'annotations/panoptic_val2017.json',
    seg_prefix=toy_coco_root + 'annotations/panoptic_val2017/')
