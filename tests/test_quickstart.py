"""The quickstart, shortened: the real configs on the built-in toy data learn (loss falls), and
tools/demo.py draws the predictions."""
import json

import numpy as np
import pytest
from PIL import Image

from tools_helper import SMALL_TOY, config, tool

DET = config('quickstart/retinanet_pvtv2-b0_fpn_toy.py')
SEG = config('quickstart/fpn_pvtv2-b0_toy-192x192.py')
NO_WORKERS = [f'{split}_dataloader.{k}' for split in ('train', 'val', 'test')
              for k in ('num_workers=0', 'persistent_workers=False')]


def losses(work_dir):
    (log, ) = work_dir.glob('*/vis_data/scalars.json')
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    return [r['loss'] for r in rows if 'loss' in r]


@pytest.mark.parametrize('cfg,opts,ckpt', [
    (DET, ['train_cfg.max_epochs=6', 'train_cfg.val_interval=100', 'param_scheduler.0.end=4',
           'train_dataloader.batch_size=4', 'default_hooks.checkpoint.interval=6',
           'model.test_cfg.score_thr=0.0'], 'epoch_6.pth'),
    (SEG, ['max_iters=16', 'train_cfg.max_iters=16', 'param_scheduler.0.end=16',
           'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=16'],
     'iter_16.pth'),
], ids=['detection', 'segmentation'])
def test_quickstart_learns_and_demo_draws(tmp_path, cfg, opts, ckpt):
    work = tmp_path / 'work'
    tool('train.py', cfg, '--work-dir', work, '--cfg-options', *SMALL_TOY, *NO_WORKERS,
         'default_hooks.logger.interval=1', *opts, cwd=tmp_path)
    curve = losses(work)
    assert len(curve) >= 12
    assert np.mean(curve[-4:]) < 0.8 * np.mean(curve[:4]), curve
    image = tmp_path / 'data/toy/coco/val2017/val_00000.jpg'
    out = tmp_path / 'demo.png'
    tool('demo.py', image, cfg, work / ckpt, '--out', out, '--score-thr', '0.01',
         '--cfg-options', *SMALL_TOY, cwd=tmp_path)
    drawn, original = np.array(Image.open(out)), np.array(Image.open(image))
    assert drawn.shape[:2] == original.shape[:2]
    assert np.abs(drawn.astype(int) - original).mean() > 1  # something was drawn
