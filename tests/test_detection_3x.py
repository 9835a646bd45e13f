"""The PVTv2 3x detectors, DETR and the 640 RetinaNet: each shipped config, with its real train
pipeline, trains on the toy COCO data with our tools and tests, writing COCO AP."""
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config

from tools_helper import config, dist_train_with_rank_dumps, load_weights, tool, toy_coco_config

# One representative arch per framework: (config, has masks).
FRAMEWORKS = {
    'mask-rcnn-3x': ('pvtv2/mask-rcnn_pvtv2-b0_fpn_ms-crop-3x_coco.py', True),
    'cascade-mask-rcnn-3x': ('pvtv2/cascade-mask-rcnn_pvtv2-b0_fpn_ms-crop-3x_coco.py', True),
    'atss-3x': ('pvtv2/atss_pvtv2-b0_fpn_ms-crop-3x_coco.py', False),
    'gfl-3x': ('pvtv2/gfl_pvtv2-b0_fpn_ms-crop-3x_coco.py', False),
    'sparse-rcnn-3x': ('pvtv2/sparse-rcnn_pvtv2-b0_fpn_300-proposals_crop-ms-480-800-3x_coco.py',
                       False),
    'detr': ('pvt/detr_pvt-s_8xb2-50e_coco.py', False),
    'retinanet-640': ('pvt/retinanet_pvt-s_fpn_1x_coco-640.py', False),
}
ONE_EPOCH = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1']


@pytest.mark.parametrize('name', list(FRAMEWORKS))
def test_trains_and_tests_on_toy_data(tmp_path, name):
    rel, masks = FRAMEWORKS[name]
    cfg = toy_coco_config(config(rel), tmp_path)
    work = tmp_path / 'work'
    out = tool('train.py', cfg, '--work-dir', work, '--cfg-options', *ONE_EPOCH, cwd=tmp_path)
    assert re.search(r'Epoch\(train\) +\[1\]\[2/2\]', out), out[-3000:]
    assert 'coco/bbox_mAP' in out
    amp = Config.fromfile(config(rel)).optim_wrapper.type == 'AmpOptimWrapper'
    fp32_note = 'No CUDA: mixed precision (AmpOptimWrapper) needs a CUDA device'
    assert (fp32_note in out) == (amp and not torch.cuda.is_available())
    out = tool('test.py', cfg, work / 'epoch_1.pth', '--work-dir', tmp_path / 'test',
               cwd=tmp_path)
    metrics = dict(re.findall(r'coco/(\w+): (-?\d+\.\d+)', out))
    assert 'bbox_mAP' in metrics and ('segm_mAP' in metrics) == masks, out[-3000:]
