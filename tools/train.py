"""Train a pvt_mm detector (mmdet config) or segmentor (mmseg config) with mmengine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--auto-scale-lr]
                                 [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]
"""
import argparse

import pvt_mm  # noqa: F401  (registers PVT, the pvt_mm:: config scope and the compat fixes)
from pvt_mm import launch


def parse_args():
    parser = argparse.ArgumentParser(description='Train a PVT detector or segmentor')
    parser.add_argument('config', help='config file (mmdet or mmseg, chosen by default_scope)')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (CUDA; fp32 without it)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by (total batch size / auto_scale_lr.base_batch_size)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CKPT, or without a value from the latest checkpoint '
                        'in the work dir')
    launch.common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = launch.load_config(args.config, args.cfg_options, args.work_dir)
    launch.setup_launcher(cfg, args.launcher)
    launch.prepare_work_dir(cfg)
    launch.set_precision(cfg, args.amp)
    if args.auto_scale_lr:
        launch.enable_auto_scale_lr(cfg)
    launch.set_resume(cfg, args.resume)
    launch.check_checkpoint_fit(cfg, 'any')
    launch.build_runner(cfg).train()


if __name__ == '__main__':
    launch.run_tool(main)
