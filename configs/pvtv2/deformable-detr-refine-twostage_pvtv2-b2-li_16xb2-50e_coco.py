_base_ = './deformable-detr-refine-twostage_pvtv2-b2_16xb2-50e_coco.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2_li.pth'
model = dict(backbone=dict(arch='b2-li', init_cfg=dict(checkpoint=checkpoint_file)))
