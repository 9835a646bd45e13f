# COCO panoptic 2017 read and evaluated as mmdet's panoptic configs do, without panopticapi (which
# is not on the package index): the pipelines of mmdet's panoptic configs with its
# LoadPanopticAnnotations replaced by pvt_mm's LoadCocoPanopticAnnotations (mmdet's class given
# the PNG id conversion), and the evaluator CocoPanopticMetricOrHotcoco (mmdet's
# CocoPanopticMetric where panopticapi can be imported, else pvt_mm's HotcocoPanopticMetric:
# the same metrics computed by hotcoco). See pvt_mm/panoptic.py.
# A panoptic config lists this file beside its mmdet base and takes the panoptic_* values it needs
# (every name starts with panoptic_ because two bases may not share a key).
panoptic_data_root = 'data/coco/'
# mmdet's _base_/datasets/coco_panoptic.py (Panoptic FPN 1x).
panoptic_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadCocoPanopticAnnotations', backend_args=None),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
panoptic_test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadCocoPanopticAnnotations', backend_args=None),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
# mmdet's panoptic_fpn/panoptic-fpn_r50_fpn_ms-3x_coco.py: shorter side in [640, 800].
panoptic_ms3x_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCocoPanopticAnnotations', with_bbox=True, with_mask=True, with_seg=True),
    dict(type='RandomResize', scale=[(1333, 640), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
# mmdet's mask2former/mask2former_r50_8xb2-lsj-50e_coco-panoptic.py: large-scale jitter.
panoptic_lsj_train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=None),
    dict(
        type='LoadCocoPanopticAnnotations',
        with_bbox=True,
        with_mask=True,
        with_seg=True,
        backend_args=None),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=(1024, 1024), ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_size=(1024, 1024),
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='PackDetInputs')
]
panoptic_evaluator = dict(
    type='CocoPanopticMetricOrHotcoco',
    ann_file=panoptic_data_root + 'annotations/panoptic_val2017.json',
    seg_prefix=panoptic_data_root + 'annotations/panoptic_val2017/',
    backend_args=None)
