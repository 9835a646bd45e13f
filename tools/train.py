"""Train a pvt_mm detector (mmdet config) or segmentor (mmseg config) with mmengine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--auto-scale-lr]
                                 [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]
"""
import argparse

import pvt_mm  # noqa: F401  (registers PVT, the pvt_mm:: config scope and the compat fixes)
from pvt_mm import apis, cli


def parse_args():
    parser = argparse.ArgumentParser(description='Train a PVT detector or segmentor')
    parser.add_argument('config', help='config file (mmdet or mmseg, chosen by default_scope)')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision (CUDA; fp32 without it)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by (total batch size / auto_scale_lr.base_batch_size)')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        default=None,
        help='resume from CKPT, or without a value from the latest checkpoint '
        'in the work dir')
    cli.common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = cli.load_config(args.config, args.cfg_options, args.work_dir)
    apis.write_toy_data(cfg)  # a quickstart config's dataset, on first use
    cli.setup_launcher(cfg, args.launcher)
    cli.prepare_work_dir(cfg)
    cli.set_precision(cfg, args.amp)
    cli.check_compile(cfg)
    if args.auto_scale_lr:
        cli.enable_auto_scale_lr(cfg)
    cli.set_resume(cfg, args.resume)
    cli.check_init_checkpoints(cfg)
    cli.write_checkpoints_atomically(cfg)
    cli.check_checkpoint_fit(cfg, 'any')
    cli.build_runner(cfg).train()


if __name__ == '__main__':
    cli.run_tool(main)
