_base_ = './fpn_pvtv2-b1_8xb4-40k_ade20k-512x512.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b3.pth'
model = dict(backbone=dict(arch='b3', init_cfg=dict(checkpoint=checkpoint_file)))
