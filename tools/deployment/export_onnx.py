"""Export a config's backbone, or its whole single-stage detector / segmentor, to ONNX, and check
the file with onnxruntime against PyTorch before reporting success.

    python tools/deployment/export_onnx.py CONFIG [CHECKPOINT] --shape H W [--dynamic]
        [--backbone-only] [--dynamo] [--out FILE.onnx]

The graph takes a normalized, padded image batch (N, 3, H, W) and returns the raw outputs: the
backbone's feature maps, or per-level scores and box regressions before NMS, or segmentation
logits (see ``pvt_mm/deployment.py``). ``--dynamic`` leaves height and width free; the check then
runs at a second size too. Without CHECKPOINT the model has random weights (a check of the
export only). Exit status 1, with the reason, if onnxruntime disagrees.
"""
import argparse
import os
import os.path as osp

import torch

import pvt_mm  # noqa: F401  (registers PVT, the pvt_mm:: config scope and the compat fixes)
from pvt_mm import apis, cli, deployment
from pvt_mm.fileio import CheckpointError, read_checkpoint
from pvt_mm.models.checkpoint import backbone_prefix, load_pretrained, unwrap_state_dict
from pvt_mm.state_dicts import checkpoint_fit


def parse_args():
    parser = argparse.ArgumentParser(description='Export a PVT model to ONNX, checked')
    parser.add_argument('config', help='detection or segmentation config')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='weights (whole model, or a backbone-only '
        'file with --backbone-only); default: random weights')
    parser.add_argument('--shape', type=int, nargs=2, required=True, metavar=('H', 'W'))
    parser.add_argument('--dynamic', action='store_true', help='dynamic height and width')
    parser.add_argument('--backbone-only', action='store_true', help='export the backbone only')
    parser.add_argument(
        '--dynamo',
        action='store_true',
        help='torch.export-based exporter (default: the TorchScript-based one)')
    parser.add_argument('--out', help='ONNX file (default work_dirs/onnx/<config>.onnx)')
    return parser.parse_args()


def build(args):
    import logging

    from mmengine.logging import MMLogger
    MMLogger.get_instance('export_onnx', log_level=logging.WARNING)  # no weight-init report
    cfg = apis.load_config(args.config)
    if args.checkpoint:  # read before the model is built: a bad file fails at once
        state_dict = unwrap_state_dict(read_checkpoint(args.checkpoint), args.checkpoint)
    cfg.model.backbone.init_cfg = None
    model = apis.build_model(cfg)
    model.init_weights()
    if args.checkpoint:
        if args.backbone_only and not backbone_prefix(state_dict):
            load_pretrained(model.backbone, args.checkpoint)
        else:
            fit = checkpoint_fit(model, state_dict)
            if not fit.complete:
                raise CheckpointError(f'{args.checkpoint}: {fit.describe()}')
            model.load_state_dict(state_dict, strict=False)
    return model.eval(), apis.toolbox(cfg)


def main():
    args = parse_args()
    model, entry = build(args)
    if not args.backbone_only:
        entry.check_exports_whole(model)
    module = deployment.RawOutputs(
        model, backbone_only=args.backbone_only, fixed_size=entry.export_fixed_size)
    h, w = args.shape
    gen = torch.Generator().manual_seed(0)
    images = [torch.randn(1, 3, h, w, generator=gen)]
    if args.dynamic:
        images.append(torch.randn(1, 3, *deployment.second_size(h, w), generator=gen))
    out = args.out or deployment.default_path(args.config, args.backbone_only)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    exporter = 'torch.export (dynamo)' if args.dynamo else 'TorchScript-based'
    deployment.export_onnx(module, images[0], out, dynamic=args.dynamic, dynamo=args.dynamo)
    results = deployment.check_onnx(out, module, images)
    what = 'backbone' if args.backbone_only else type(module.model).__name__
    sizes = ', '.join(f'{s[0]}x{s[1]} (max abs error {e:.1e}, outputs up to {m:.3g})'
                      for s, e, m in results)
    print(f'exported {what} to {out} with the {exporter} exporter'
          f'{", height and width dynamic" if args.dynamic else ""}; onnxruntime matches '
          f'PyTorch at {sizes}')


if __name__ == '__main__':
    try:
        cli.run_tool(main)
    except (ValueError, deployment.ExportCheckError) as err:
        raise SystemExit(f'error: {err}') from None
