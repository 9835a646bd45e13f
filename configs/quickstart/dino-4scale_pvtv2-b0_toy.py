# Learning check: the DINO PVTv2-b0 config shrunk for a CPU as the quickstarts are: the toy COCO
# data at 256x192, 3 classes, random init, a CPU schedule, CPU-sized transformer FFNs (512
# channels instead of 2048) and queries for the toy scenes (100, and 30 denoising queries, for at
# most 3 objects).
_base_ = ['../pvtv2/dino-4scale_pvtv2-b0_8xb2-12e_coco.py', '../_base_/datasets/toy.py']
model = dict(
    num_queries=100,
    backbone=dict(init_cfg=None),
    encoder=dict(layer_cfg=dict(ffn_cfg=dict(feedforward_channels=512))),
    decoder=dict(layer_cfg=dict(ffn_cfg=dict(feedforward_channels=512))),
    bbox_head=dict(num_classes=3),
    dn_cfg=dict(group_cfg=dict(num_dn_queries=30)),
    test_cfg=dict(max_per_img=100))
data_root = _base_.toy_coco_root
train_pipeline = _base_.toy_coco_train_pipeline
test_pipeline = _base_.toy_coco_test_pipeline
train_dataloader = _base_.toy_coco_train_dataloader
val_dataloader = _base_.toy_coco_val_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.toy_coco_evaluator
test_evaluator = val_evaluator
train_cfg = dict(val_interval=4)  # the recipe's 12 epochs, lr x0.1 at epoch 11
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval=4, max_keep_ckpts=2))
randomness = dict(seed=0)
