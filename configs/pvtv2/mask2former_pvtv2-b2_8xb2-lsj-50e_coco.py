# Mask2Former (COCO instance segmentation) with PVTv2-b2: the recipe of mmdet's
# mask2former_swin-t-p4-w7-224_8xb2-lsj-50e_coco.py (AdamW lr 1e-4, weight decay 0.05, backbone
# lr x0.1, no weight decay on norms and on the query / level embeddings, gradient clipping at
# 0.01; 368,750 iterations, lr x0.1 at 327,778 and 355,092; flip + large-scale jitter to 1024x1024
# crops; 8 GPUs x 2 images), with PVTv2-b2's four stages (64 / 128 / 320 / 512 channels) into
# the pixel decoder. That Swin-T config is mmdet's R-50 config below plus Swin's backbone and
# Swin's parameter names in custom_keys; inheriting the R-50 one leaves no Swin setting in the
# resolved config (tests/test_frameworks.py checks that the recipe is Swin-T's).
_base_ = ['mmdet::mask2former/mask2former_r50_8xb2-lsj-50e_coco.py', '../_base_/pvt_mm_plugin.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='PVTv2',
        arch='b2',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2.pth')),
    panoptic_head=dict(in_channels=[64, 128, 320, 512]))
# PVTv2's LayerNorms get what Swin-T's norms get: the backbone's lr x0.1 and no weight decay.
# mmengine tries the longest custom key first, and a matching key bypasses norm_decay_mult, so
# these keys must be longer than 'backbone' (Swin-T's config lists its norms block by block).
# They match every LayerNorm of PVTv2 (patch embeddings, norm1 / norm2, the reduction norms, the
# stage norms) whatever the arch, and no parameter of the heads.
backbone_norm = dict(lr_mult=0.1, decay_mult=0.0)
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={
        f'.{norm}.{param}': backbone_norm
        for norm in ('norm', 'norm1', 'norm2') for param in ('weight', 'bias')
    }))
