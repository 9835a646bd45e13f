"""The official training recipe of every paper config, transcribed from the official files.

``RECIPES`` holds each distinct recipe once; ``CONFIGS`` names, for every config of configs/pvt
and configs/pvtv2 but the beyond-the-papers frameworks, the official file it was transcribed from
and its recipe. Files: github.com/whai362/PVT, branch v2, ``detection/configs/`` (detection) and
``segmentation/configs/sem_fpn/PVT/`` (PVT v1 Semantic FPN); github.com/whai362/PVTv2-Seg,
``configs/sem_fpn/PVTv2/`` (PVTv2 Semantic FPN). ``(b2) <file>``: the config has no official
file of its own and follows b2's (configs/pvtv2/README.md says why).

Recipe fields: optimizer, lr, weight decay, images per GPU (on 8 GPUs), ``auto_scale_lr``'s
``base_batch_size`` (the total batch the lr was set for), epochs (detection) or iterations
(segmentation), lr milestones (``'poly'``: polynomial decay, power 0.9, to 0), iterations of
linear warm-up from 0.001 of the lr, precision (``'amp'``: the official apex fp16 O1 runs,
``AmpOptimWrapper`` here), gradient clipping (max norm) and ``paramwise_cfg.custom_keys``.
``tests/test_configs.py`` compares every resolved config with its row.
"""
from collections import namedtuple

Recipe = namedtuple(
    'Recipe', 'optimizer lr weight_decay images_per_gpu base_batch_size length '
    'milestones warmup precision clip custom_keys')

NORM_DECAY_0 = {'norm': {'decay_mult': 0.0}}
BACKBONE_LR_01 = {'backbone': {'lr_mult': 0.1, 'decay_mult': 1.0}}

RECIPES = {
    'retinanet-1x': Recipe('AdamW', 1e-4, 1e-4, 2, 16, 12, [8, 11], 500, 'fp32', None, None),
    'retinanet-1x-amp': Recipe('AdamW', 1e-4, 1e-4, 2, 16, 12, [8, 11], 500, 'amp', None, None),
    'retinanet-1x-large': Recipe('AdamW', 1e-4 / 1.4, 1e-4, 1, 8, 12, [8, 11], 500, 'fp32', None,
                                 None),
    'mask-rcnn-1x': Recipe('AdamW', 2e-4, 1e-4, 2, 16, 12, [8, 11], 500, 'fp32', None, None),
    'mask-rcnn-1x-large': Recipe('AdamW', 2e-4 / 1.4, 1e-4, 1, 8, 12, [8, 11], 500, 'fp32', None,
                                 None),
    'detr-50e': Recipe('AdamW', 1e-4, 1e-4, 2, 16, 50, [33], 0, 'fp32', 0.1, BACKBONE_LR_01),
    '3x': Recipe('AdamW', 1e-4, 0.05, 2, 16, 36, [27, 33], 500, 'fp32', None, NORM_DECAY_0),
    '3x-amp': Recipe('AdamW', 1e-4, 0.05, 2, 16, 36, [27, 33], 500, 'amp', None, NORM_DECAY_0),
    'sparse-rcnn-3x-1img': Recipe('AdamW', 2.5e-5 / 1.4, 1e-4, 1, 8, 36, [27, 33], 500, 'fp32', 1,
                                  None),
    'sparse-rcnn-3x-2img': Recipe('AdamW', 2.5e-5, 1e-4, 2, 16, 36, [27, 33], 500, 'fp32', 1, None),
    'semantic-fpn-40k': Recipe('AdamW', 2e-4, 1e-4, 4, 32, 40000, 'poly', 0, 'fp32', None, None),
}

