"""Detection end to end through the real tools and configs, on a COCO-layout toy dataset."""
import json
import pickle
import re

import pytest
import torch

from tools_helper import SMALL_TOY, config, tool

RETINANET = config('quickstart/retinanet_pvtv2-b0_fpn_toy.py')
MASK_RCNN = config('quickstart/mask-rcnn_pvtv2-b0_fpn_toy.py')
SHORT = ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=2',
         'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
         'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
         'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
         'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1']
# A barely trained detector scores below the default thresholds: keep every box so COCO eval runs.
RETINA_THR = ['model.test_cfg.score_thr=0.0']
MASK_THR = ['model.test_cfg.rcnn.score_thr=0.0']


def test_retinanet_train_then_test(tmp_path):
    work = tmp_path / 'work'
    out = tool('train.py', RETINANET, '--work-dir', work, '--cfg-options', *SMALL_TOY, *SHORT,
               'train_cfg.val_interval=1', *RETINA_THR, cwd=tmp_path)
    assert re.search(r'Epoch\(train\) +\[1\]\[4/4\]', out) and 'coco/bbox_mAP' in out
    # The toy COCO dataset was written where the config points, in the real layout.
    ann = json.loads((tmp_path / 'data/toy/coco/annotations/instances_val2017.json').read_text())
    assert len(ann['images']) == 4 and {c['name'] for c in ann['categories']} == {
        'square', 'circle', 'triangle'}
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()
    out = tool('test.py', RETINANET, ckpt, '--work-dir', tmp_path / 'test',
               '--out', tmp_path / 'res.pkl', '--cfg-options', *SMALL_TOY, *SHORT, *RETINA_THR,
               cwd=tmp_path)
    assert 'coco/bbox_mAP_50' in out
    results = pickle.loads((tmp_path / 'res.pkl').read_bytes())
    assert len(results) == 4 and 'bboxes' in results[0]['pred_instances']
    # Flip test-time augmentation, and drawn predictions.
    out = tool('test.py', RETINANET, ckpt, '--work-dir', tmp_path / 'tta', '--tta',
               '--cfg-options', *SMALL_TOY, *SHORT, *RETINA_THR, cwd=tmp_path)
    assert 'coco/bbox_mAP_50' in out
    tool('test.py', RETINANET, ckpt, '--work-dir', tmp_path / 'vis', '--show-dir', 'drawn',
         '--cfg-options', *SMALL_TOY, *SHORT, *RETINA_THR, cwd=tmp_path)
    assert len(list((tmp_path / 'vis').glob('*/drawn/*.jpg'))) == 4


def test_mask_rcnn_train_then_test_bbox_and_segm(tmp_path):
    work = tmp_path / 'work'
    tool('train.py', MASK_RCNN, '--work-dir', work, '--cfg-options', *SMALL_TOY, *SHORT,
         'train_cfg.val_interval=5', cwd=tmp_path)
    out = tool('test.py', MASK_RCNN, work / 'epoch_1.pth', '--work-dir', tmp_path / 'test',
               '--cfg-options', *SMALL_TOY, *SHORT, *MASK_THR, cwd=tmp_path)
    assert 'coco/bbox_mAP' in out and 'coco/segm_mAP' in out


def test_resume_from_explicit_checkpoint_path(tmp_path):
    common = ['--cfg-options', *SMALL_TOY, *SHORT, 'train_cfg.val_interval=100']
    tool('train.py', RETINANET, '--work-dir', tmp_path / 'a', *common, cwd=tmp_path)
    out = tool('train.py', RETINANET, '--work-dir', tmp_path / 'b', '--resume',
               tmp_path / 'a/epoch_1.pth', *common, 'train_cfg.max_epochs=2', cwd=tmp_path)
    assert 'resumed epoch: 1' in out and (tmp_path / 'b/epoch_2.pth').is_file()


def test_amp_without_cuda_trains_in_fp32_and_says_so(tmp_path):
    if torch.cuda.is_available():
        pytest.skip('this machine has CUDA: --amp builds the AmpOptimWrapper')
    out = tool('train.py', RETINANET, '--amp', '--work-dir', tmp_path / 'w', '--cfg-options',
               *SMALL_TOY, *SHORT, 'toy_data.num_train=2', 'train_cfg.val_interval=100',
               cwd=tmp_path)
    assert out.count('No CUDA: mixed precision (AmpOptimWrapper) needs a CUDA device') == 1
    assert (tmp_path / 'w/epoch_1.pth').is_file()
