# COCO 2017 boxes and masks, 1333x800 keep-ratio resize, flip 0.5; 2 images per GPU.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'
train_dataloader = dict(batch_size=2, num_workers=2)
