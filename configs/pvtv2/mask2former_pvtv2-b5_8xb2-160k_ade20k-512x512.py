_base_ = './mask2former_pvtv2-b2_8xb2-160k_ade20k-512x512.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b5.pth'
model = dict(backbone=dict(arch='b5', init_cfg=dict(checkpoint=checkpoint_file)))
