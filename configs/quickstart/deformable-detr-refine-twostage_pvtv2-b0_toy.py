# Learning check: the two-stage Deformable DETR PVTv2-b0 config shrunk for a CPU as the quickstarts
# are: the toy COCO data at 256x192, 3 classes, random init, a CPU schedule, CPU-sized transformer
# FFNs (512 channels instead of 1024) and 100 queries for the toy scenes (at most 3 objects).
_base_ = [
    '../pvtv2/deformable-detr-refine-twostage_pvtv2-b0_16xb2-50e_coco.py',
    '../_base_/datasets/toy.py'
]
model = dict(
    num_queries=100,
    backbone=dict(init_cfg=None),
    encoder=dict(layer_cfg=dict(ffn_cfg=dict(feedforward_channels=512))),
    decoder=dict(layer_cfg=dict(ffn_cfg=dict(feedforward_channels=512))),
    bbox_head=dict(num_classes=3),
    test_cfg=dict(max_per_img=100))
data_root = _base_.toy_coco_root
train_pipeline = _base_.toy_coco_train_pipeline
test_pipeline = _base_.toy_coco_test_pipeline
train_dataloader = _base_.toy_coco_train_dataloader
val_dataloader = _base_.toy_coco_val_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.toy_coco_evaluator
test_evaluator = val_evaluator
max_epochs = 12  # DINO's short schedule: 12 epochs, lr x0.1 at epoch 11
train_cfg = dict(max_epochs=max_epochs, val_interval=4)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[11], gamma=0.1)
]
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval=4, max_keep_ckpts=2))
randomness = dict(seed=0)