_SPARSE = 'sparse_rcnn_pvt_v2_{}_fpn_300_proposals_crop_mstrain_480-800_3x_coco.py'
_SPARSE_B2 = _SPARSE.format('b2')
CONFIGS = {
    # configs/pvt: PVT v1 paper
    'retinanet_pvt-t_fpn_1x_coco': ('retinanet_pvt_t_fpn_1x_coco.py', 'retinanet-1x'),
    'retinanet_pvt-s_fpn_1x_coco': ('retinanet_pvt_s_fpn_1x_coco.py', 'retinanet-1x'),
    'retinanet_pvt-m_fpn_1x_coco': ('retinanet_pvt_m_fpn_1x_coco.py', 'retinanet-1x'),
    'retinanet_pvt-l_fpn_1x_coco': ('retinanet_pvt_l_fpn_1x_coco.py', 'retinanet-1x-amp'),
    'retinanet_pvt-s_fpn_1x_coco-640': ('retinanet_pvt_s_fpn_1x_coco_640.py', 'retinanet-1x'),
    'mask-rcnn_pvt-t_fpn_1x_coco': ('mask_rcnn_pvt_t_fpn_1x_coco.py', 'mask-rcnn-1x'),
    'mask-rcnn_pvt-s_fpn_1x_coco': ('mask_rcnn_pvt_s_fpn_1x_coco.py', 'mask-rcnn-1x'),
    'mask-rcnn_pvt-m_fpn_1x_coco': ('mask_rcnn_pvt_m_fpn_1x_coco.py', 'mask-rcnn-1x'),
    'mask-rcnn_pvt-l_fpn_1x_coco': ('mask_rcnn_pvt_l_fpn_1x_coco.py', 'mask-rcnn-1x-large'),
    'detr_pvt-s_8xb2-50e_coco': ('detr_pvt_s_8x2_50ep_coco.py', 'detr-50e'),
    'fpn_pvt-t_8xb4-40k_ade20k-512x512': ('fpn_pvt_t_ade20k_40k.py', 'semantic-fpn-40k'),
    'fpn_pvt-s_8xb4-40k_ade20k-512x512': ('fpn_pvt_s_ade20k_40k.py', 'semantic-fpn-40k'),
    'fpn_pvt-m_8xb4-40k_ade20k-512x512': ('fpn_pvt_m_ade20k_40k.py', 'semantic-fpn-40k'),
    'fpn_pvt-l_8xb4-40k_ade20k-512x512': ('fpn_pvt_l_ade20k_40k.py', 'semantic-fpn-40k'),
    # configs/pvtv2: PVTv2 paper, 1x and Semantic FPN
    'retinanet_pvtv2-b0_fpn_1x_coco': ('retinanet_pvt_v2_b0_fpn_1x_coco.py', 'retinanet-1x'),
    'retinanet_pvtv2-b1_fpn_1x_coco': ('retinanet_pvt_v2_b1_fpn_1x_coco.py', 'retinanet-1x'),
    'retinanet_pvtv2-b2_fpn_1x_coco': ('retinanet_pvt_v2_b2_fpn_1x_coco.py', 'retinanet-1x'),
    'retinanet_pvtv2-b2-li_fpn_1x_coco': ('retinanet_pvt_v2_b2_li_fpn_1x_coco.py', 'retinanet-1x'),
    'retinanet_pvtv2-b3_fpn_1x_coco': ('retinanet_pvt_v2_b3_fpn_1x_coco.py', 'retinanet-1x'),
    'retinanet_pvtv2-b4_fpn_1x_coco': ('retinanet_pvt_v2_b4_fpn_1x_coco.py', 'retinanet-1x-large'),
    'retinanet_pvtv2-b5_fpn_1x_coco': ('retinanet_pvt_v2_b5_fpn_1x_coco.py', 'retinanet-1x-large'),
    'mask-rcnn_pvtv2-b0_fpn_1x_coco': ('mask_rcnn_pvt_v2_b0_fpn_1x_coco.py', 'mask-rcnn-1x'),
    'mask-rcnn_pvtv2-b1_fpn_1x_coco': ('mask_rcnn_pvt_v2_b1_fpn_1x_coco.py', 'mask-rcnn-1x'),
    'mask-rcnn_pvtv2-b2_fpn_1x_coco': ('mask_rcnn_pvt_v2_b2_fpn_1x_coco.py', 'mask-rcnn-1x'),
    'mask-rcnn_pvtv2-b2-li_fpn_1x_coco': ('mask_rcnn_pvt_v2_b2_li_fpn_1x_coco.py', 'mask-rcnn-1x'),
    'mask-rcnn_pvtv2-b3_fpn_1x_coco': ('mask_rcnn_pvt_v2_b3_fpn_1x_coco.py', 'mask-rcnn-1x'),
    'mask-rcnn_pvtv2-b4_fpn_1x_coco': ('mask_rcnn_pvt_v2_b4_fpn_1x_coco.py', 'mask-rcnn-1x-large'),
    'mask-rcnn_pvtv2-b5_fpn_1x_coco': ('mask_rcnn_pvt_v2_b5_fpn_1x_coco.py', 'mask-rcnn-1x-large'),
    'fpn_pvtv2-b0_8xb4-40k_ade20k-512x512': ('fpn_pvtv2_b0_ade20k_40k.py', 'semantic-fpn-40k'),
    'fpn_pvtv2-b1_8xb4-40k_ade20k-512x512': ('fpn_pvtv2_b1_ade20k_40k.py', 'semantic-fpn-40k'),
    'fpn_pvtv2-b2_8xb4-40k_ade20k-512x512': ('fpn_pvtv2_b2_ade20k_40k.py', 'semantic-fpn-40k'),
    'fpn_pvtv2-b2-li_8xb4-40k_ade20k-512x512': ('fpn_pvtv2_b2_li_ade20k_40k.py',
                                                'semantic-fpn-40k'),
    'fpn_pvtv2-b3_8xb4-40k_ade20k-512x512': ('fpn_pvtv2_b3_ade20k_40k.py', 'semantic-fpn-40k'),
    'fpn_pvtv2-b4_8xb4-40k_ade20k-512x512': ('fpn_pvtv2_b4_ade20k_40k.py', 'semantic-fpn-40k'),
    'fpn_pvtv2-b5_8xb4-40k_ade20k-512x512': ('fpn_pvtv2_b5_ade20k_40k.py', 'semantic-fpn-40k'),
    # configs/pvtv2: PVTv2 paper, 3x (Table 4: b2 and b2-li)
    'mask-rcnn_pvtv2-b0_fpn_ms-crop-3x_coco': ('(b2) mask_rcnn_pvt_v2_b2_fpn_3x_mstrain.py', '3x'),
    'mask-rcnn_pvtv2-b1_fpn_ms-crop-3x_coco': ('(b2) mask_rcnn_pvt_v2_b2_fpn_3x_mstrain.py', '3x'),
    'mask-rcnn_pvtv2-b2_fpn_ms-crop-3x_coco': ('mask_rcnn_pvt_v2_b2_fpn_3x_mstrain.py', '3x'),
    'mask-rcnn_pvtv2-b2-li_fpn_ms-crop-3x_coco': ('mask_rcnn_pvt_v2_b2_li_fpn_3x_mstrain.py',
                                                  '3x-amp'),
    'mask-rcnn_pvtv2-b3_fpn_ms-crop-3x_coco': ('(b2) mask_rcnn_pvt_v2_b2_fpn_3x_mstrain.py', '3x'),
    'mask-rcnn_pvtv2-b4_fpn_ms-crop-3x_coco': ('(b2) mask_rcnn_pvt_v2_b2_fpn_3x_mstrain.py', '3x'),
    'mask-rcnn_pvtv2-b5_fpn_ms-crop-3x_coco': ('(b2) mask_rcnn_pvt_v2_b2_fpn_3x_mstrain.py', '3x'),
    'cascade-mask-rcnn_pvtv2-b0_fpn_ms-crop-3x_coco':
    ('(b2) cascade_mask_rcnn_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'cascade-mask-rcnn_pvtv2-b1_fpn_ms-crop-3x_coco':
    ('(b2) cascade_mask_rcnn_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'cascade-mask-rcnn_pvtv2-b2_fpn_ms-crop-3x_coco':
    ('cascade_mask_rcnn_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'cascade-mask-rcnn_pvtv2-b2-li_fpn_ms-crop-3x_coco':
    ('cascade_mask_rcnn_pvt_v2_b2_li_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'cascade-mask-rcnn_pvtv2-b3_fpn_ms-crop-3x_coco':
    ('(b2) cascade_mask_rcnn_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'cascade-mask-rcnn_pvtv2-b4_fpn_ms-crop-3x_coco':
    ('(b2) cascade_mask_rcnn_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'cascade-mask-rcnn_pvtv2-b5_fpn_ms-crop-3x_coco':
    ('(b2) cascade_mask_rcnn_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'atss_pvtv2-b0_fpn_ms-crop-3x_coco': ('(b2) atss_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'atss_pvtv2-b1_fpn_ms-crop-3x_coco': ('(b2) atss_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'atss_pvtv2-b2_fpn_ms-crop-3x_coco': ('atss_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'atss_pvtv2-b2-li_fpn_ms-crop-3x_coco': ('atss_pvt_v2_b2_li_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'atss_pvtv2-b3_fpn_ms-crop-3x_coco': ('(b2) atss_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'atss_pvtv2-b4_fpn_ms-crop-3x_coco': ('(b2) atss_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'atss_pvtv2-b5_fpn_ms-crop-3x_coco': ('(b2) atss_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'gfl_pvtv2-b0_fpn_ms-crop-3x_coco': ('(b2) gfl_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'gfl_pvtv2-b1_fpn_ms-crop-3x_coco': ('(b2) gfl_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'gfl_pvtv2-b2_fpn_ms-crop-3x_coco': ('gfl_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'gfl_pvtv2-b2-li_fpn_ms-crop-3x_coco': ('gfl_pvt_v2_b2_li_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'gfl_pvtv2-b3_fpn_ms-crop-3x_coco': ('(b2) gfl_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'gfl_pvtv2-b4_fpn_ms-crop-3x_coco': ('(b2) gfl_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'gfl_pvtv2-b5_fpn_ms-crop-3x_coco': ('(b2) gfl_pvt_v2_b2_fpn_3x_mstrain_fp16.py', '3x-amp'),
    'sparse-rcnn_pvtv2-b0_fpn_300-proposals_crop-ms-480-800-3x_coco': ('(b2) ' + _SPARSE_B2,
                                                                       'sparse-rcnn-3x-1img'),
    'sparse-rcnn_pvtv2-b1_fpn_300-proposals_crop-ms-480-800-3x_coco': ('(b2) ' + _SPARSE_B2,
                                                                       'sparse-rcnn-3x-1img'),
    'sparse-rcnn_pvtv2-b2_fpn_300-proposals_crop-ms-480-800-3x_coco': (_SPARSE_B2,
                                                                       'sparse-rcnn-3x-1img'),
    'sparse-rcnn_pvtv2-b2-li_fpn_300-proposals_crop-ms-480-800-3x_coco': (_SPARSE.format('b2_li'),
                                                                          'sparse-rcnn-3x-2img'),
    'sparse-rcnn_pvtv2-b3_fpn_300-proposals_crop-ms-480-800-3x_coco': ('(b2) ' + _SPARSE_B2,
                                                                       'sparse-rcnn-3x-1img'),
    'sparse-rcnn_pvtv2-b4_fpn_300-proposals_crop-ms-480-800-3x_coco': ('(b2) ' + _SPARSE_B2,
                                                                       'sparse-rcnn-3x-1img'),
    'sparse-rcnn_pvtv2-b5_fpn_300-proposals_crop-ms-480-800-3x_coco': ('(b2) ' + _SPARSE_B2,
                                                                       'sparse-rcnn-3x-1img'),
}
