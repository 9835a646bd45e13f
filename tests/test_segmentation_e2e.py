"""Segmentation end to end through the same tools and the real configs, on an ADE20K-layout toy
dataset."""
import re

import numpy as np
import torch
from PIL import Image

from tools_helper import SMALL_TOY, config, dist_train_with_rank_dumps, load_weights, tool

FPN = config('quickstart/fpn_pvtv2-b0_toy-192x192.py')
SHORT = ['max_iters=4', 'train_cfg.max_iters=4', 'param_scheduler.0.end=4',
         'train_dataloader.batch_size=2', 'train_dataloader.num_workers=1',
         'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
         'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
         'test_dataloader.persistent_workers=False', 'default_hooks.logger.interval=1',
         'default_hooks.checkpoint.interval=2', 'train_cfg.val_interval=100']


def test_semantic_fpn_train_then_test_miou(tmp_path):
    work = tmp_path / 'work'
    out = tool('train.py', FPN, '--work-dir', work, '--cfg-options', *SMALL_TOY, *SHORT,
               'train_cfg.val_interval=4', cwd=tmp_path)
    assert re.search(r'Iter\(train\) +\[4/4\]', out) and 'mIoU' in out
    ade = tmp_path / 'data/toy/ade/ADEChallengeData2016'
    label = np.array(Image.open(sorted((ade / 'annotations/validation').glob('*.png'))[0]))
    assert label.dtype == np.uint8 and set(np.unique(label)) <= {1, 2, 3, 4} and 1 in label
    assert (work / 'iter_4.pth').is_file()
    out = tool('test.py', FPN, work / 'iter_4.pth', '--work-dir', tmp_path / 'test', '--out',
               tmp_path / 'pred', '--cfg-options', *SMALL_TOY, *SHORT, cwd=tmp_path)
    assert re.search(r'mIoU: \d+\.\d+', out)
    preds = sorted((tmp_path / 'pred').glob('*.png'))
    assert len(preds) == 4
    assert np.array(Image.open(preds[0])).shape == label.shape  # back at the original size


def test_resume_continues_exactly(tmp_path):
    common = ['--cfg-options', *SMALL_TOY, *SHORT]
    tool('train.py', FPN, '--work-dir', tmp_path / 'full', *common, cwd=tmp_path)
    tool('train.py', FPN, '--work-dir', tmp_path / 'part', *common, 'train_cfg.max_iters=2',
         cwd=tmp_path)
    assert not (tmp_path / 'part/iter_4.pth').exists()
    out = tool('train.py', FPN, '--work-dir', tmp_path / 'part', '--resume', *common,
               cwd=tmp_path)
    assert 'resumed epoch: 0, iter: 2' in out
    full = load_weights(tmp_path / 'full/iter_4.pth')
    resumed = load_weights(tmp_path / 'part/iter_4.pth')
    for k in full:
        assert torch.equal(full[k], resumed[k]), k


def test_dist_train_two_cpu_processes(tmp_path):
    out, dump = dist_train_with_rank_dumps(FPN, tmp_path, 29518, *SMALL_TOY, *SHORT,
                                           'train_dataloader.batch_size=1')
    assert 'Distributed training: True' in out
    assert 'SyncBN layers are built as BN' in out
    after = [torch.load(dump / f'after_rank{r}.pth') for r in (0, 1)]
    before = torch.load(dump / 'before_rank0.pth')['params']
    for k, v in after[0]['params'].items():
        assert torch.equal(v, after[1]['params'][k]), k
    assert sum(not torch.equal(after[0]['params'][k], v) for k, v in before.items()) > len(
        before) // 2
    # Without CUDA there is no SyncBN: only BN running statistics are per process.
    differ = [k for k, v in after[0]['buffers'].items()
              if not torch.equal(v, after[1]['buffers'][k])]
    assert differ and all('.bn.running_' in k for k in differ)
