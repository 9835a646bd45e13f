"""Evaluate a checkpoint of a pvt_mm detector (COCO metrics) or segmentor (mIoU).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE|DIR] [--show-dir DIR]
                                           [--show] [--tta] [--allow-partial-checkpoint]
                                           [--cfg-options k=v ...] [--launcher ...]

The checkpoint must fit the model: one that leaves any of its tensors unset is an error naming the
file and the figures (``--allow-partial-checkpoint`` evaluates it anyway, with a warning).
"""
import argparse

import pvt_mm  # noqa: F401  (registers PVT, the pvt_mm:: config scope and the compat fixes)
from pvt_mm import apis, cli


def parse_args():
    parser = argparse.ArgumentParser(description='Test a PVT detector or segmentor')
    parser.add_argument('config', help='config file (mmdet or mmseg, chosen by default_scope)')
    parser.add_argument('checkpoint', help='checkpoint file (any known PVT layout)')
    parser.add_argument(
        '--out',
        help='detection: dump results to this .pkl; segmentation: '
        'write predicted label PNGs to this directory')
    parser.add_argument('--show', action='store_true', help='show predictions in a window')
    parser.add_argument('--show-dir', help='save drawn predictions to this directory')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds per shown image')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation')
    parser.add_argument(
        '--allow-partial-checkpoint',
        action='store_true',
        help='evaluate even if the checkpoint leaves some of the model\'s '
        'tensors unset (a warning then gives the figures)')
    cli.common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = cli.load_config(args.config, args.cfg_options, args.work_dir)
    apis.write_toy_data(cfg)  # a quickstart config's dataset, on first use
    cli.setup_launcher(cfg, args.launcher)
    cli.prepare_work_dir(cfg)
    cfg.load_from = cli.check_checkpoint(args.checkpoint)
    cli.check_checkpoint_fit(cfg, 'any' if args.allow_partial_checkpoint else 'all')
    if args.show or args.show_dir:
        cli.enable_visualization(cfg, args.show, args.show_dir, args.wait_time)
    if args.tta:
        cli.enable_tta(cfg)
    cli.set_output(cfg, args.out)
    cli.build_runner(cfg).test()


if __name__ == '__main__':
    cli.run_tool(main)
