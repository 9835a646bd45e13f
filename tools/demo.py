"""Draw a detector's boxes/masks or a segmentor's class map on one image.

    python tools/demo.py IMAGE CONFIG CHECKPOINT --out OUT.png [--score-thr 0.3] [--device cpu]

Uses mmdet's ``DetLocalVisualizer`` or mmseg's ``SegLocalVisualizer`` (the config's
``visualizer``), with the class names stored in the checkpoint.
"""
import argparse
import os.path as osp

import mmcv
import torch
from mmengine.config import DictAction

import pvt_mm  # noqa: F401
from pvt_mm import apis, cli


def parse_args():
    parser = argparse.ArgumentParser(description='Draw PVT predictions on an image')
    parser.add_argument('image', help='image file')
    parser.add_argument('config', help='detection or segmentation config')
    parser.add_argument('checkpoint', help='checkpoint file (any known PVT layout)')
    parser.add_argument('--out', required=True, help='where to write the drawn image')
    parser.add_argument('--score-thr', type=float, default=0.3, help='detection: min score')
    parser.add_argument('--opacity', type=float, default=0.5, help='segmentation: map opacity')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='config overrides')
    return parser.parse_args()


def main():
    args = parse_args()
    if not osp.isfile(args.image):
        raise SystemExit(f'image not found: {args.image}')
    cfg = cli.load_config(args.config, args.cfg_options)
    apis.write_toy_data(cfg)
    checkpoint = cli.check_checkpoint(args.checkpoint)
    image = mmcv.imread(args.image, channel_order='rgb')
    entry = apis.toolbox(cfg)
    model, result = entry.predict(cfg, checkpoint, args.image, args.device)
    draw = entry.draw_args(cfg, score_thr=args.score_thr, opacity=args.opacity)
    # One drawn image, written to --out: no storage backends (a LocalVisBackend would want a
    # save_dir and say so).
    cfg.visualizer.pop('save_dir', None)
    cfg.visualizer.vis_backends = None
    visualizer = entry.visualizers().build(cfg.visualizer)
    visualizer.dataset_meta = model.dataset_meta
    visualizer.add_datasample(
        'demo', image, data_sample=result, draw_gt=False, show=False, out_file=args.out, **draw)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    cli.run_tool(main)
