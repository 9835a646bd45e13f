"""Every detector of the papers (the 1x and 3x models, DETR, the 640 RetinaNet): the shipped
config, with its real train pipeline, trains on the toy COCO data with our tools and tests,
writing COCO AP; mixed-precision recipes train in fp32 without CUDA and say so."""
import re

import pytest
import torch
from mmengine.config import Config

from tools_helper import (config, in_process, load_weights, tool_in_process, toy_coco_config,
                          written_metrics)

# One representative arch per framework: (config, has masks). RetinaNet and Semantic FPN train
# in the quickstart and tests/test_faults.py.
FRAMEWORKS = {
    'mask-rcnn-3x': ('pvtv2/mask-rcnn_pvtv2-b0_fpn_ms-crop-3x_coco.py', True),
    'cascade-mask-rcnn-3x': ('pvtv2/cascade-mask-rcnn_pvtv2-b0_fpn_ms-crop-3x_coco.py', True),
    'atss-3x': ('pvtv2/atss_pvtv2-b0_fpn_ms-crop-3x_coco.py', False),
    'gfl-3x': ('pvtv2/gfl_pvtv2-b0_fpn_ms-crop-3x_coco.py', False),
    'sparse-rcnn-3x':
    ('pvtv2/sparse-rcnn_pvtv2-b0_fpn_300-proposals_crop-ms-480-800-3x_coco.py', False),
    'detr': ('pvt/detr_pvt-s_8xb2-50e_coco.py', False),
    'retinanet-640': ('pvt/retinanet_pvt-s_fpn_1x_coco-640.py', False),
}
# One epoch of one image without validation (test.py evaluates).
ONE_EPOCH = ['train_cfg.max_epochs=1', 'train_cfg.val_begin=2']


@pytest.mark.parametrize('name', list(FRAMEWORKS))
def test_trains_and_tests_on_toy_data(tmp_path, monkeypatch, capsys, name):
    """tools/train.py, then tools/test.py on its checkpoint, both in this process (the
    command-line processes are tested in tests/test_quickstart.py and tests/test_faults.py)."""
    rel, masks = FRAMEWORKS[name]
    cfg = toy_coco_config(config(rel), tmp_path, num_train=1)
    work = tmp_path / 'work'
    out = tool_in_process(monkeypatch, capsys, tmp_path, 'train.py', cfg, '--work-dir', work,
                          '--cfg-options', *ONE_EPOCH)
    assert re.search(r'Epoch\(train\) +\[1\]\[1/1\]', out), out[-3000:]
    amp = Config.fromfile(config(rel)).optim_wrapper.type == 'AmpOptimWrapper'
    fp32_note = 'No CUDA: mixed precision (AmpOptimWrapper) needs a CUDA device'
    assert (fp32_note in out) == (amp and not torch.cuda.is_available())
    assert in_process(monkeypatch, tmp_path, 'test.py', cfg, work / 'epoch_1.pth', '--work-dir',
                      tmp_path / 'test') is None
    metrics = written_metrics(tmp_path / 'test')
    assert 'coco/bbox_mAP' in metrics and ('coco/segm_mAP' in metrics) == masks, metrics
    if name == 'detr':
        # The official PVT DETR checkpoint's layout (mmdet 2.13: the head holds the transformer,
        # input projection and queries; official backbone names) evaluates the same.
        official = tmp_path / 'detr_official_layout.pth'
        torch.save({'state_dict': to_mmdet2_detr(load_weights(work / 'epoch_1.pth'))}, official)
        out = tool_in_process(monkeypatch, capsys, tmp_path, 'test.py', cfg, official, '--work-dir',
                              tmp_path / 'test2')
        assert 'Converted an mmdet 2.x DETR checkpoint' in out
        again = written_metrics(tmp_path / 'test2')
        assert {
            k: v
            for k, v in again.items() if k.startswith('coco/')
        } == {
            k: v
            for k, v in metrics.items() if k.startswith('coco/')
        }


def to_mmdet2_detr(state_dict):
    """A DETR PVT-S state dict in the layout of the official PVT DETR checkpoint (mmdet 2.13's
    DETRHead with its Transformer; the official PVT repository's backbone names)."""
    rules = [
        (r'^backbone\.stages\.(\d)\.patch_embed\.',
         lambda m: f'backbone.patch_embed{int(m[1]) + 1}.'),
        (r'^backbone\.stages\.(\d)\.pos_embed$', lambda m: f'backbone.pos_embed{int(m[1]) + 1}'),
        (r'^backbone\.stages\.(\d)\.blocks\.', lambda m: f'backbone.block{int(m[1]) + 1}.'),
        (r'^neck\.convs\.0\.conv\.', 'bbox_head.input_proj.'),
        (r'^query_embedding\.', 'bbox_head.query_embedding.'),
        (r'^(encoder|decoder)\.layers\.(\d+)\.self_attn\.',
         r'bbox_head.transformer.\1.layers.\2.attentions.0.'),
        (r'^decoder\.layers\.(\d+)\.cross_attn\.',
         r'bbox_head.transformer.decoder.layers.\1.attentions.1.'),
        (r'^(encoder|decoder)\.layers\.(\d+)\.ffn\.',
         r'bbox_head.transformer.\1.layers.\2.ffns.0.'),
        (r'^(encoder|decoder)\.', r'bbox_head.transformer.\1.'),
    ]
    out = {}
    for key, value in state_dict.items():
        for pattern, repl in rules:
            new, n = re.subn(pattern, repl, key)
            if n:
                key = new
                break
        out[key] = value
    assert any(k.startswith('backbone.block4.') for k in out)
    assert 'bbox_head.transformer.decoder.layers.5.attentions.1.attn.in_proj_weight' in out
    return out
