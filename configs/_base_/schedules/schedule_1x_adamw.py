# 1x: 12 epochs, lr x0.1 at epochs 8 and 11, 500-iteration linear warm-up from 0.001;
# AdamW lr 1e-4 (RetinaNet; Mask R-CNN configs use 2e-4), weight decay 1e-4, for 16 images/iter.
_base_ = 'mmdet::_base_/schedules/schedule_1x.py'
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(_delete_=True, type='AdamW', lr=0.0001, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=16)
