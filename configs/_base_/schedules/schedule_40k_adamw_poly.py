# 40k iterations, AdamW lr 2e-4, weight decay 1e-4, poly decay (power 0.9) to 0;
# mIoU and a checkpoint every 4k iterations, for 32 images/iter (8 GPUs x 4).
_base_ = 'mmseg::_base_/schedules/schedule_40k.py'
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.0002, weight_decay=0.0001),
    clip_grad=None)
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=40000, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000))
auto_scale_lr = dict(enable=False, base_batch_size=32)
