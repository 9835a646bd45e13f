# Mask2Former (ADE20K semantic segmentation) with PVTv2-b2: the recipe of mmseg's
# mask2former_swin-t_8xb2-160k_ade20k-512x512.py (AdamW lr 1e-4, weight decay 0.05, backbone lr
# x0.1, no weight decay on norms and on the query / level embeddings, gradient clipping at 0.01;
# 160k iterations, poly decay (power 0.9); short side 256-1024, 512x512 crops, flip, photometric
# distortion; 8 GPUs x 2 images), with PVTv2-b2's four stages (64 / 128 / 320 / 512 channels)
# into the pixel decoder. That Swin-T config is mmseg's R-50 config below plus Swin's backbone and
# Swin's parameter names in custom_keys; inheriting the R-50 one leaves no Swin setting in the
# resolved config (tests/test_frameworks.py checks that the recipe is Swin-T's).
_base_ = 'mmseg::mask2former/mask2former_r50_8xb2-160k_ade20k-512x512.py'
# The base imports mmdet's models (Mask2Former's head); listing ../_base_/pvt_mm_plugin.py as a
# second base would clash with that, so its two lines are here.
custom_imports = dict(imports=['mmdet.models', 'pvt_mm'], allow_failed_imports=False)
custom_hooks = [dict(type='RNGStateHook'), dict(type='CheckpointFitHook')]
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='PVTv2',
        arch='b2',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
# PVTv2's LayerNorms get what Swin-T's norms get: the backbone's lr x0.1 and no weight decay
# (see mask2former_pvtv2-b2_8xb2-lsj-50e_coco.py for why the keys look like this).
backbone_norm = dict(lr_mult=0.1, decay_mult=0.0)
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            f'.{norm}.{param}': backbone_norm
            for norm in ('norm', 'norm1', 'norm2')
            for param in ('weight', 'bias')
        }))
