# 3x (PVTv2 official detection configs): 36 epochs, lr x0.1 at epochs 27 and 33, 500-iteration
# linear warm-up from 0.001; AdamW lr 1e-4, betas (0.9, 0.999), weight decay 0.05, for 16
# images/iter. `custom_keys` is a substring match on parameter names: 'norm' takes the decay off
# the backbone's LayerNorms (`...norm1.weight`, `patch_embed.norm.bias`, ...) but not off the
# heads' SyncBN / GN layers (`...bn.weight`, `...gn.weight`), which keep it, as in the official
# runs. (The official configs also list Swin's 'absolute_pos_embed' and
# 'relative_position_bias_table', which match no PVT parameter.)
_base_ = './schedule_1x_adamw.py'
max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[27, 33], gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(lr=0.0001, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
