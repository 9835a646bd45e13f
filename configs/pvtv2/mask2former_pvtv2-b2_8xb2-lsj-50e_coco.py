# Mask2Former (COCO instance segmentation) with PVTv2-b2: the recipe of mmdet's
# mask2former_swin-t-p4-w7-224_8xb2-lsj-50e_coco.py (AdamW lr 1e-4, weight decay 0.05, backbone
# lr x0.1, no weight decay on norms and on the query / level embeddings, gradient clipping at
# 0.01; 368,750 iterations, lr x0.1 at 327,778 and 355,092; flip + large-scale jitter to 1024x1024
# crops; 8 GPUs x 2 images), with PVTv2-b2's four stages (64 / 128 / 320 / 512 channels) into
# the pixel decoder. That Swin-T config is mmdet's R-50 config below plus Swin's backbone and
# Swin's parameter names in custom_keys; inheriting the R-50 one leaves no Swin setting in the
# resolved config (tests/test_frameworks.py checks that the recipe is Swin-T's).
_base_ = [
    'mmdet::mask2former/mask2former_r50_8xb2-lsj-50e_coco.py', '../_base_/pvt_mm_plugin.py',
    '../_base_/models/pvtv2_backbone.py'
]
model = dict(
    backbone=dict(_delete_=True, **_base_.pvtv2_backbone),
    panoptic_head=dict(in_channels=_base_.pvtv2_in_channels))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.pvtv2_norm_keys))
