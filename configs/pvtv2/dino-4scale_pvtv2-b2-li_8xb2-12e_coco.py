_base_ = './dino-4scale_pvtv2-b2_8xb2-12e_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2_li.pth'
model = dict(backbone=dict(arch='b2-li', init_cfg=dict(checkpoint=checkpoint_file)))
