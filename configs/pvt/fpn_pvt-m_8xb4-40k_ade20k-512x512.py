_base_ = './fpn_pvt-t_8xb4-40k_ade20k-512x512.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_medium.pth'
model = dict(backbone=dict(arch='medium', init_cfg=dict(checkpoint=checkpoint_file)))
