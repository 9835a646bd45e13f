_base_ = './mask2former_pvtv2-b2_8xb2-lsj-50e_coco-panoptic.py'
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b1.pth'
model = dict(backbone=dict(arch='b1', init_cfg=dict(checkpoint=checkpoint_file)))
