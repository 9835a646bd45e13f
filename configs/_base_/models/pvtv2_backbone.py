# PVTv2-b2 as the backbone of a framework config that inherits an mmdet base (Mask2Former's COCO
# instance and panoptic configs, Panoptic FPN's take these values; every name starts with pvtv2_
# because two bases may not share a key): the backbone, its four stage widths, and the
# parameter-wise keys that give PVTv2's LayerNorms what Swin-T's norms get in mmdet's Swin-T
# Mask2Former recipes (the backbone's lr x0.1 and no weight decay).
# mmengine tries the longest custom key first, and a matching key bypasses norm_decay_mult, so
# these keys must be longer than 'backbone' (Swin-T's config lists its norms block by block).
# They match every LayerNorm of PVTv2 (patch embeddings, norm1 / norm2, the reduction norms, the
# stage norms) whatever the arch, and no parameter of the heads.
pvtv2_backbone = dict(
    type='PVTv2',
    arch='b2',
    out_indices=(0, 1, 2, 3),
    drop_path_rate=0.1,
    init_cfg=dict(
        type='Pretrained',
        checkpoint='https://github.com/whai362/PVT/releases/download/v2/pvt_v2_b2.pth'))
pvtv2_in_channels = [64, 128, 320, 512]
pvtv2_norm_keys = {
    f'.{norm}.{param}': dict(lr_mult=0.1, decay_mult=0.0)
    for norm in ('norm', 'norm1', 'norm2')
    for param in ('weight', 'bias')
}
