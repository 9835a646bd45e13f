# UperNet with PVTv2-b2 (ADE20K): mmseg's
# swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py as it is (AdamW lr 6e-5,
# betas (0.9, 0.999), weight decay 0.01 but none on norms; 1,500-iteration linear warm-up, then
# poly decay (power 1) to 160k iterations; 512x512 crops of images resized to (2048, 512) x
# [0.5, 2.0], flip, photometric distortion; 8 GPUs x 2 images), with PVTv2-b2's four stages into
# the UPerHead (64 / 128 / 320 / 512 channels) and stage 3 (320) into the auxiliary FCN head.
_base_ = [
    'mmseg::swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py',
    '../_base_/pvt_mm_plugin.py'
]
checkpoint_file = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='PVTv2',
        arch='b2',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    decode_head=dict(in_channels=[64, 128, 320, 512]),
    auxiliary_head=dict(in_channels=320))
# Swin-T's keys without its own parameter names (absolute_pos_embed,
# relative_position_bias_table, which match no PVTv2 parameter): 'norm' takes the weight decay
# off every LayerNorm of PVTv2; the heads' norms are SyncBN layers named 'bn' and keep it, as
# Swin-T's do.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(_delete_=True, norm=dict(decay_mult=0.))))
