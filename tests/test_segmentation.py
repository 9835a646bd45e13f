"""Semantic segmentation through the same tools and the real configs, on the ADE20K-layout toy
dataset: tools/test.py writes mIoU and, with --out, one label PNG per image at its original
size."""
import re

import numpy as np
from PIL import Image

from tools_helper import SMALL_TOY, config, tool_in_process

FPN = config('quickstart/fpn_pvtv2-b0_toy-192x192.py')
SHORT = [
    'max_iters=4', 'train_cfg.max_iters=4', 'param_scheduler.0.end=4',
    'train_dataloader.batch_size=2', 'train_dataloader.num_workers=1',
    'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False', 'default_hooks.logger.interval=1',
    'default_hooks.checkpoint.interval=2', 'train_cfg.val_interval=100'
]


def test_semantic_fpn_train_then_test_miou(tmp_path, monkeypatch, capsys):
    """tools/train.py with validation, then tools/test.py --out, both in this process (the
    command-line processes: tests/test_quickstart.py)."""
    work = tmp_path / 'work'
    out = tool_in_process(monkeypatch, capsys, tmp_path, 'train.py', FPN, '--work-dir', work,
                          '--cfg-options', *SMALL_TOY, *SHORT, 'train_cfg.val_interval=4')
    assert re.search(r'Iter\(train\) +\[4/4\]', out) and 'mIoU' in out
    ade = tmp_path / 'data/toy/ade/ADEChallengeData2016'
    label = np.array(Image.open(sorted((ade / 'annotations/validation').glob('*.png'))[0]))
    assert label.dtype == np.uint8 and set(np.unique(label)) <= {1, 2, 3, 4} and 1 in label
    assert (work / 'iter_4.pth').is_file()
    out = tool_in_process(monkeypatch, capsys, tmp_path, 'test.py', FPN, work / 'iter_4.pth',
                          '--work-dir', tmp_path / 'test', '--out', tmp_path / 'pred',
                          '--cfg-options', *SMALL_TOY, *SHORT)
    assert re.search(r'mIoU: \d+\.\d+', out)
    preds = sorted((tmp_path / 'pred').glob('*.png'))
    assert len(preds) == 4
    assert np.array(Image.open(preds[0])).shape == label.shape  # back at the original size
