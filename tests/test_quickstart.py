"""The README's quickstart, run as written: both trainings from an empty directory and both demo
commands. The validation curves must end where tests/quickstart_figures.py says (one thread per
process, as the suite runs), within its tolerances; the toy segmentation speaks its own class
names, and the demos draw into work_dirs/. The README's table shows those figures."""
import json
import re

import numpy as np
import pytest
from PIL import Image

from quickstart_figures import AP_TOLERANCE, DETECTION, MIOU_TOLERANCE, SEGMENTATION
from tools_helper import ROOT, config, tool

DET = 'configs/quickstart/retinanet_pvtv2-b0_fpn_toy.py'
SEG = 'configs/quickstart/fpn_pvtv2-b0_toy-192x192.py'


def readme_row(title, threads=1):
    """The README quickstart table's row whose first cell starts with ``title`` and whose second
    names ``threads`` threads."""
    with open(f'{ROOT}/README.md') as f:
        for line in f:
            cells = [c.strip() for c in line.split('|')]
            if line.startswith(f'| {title}') and cells[2].startswith(str(threads)):
                return line
    raise AssertionError(f'no README quickstart row for {title} with {threads} thread(s)')


def numbers(text):
    return [float(v) for v in re.findall(r'\d+\.\d+', text)]


def test_readme_shows_the_quickstart_figures():
    """The README's one-thread rows are the figures the quickstart tests check."""
    det = readme_row(DETECTION['row'])
    assert numbers(det.split('bbox AP50 ')[1].split(' at epochs')[0]) == DETECTION['ap50']
    assert numbers(det.split('(AP ')[1]) == [DETECTION['ap']]
    seg = readme_row(SEGMENTATION['row'])
    assert numbers(seg.split('mIoU ')[1].split(' at ')[0]) == SEGMENTATION['miou']
    assert f'{AP_TOLERANCE} AP and {MIOU_TOLERANCE:g}\nmIoU' in open(f'{ROOT}/README.md').read()


def test_detection_quickstart_as_the_readme_says(tmp_path):
    out = tool('train.py', config(DET[len('configs/'):]), cwd=tmp_path, timeout=1200)
    val = re.findall(
        r'Epoch\(val\) +\[(\d+)\]\[\d+/\d+\] +coco/bbox_mAP: (\d\.\d+) +'
        r'coco/bbox_mAP_50: (\d\.\d+)', out)
    assert [int(e) for e, _, _ in val] == DETECTION['epochs']
    assert float(val[-1][2]) == pytest.approx(DETECTION['ap50'][-1], abs=AP_TOLERANCE), val
    assert float(val[-1][1]) == pytest.approx(DETECTION['ap'], abs=AP_TOLERANCE), val
    ckpt = tmp_path / 'work_dirs/retinanet_pvtv2-b0_fpn_toy/epoch_12.pth'
    image = tmp_path / 'data/toy/coco/val2017/val_00000.jpg'
    out = tool(
        'demo.py',
        image,
        config(DET[len('configs/'):]),
        ckpt,
        '--out',
        'work_dirs/demo_det.png',
        cwd=tmp_path)
    assert 'Failed to add' not in out and 'pkg_resources' not in out  # no noise
    drawn, original = (np.array(Image.open(tmp_path / 'work_dirs/demo_det.png')),
                       np.array(Image.open(image)))
    assert drawn.shape[:2] == original.shape[:2]
    assert np.abs(drawn.astype(int) - original).mean() > 1  # boxes were drawn


def test_segmentation_quickstart_as_the_readme_says(tmp_path):
    out = tool('train.py', config(SEG[len('configs/'):]), cwd=tmp_path, timeout=1200)
    val = re.findall(r'Iter\(val\) +\[\d+/\d+\] +aAcc: \d+\.\d+ +mIoU: (\d+\.\d+)', out)
    expected = SEGMENTATION['miou']
    assert len(val) == len(expected) == len(SEGMENTATION['iterations'])
    assert float(val[-1]) == pytest.approx(expected[-1], abs=MIOU_TOLERANCE), (val, expected)
    # The per-class table names the toy classes, not ADE20K's.
    for name in ('background', 'square', 'circle', 'triangle'):
        assert re.search(rf'\| +{name} +\|', out), name
    assert 'wall' not in out
    work = tmp_path / 'work_dirs/fpn_pvtv2-b0_toy-192x192'
    ckpt = work / 'iter_200.pth'
    (log, ) = work.glob('*/vis_data/scalars.json')
    losses = [json.loads(line)['loss'] for line in log.read_text().splitlines() if 'loss' in line]
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])
    ade = tmp_path / 'data/toy/ade/ADEChallengeData2016'
    tool(
        'demo.py',
        ade / 'images/validation/val_00000.jpg',
        config(SEG[len('configs/'):]),
        ckpt,
        '--out',
        'work_dirs/demo_seg.png',
        cwd=tmp_path)
    drawn = np.array(Image.open(tmp_path / 'work_dirs/demo_seg.png').convert('RGB'), int)
    original = np.array(Image.open(ade / 'images/validation/val_00000.jpg'), int)
    assert drawn.shape == original.shape == (192, 256, 3)
    # Each class is drawn in a colour that contrasts with its shapes' own, so that correctly
    # predicted shapes change colour in the drawing (in their own colour they would not show).
    shapes = np.array(Image.open(ade / 'annotations/validation/val_00000.png')) > 1
    assert np.abs(drawn - original)[shapes].mean() > 40
