"""Convert a PVT checkpoint of any known layout to a plain pvt_mm checkpoint.

Layouts: the official PVT release (ImageNet) and its mmdet 2.x / mmseg 0.x detection and
segmentation checkpoints, mmdet 3.x's built-in PVT, timm's ``pvt_v2_*``, transformers' PVT and
PVTv2 models; PyTorch or safetensors files. Whole detector /
segmentor checkpoints keep their neck and heads (an mmdet 2.x DETR is renamed to mmdet 3.x's
DETR); backbone-only files stay backbone-only.

    python tools/model_converters/convert_pvt.py SRC DST [--arch pvtv2-b2] [--show-mapping]

With ``--arch`` (``pvt-tiny`` ... ``pvt-large``, ``pvtv2-b0`` ... ``pvtv2-b5``, ``pvtv2-b2-li``)
the converted backbone must load into that architecture exactly, or the tool refuses, naming the
keys. Loading never needs this tool (the backbones convert on load); it makes files for other
code and shows what maps where. DST is written whole or not at all, and may be SRC (it keeps its
permissions); a DST ending in ``.safetensors`` gets safetensors (the weights only).
"""
import argparse

from pvt_mm import cli
from pvt_mm.fileio import CheckpointError, read_checkpoint, save_checkpoint
from pvt_mm.models import arch_names, backbone_arch
from pvt_mm.models.checkpoint import (backbone_prefix, convert_checkpoint, sub_state_dict,
                                      unwrap_state_dict)
from pvt_mm.state_dicts import checkpoint_fit


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='checkpoint to convert')
    parser.add_argument('dst', help='where to write the pvt_mm checkpoint')
    parser.add_argument(
        '--arch',
        choices=arch_names(),
        metavar='ARCH',
        help='check against this arch: ' + ', '.join(arch_names()))
    parser.add_argument('--show-mapping', action='store_true', help='print every key mapping')
    return parser.parse_args()


def main():
    args = parse_args()
    ckpt = read_checkpoint(args.src)
    state_dict = unwrap_state_dict(ckpt, args.src)
    backbone = None
    if args.arch:
        cls, name = backbone_arch(args.arch)
        backbone = cls(arch=name)
    mapping = []
    try:
        converted, fmt, dropped = convert_checkpoint(state_dict, backbone, mapping)
    except CheckpointError as err:
        raise SystemExit(f'error: {args.src}: {err}') from None
    renamed = [(old, new) for old, new in mapping if old != new]
    print(f'{args.src}: {fmt!r} layout; {len(mapping)} backbone tensors, {len(renamed)} renamed, '
          f'{len(dropped)} classification-only dropped')
    for old, new in (mapping if args.show_mapping else renamed[:10]):
        print(f'  {old} -> {new}')
    if not args.show_mapping and len(renamed) > 10:
        print(f'  ... ({len(renamed) - 10} more; --show-mapping lists all)')
    if dropped:
        print('dropped: ' + ', '.join(dropped))
    if backbone is not None:
        fit = checkpoint_fit(backbone, sub_state_dict(converted, backbone_prefix(converted)))
        if not fit.complete:
            raise SystemExit(f'{args.src} does not fit --arch {args.arch}: {fit.describe()}')
        print(f'fits {args.arch}: every backbone tensor matches')
    out = dict(state_dict=converted)
    if isinstance(ckpt, dict) and isinstance(ckpt.get('meta'), dict):
        out['meta'] = ckpt['meta']
    save_checkpoint(out, args.dst)  # SRC may be DST; a failed write keeps DST and its mode
    print(f'saved {args.dst}')


if __name__ == '__main__':
    cli.run_tool(main)
