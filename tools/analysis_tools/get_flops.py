"""Parameters and FLOPs of a pvt_mm model, counting the attention matmuls (see pvt_mm.analysis).

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W]   # a detector / segmentor
    python tools/analysis_tools/get_flops.py --arch pvtv2-b2        # ImageNet classifier, 224x224

FLOPs are multiply-accumulates, as in the PVT papers and mmdet/mmseg's get_flops. Defaults:
224x224 for ``--arch``, 512x512 for segmentation configs, 1280x800 for detection configs.
"""
import argparse

import torch
from mmengine.config import DictAction

from pvt_mm import apis, cli
from pvt_mm.analysis import DenseForward, ImageNetClassifier, count_flops, count_params
from pvt_mm.models import arch_names, backbone_arch


def parse_args():
    parser = argparse.ArgumentParser(description='Parameters and FLOPs of a PVT model')
    parser.add_argument('config', nargs='?', help='detection or segmentation config')
    parser.add_argument(
        '--arch',
        choices=arch_names(),
        metavar='ARCH',
        help='ImageNet classifier of a backbone: ' + ', '.join(arch_names()))
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'), help='input size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='config overrides')
    args = parser.parse_args()
    if (args.config is None) == (args.arch is None):
        parser.error('give a CONFIG or --arch (one of them)')
    return args


def build(args):
    if args.arch:
        cls, name = backbone_arch(args.arch)
        return ImageNetClassifier(cls(arch=name, out_indices=(3, ))), (224, 224), args.arch
    cfg = apis.load_config(args.config, args.cfg_options)
    cfg.model.backbone.init_cfg = None
    entry = apis.toolbox(cfg)
    return DenseForward(apis.build_model(cfg), entry.dense_outputs), entry.flops_shape, args.config


def main():
    args = parse_args()
    model, shape, name = build(args)
    shape = tuple(args.shape) if args.shape else shape
    model.eval()
    with torch.no_grad():
        flops = count_flops(model, (torch.randn(1, 3, *shape), ))
    print(f'{name}\ninput shape: {shape[0]}x{shape[1]}\n'
          f'params: {count_params(model) / 1e6:.2f} M\nflops: {flops / 1e9:.2f} GFLOPs')


if __name__ == '__main__':
    cli.run_tool(main)
