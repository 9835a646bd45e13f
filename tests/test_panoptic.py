"""COCO panoptic without panopticapi (pvt_mm/panoptic.py): the toy dataset's format, PQ on
hand-built cases whose value is known by construction, agreement with mmdet's own transform and
metric where panopticapi exists (a subprocess with panopticapi-lite's panopticapi on the path),
the Mask2Former and Panoptic FPN configs trained and tested on the toy data, and DetInferencer's
panoptic path."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET

from pvt_mm.datasets import generate_toy_data
from pvt_mm.panoptic import (CocoPanopticMetricOrHotcoco, HotcocoPanopticMetric, has_panopticapi,
                             id2rgb, rgb2id)
from tools_helper import (config, in_process, tool_in_process, toy_coco_panoptic_config,
                          written_metrics)

HERE = osp.dirname(osp.abspath(__file__))
META = dict(classes=('a', 'b', 's'), thing_classes=('a', 'b'), stuff_classes=('s', ))
CATEGORIES = [
    dict(id=1, name='a', isthing=1),
    dict(id=2, name='b', isthing=1),
    dict(id=3, name='s', isthing=0)
]
VOID_LABEL = len(META['classes'])  # the models' "no segment" label


def test_id_conversion_round_trips():
    ids = np.array([[0, 1, 255], [256, 65535, 65536], [2**24 - 1, 4 + 256 * 3, 7]])
    rgb = id2rgb(ids)
    assert rgb.dtype == np.uint8 and rgb[1, 1].tolist() == [255, 255, 0]
    assert (rgb2id(rgb) == ids).all()
    assert rgb2id([4, 3, 0]) == 4 + 256 * 3


def test_toy_panoptic_dataset_is_coco_panoptic(tmp_path):
    """PNG ids = R + 256 G + 256^2 B; every segment of the JSON is in its PNG with its area and
    box, nothing else is but unlabelled pixels; things are the instance JSON's objects."""
    root = generate_toy_data(str(tmp_path / 'toy'), num_train=3, num_val=3, size=(96, 128))
    ann_dir = osp.join(root, 'coco', 'annotations')
    pan = json.load(open(osp.join(ann_dir, 'panoptic_val2017.json')))
    inst = json.load(open(osp.join(ann_dir, 'instances_val2017.json')))
    cats = {c['id']: c for c in pan['categories']}
    assert [(c['name'], c['isthing']) for c in pan['categories']] == [('square', 1), ('circle', 1),
                                                                      ('triangle', 1),
                                                                      ('background', 0)]
    assert [i['file_name'] for i in pan['images']] == [i['file_name'] for i in inst['images']]
    void = 0
    for ann in pan['annotations']:
        bgr = cv2.imread(osp.join(ann_dir, 'panoptic_val2017', ann['file_name']))
        ids = rgb2id(bgr[..., ::-1])
        assert set(np.unique(ids)) == {s['id'] for s in ann['segments_info']} | {0}
        void += (ids == 0).sum()
        for seg in ann['segments_info']:
            ys, xs = np.nonzero(ids == seg['id'])
            assert seg['area'] == len(ys)
            assert seg['bbox'] == [
                xs.min(), ys.min(),
                xs.max() - xs.min() + 1,
                ys.max() - ys.min() + 1
            ]
        things = sorted((s['category_id'], s['area']) for s in ann['segments_info']
                        if cats[s['category_id']]['isthing'])
        objects = sorted((a['category_id'], a['area']) for a in inst['annotations']
                         if a['image_id'] == ann['image_id'])
        assert things == objects
    assert void > 0


# Hand-built cases on a 20x20 image: categories a, b (things) and s (stuff). Each is
# (gt segments, pred segments, expected {All, Things, Stuff: (PQ, SQ, RQ)} in %), a segment being
# (category name, iscrowd (gt only), rows, columns); gt pixels left uncovered are unlabelled, pred
# pixels left uncovered are the model's "no segment". Expected values by hand, from the COCO
# panoptic definition: a match is IoU > 0.5; PQ_c = sum IoU / (TP + FP/2 + FN/2).
def _r(a, b):
    return slice(a, b)


ALL = (_r(0, 20), _r(0, 20))
CASES = {
    # Every segment found exactly.
    'perfect': ([('s', 0) + ALL, ('a', 0, _r(2, 7), _r(2, 7))], [('s', ) + ALL,
                                                                 ('a', _r(2, 7), _r(2, 7))], {
                                                                     'All': (100, 100, 100),
                                                                     'Things': (100, 100, 100),
                                                                     'Stuff': (100, 100, 100)
                                                                 }),
    # Two a's, one predicted: a has TP 1, FN 1 -> PQ = 1 / 1.5.
    'missed segment': ([('s', 0) + ALL, ('a', 0, _r(0, 4), _r(0, 4)),
                        ('a', 0, _r(8, 12), _r(8, 12))], [('s', ) + ALL, ('a', _r(0, 4), _r(0, 4)),
                                                          (None, _r(8, 12), _r(8, 12))], {
                                                              'All': (250 / 3, 100, 250 / 3),
                                                              'Things': (200 / 3, 100, 200 / 3),
                                                              'Stuff': (100, 100, 100)
                                                          }),
    # A b where there is only stuff: b has FP 1 (PQ 0); s keeps IoU 368 / 384.
    'false positive': ([('s', 0) + ALL, ('a', 0, _r(0, 4), _r(0, 4))],
                       [('s', ) + ALL, ('a', _r(0, 4), _r(0, 4)), ('b', _r(10, 14), _r(10, 14))], {
                           'All': (100 * (1 + 368 / 384) / 3, 100 * (1 + 368 / 384) / 3, 200 / 3),
                           'Things': (50, 50, 50),
                           'Stuff': (100 * 368 / 384, 100 * 368 / 384, 100)
                       }),
    # An a covering 8 of the 16 pixels of the gt a: IoU = 8 / 16 = 0.5 is no match (FN + FP).
    'IoU exactly 0.5': ([('s', 0) + ALL,
                         ('a', 0, _r(0, 4), _r(0, 4))], [('s', ) + ALL, (None, _r(0, 4), _r(0, 4)),
                                                         ('a', _r(0, 4), _r(0, 2))], {
                                                             'All': (50, 50, 50),
                                                             'Things': (0, 0, 0),
                                                             'Stuff': (100, 100, 100)
                                                         }),
    # 9 of 16: IoU = 9 / 16 > 0.5, a match.
    'IoU above 0.5':
    ([('s', 0) + ALL,
      ('a', 0, _r(0, 4), _r(0, 4))], [('s', ) + ALL, (None, _r(0, 4), _r(0, 4)),
                                      ('a', _r(0, 3), _r(0, 3))], {
                                          'All':
                                          (100 * (1 + 9 / 16) / 2, 100 * (1 + 9 / 16) / 2, 100),
                                          'Things': (100 * 9 / 16, 100 * 9 / 16, 100),
                                          'Stuff': (100, 100, 100)
                                      }),
    # A b lying 16 / 24 in unlabelled pixels is no FP; s loses 8 pixels: IoU 360 / 368.
    'void': ([('s', 0, _r(0, 20), _r(0, 10)), ('s', 0, _r(0, 20), _r(14, 20)),
              ('s', 0, _r(0, 10), _r(10, 14)), ('s', 0, _r(14, 20), _r(10, 14)),
              ('a', 0, _r(0, 4), _r(0, 4))], [('s', ) + ALL, ('a', _r(0, 4), _r(0, 4)),
                                              ('b', _r(10, 14), _r(10, 16))], {
                                                  'All': (100 * (1 + 360 / 368) / 2,
                                                          100 * (1 + 360 / 368) / 2, 100),
                                                  'Things': (100, 100, 100),
                                                  'Stuff': (100 * 360 / 368, 100 * 360 / 368, 100)
                                              }),
    # An a spilling onto 4 unlabelled pixels: they leave the union, IoU = 16 / 16.
    'void in the union': ([('s', 0, _r(0, 20), _r(5, 20)), ('s', 0, _r(4, 20), _r(0, 5)),
                           ('a', 0, _r(0, 4), _r(0, 4))], [('s', ) + ALL,
                                                           ('a', _r(0, 4), _r(0, 5))], {
                                                               'All': (100, 100, 100),
                                                               'Things': (100, 100, 100),
                                                               'Stuff': (100, 100, 100)
                                                           }),
    # An a inside a crowd region of a is no FP, the crowd region no FN.
    'crowd': ([('s', 0) + ALL, ('a', 0, _r(0, 4), _r(0, 4)),
               ('a', 1, _r(10, 18), _r(10, 18))], [('s', ) + ALL, ('a', _r(0, 4), _r(0, 4)),
                                                   (None, _r(10, 18), _r(10, 18)),
                                                   ('a', _r(10, 14), _r(10, 14))], {
                                                       'All': (100, 100, 100),
                                                       'Things': (100, 100, 100),
                                                       'Stuff': (100, 100, 100)
                                                   }),
}


def write_case(root, name, gt_segments, image_id=1):
    """The gt PNG and the panoptic JSON of one case, in the COCO panoptic format."""
    ids = np.zeros((20, 20), np.int64)
    cat_ids = {c['name']: c['id'] for c in CATEGORIES}
    segments, seen = [], {}
    for name_, iscrowd, rows, cols in gt_segments:
        key = (name_, iscrowd)
        if name_ == 's' and key in seen:  # one stuff segment, written in pieces
            seg_id = seen[key]
        else:
            seg_id = seen[key] = 10 * (len(segments) + 1)
            segments.append(dict(id=seg_id, category_id=cat_ids[name_], iscrowd=iscrowd))
        ids[rows, cols] = seg_id
    for seg in segments:
        ys, xs = np.nonzero(ids == seg['id'])
        seg.update(
            area=int(len(ys)),
            bbox=[
                int(xs.min()),
                int(ys.min()),
                int(xs.max() - xs.min() + 1),
                int(ys.max() - ys.min() + 1)
            ])
    file_name = name.replace(' ', '_') + '.png'
    os.makedirs(osp.join(root, 'panoptic'), exist_ok=True)
    cv2.imwrite(osp.join(root, 'panoptic', file_name), id2rgb(ids)[..., ::-1])
    return (dict(id=image_id, file_name=file_name.replace('.png', '.jpg'), height=20,
                 width=20), dict(image_id=image_id, file_name=file_name, segments_info=segments))


def prediction(pred_segments):
    """A model's panoptic output: label + instance * INSTANCE_OFFSET per pixel, the "no
    segment" label where nothing is predicted."""
    pan = np.full((20, 20), VOID_LABEL, np.int64)
    for k, (name_, rows, cols) in enumerate(pred_segments):
        label = VOID_LABEL if name_ is None else META['classes'].index(name_)
        pan[rows, cols] = label + (k + 1) * INSTANCE_OFFSET * (name_ in META['thing_classes'])
    return pan


def case_files(root, names):
    """The ann file, seg prefix and data samples of ``names`` (one image each)."""
    images, annotations, samples = [], [], []
    for image_id, name in enumerate(names, 1):
        gt_segments, pred_segments, _ = CASES[name]
        image, annotation = write_case(root, name, gt_segments, image_id)
        images.append(image)
        annotations.append(annotation)
        samples.append(
            dict(
                img_id=image_id,
                img_path=osp.join(root, 'images', image['file_name']),
                ori_shape=(20, 20),
                pred_panoptic_seg=dict(sem_seg=torch.from_numpy(prediction(pred_segments))[None])))
    ann_file = osp.join(root, 'panoptic.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=CATEGORIES), f)
    return ann_file, osp.join(root, 'panoptic') + '/', samples


def evaluate(metric, samples):
    metric.dataset_meta = META
    metric.process({}, samples)
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('name', list(CASES))
def test_pq_of_a_case_known_by_construction(tmp_path, name):
    ann_file, seg_prefix, samples = case_files(str(tmp_path), [name])
    got = evaluate(HotcocoPanopticMetric(ann_file=ann_file, seg_prefix=seg_prefix), samples)
    for group, suffix in (('All', ''), ('Things', '_th'), ('Stuff', '_st')):
        for metric, want in zip(('PQ', 'SQ', 'RQ'), CASES[name][2][group]):
            assert got[f'coco_panoptic/{metric}{suffix}'] == pytest.approx(
                want, abs=1e-9), (group, metric)


def test_pq_of_all_cases_together(tmp_path):
    """Over several images, per-class sums: one image's FN and another's TP add up."""
    names = ['perfect', 'missed segment', 'false positive']
    ann_file, seg_prefix, samples = case_files(str(tmp_path), names)
    got = evaluate(HotcocoPanopticMetric(ann_file=ann_file, seg_prefix=seg_prefix), samples)
    # a: TP 3 (IoU 1), FN 1; b: FP 1; s: TP 3, IoU 1 + 1 + 368/384.
    pq_a, pq_b, pq_s = 3 / 3.5, 0, (2 + 368 / 384) / 3
    assert got['coco_panoptic/PQ'] == pytest.approx(100 * (pq_a + pq_b + pq_s) / 3)
    assert got['coco_panoptic/RQ_th'] == pytest.approx(100 * (3 / 3.5 + 0) / 2)


def test_classwise_table_lists_every_class(tmp_path, capsys):
    """``classwise=True`` logs mmdet's per-class table: a class with no segments on either side
    (b in the perfect case) appears with zeros, as in mmdet's."""
    from mmengine.logging import MMLogger
    MMLogger.get_instance(f'classwise-{tmp_path.name}')  # current, writing to captured stdout
    ann_file, seg_prefix, samples = case_files(str(tmp_path), ['perfect'])
    evaluate(
        HotcocoPanopticMetric(ann_file=ann_file, seg_prefix=seg_prefix, classwise=True), samples)
    table = capsys.readouterr().out.split('Classwise Panoptic Evaluation Results')[1]
    cells = [
        c.strip() for line in table.splitlines() if line.startswith('|')
        for c in line.strip('|').split('|')
    ]  # mmdet's table: 2 classes a row, 4 cells each
    rows = {
        cells[i]: cells[i + 1:i + 4]
        for i in range(0, len(cells), 4) if cells[i] in META['classes']
    }
    assert rows == {'a': ['100.000'] * 3, 'b': ['0.000'] * 3, 's': ['100.000'] * 3}


def _break(ann_file, seg_prefix, problem):
    """Damage the 'perfect' case's files one way; the message expected."""
    png = osp.join(seg_prefix, 'perfect.png')
    data = json.load(open(ann_file))
    segments = data['annotations'][0]['segments_info']
    if problem == 'bad JSON':
        open(ann_file, 'w').write('{"images": [')
        return f'{ann_file}: not a COCO panoptic annotation file (JSONDecodeError'
    if problem == 'not panoptic JSON':
        json.dump(
            dict(images=[], annotations=[dict(image_id=1)], categories=[]), open(ann_file, 'w'))
        return f'{ann_file}: not a COCO panoptic annotation file (KeyError'
    if problem == 'unknown category':
        segments[1]['category_id'] = 42
        json.dump(data, open(ann_file, 'w'))
        return f'{ann_file}: image 1, segment {segments[1]["id"]}: category_id 42 is not one of'
    if problem == 'bad iscrowd':
        segments[1]['iscrowd'] = 5
        json.dump(data, open(ann_file, 'w'))
        return f'{ann_file}: image 1, segment {segments[1]["id"]}: iscrowd 5 (0 or 1)'
    if problem == 'bad PNG':
        open(png, 'wb').write(b'\x89PNG\r\n\x1a\n not really')
        return f'{png}: not a readable panoptic PNG'
    if problem == 'size mismatch':
        cv2.imwrite(png, cv2.resize(cv2.imread(png), (24, 20), interpolation=cv2.INTER_NEAREST))
        return f'{png}: 24x20 pixels, and its image 20x20'
    # a segment in the PNG that the JSON does not list
    del segments[1]
    json.dump(data, open(ann_file, 'w'))
    return f'{png}: segment 20 is in the PNG and not in the annotations of image 1'


@pytest.mark.parametrize('problem', [
    'bad JSON', 'not panoptic JSON', 'unknown category', 'bad iscrowd', 'bad PNG', 'size mismatch',
    'unlisted segment'
])
def test_annotation_problems_are_named_errors(tmp_path, problem):
    """Each is one AnnotationError naming the file (and the image and segment), from the metric
    and, for the PNG, from the training transform: never a cv2 / KeyError / JSON traceback, never
    a PQ of 0 or -100 computed from it."""
    from pvt_mm.panoptic import LoadCocoPanopticAnnotations
    from pvt_mm.utils import AnnotationError
    ann_file, seg_prefix, samples = case_files(str(tmp_path), ['perfect'])
    expected = _break(ann_file, seg_prefix, problem)
    with pytest.raises(AnnotationError) as err:
        evaluate(HotcocoPanopticMetric(ann_file=ann_file, seg_prefix=seg_prefix), samples)
    assert str(err.value).startswith(expected), str(err.value)
    if problem in ('bad PNG', 'size mismatch'):
        results = dict(
            seg_map_path=osp.join(seg_prefix, 'perfect.png'),
            ori_shape=(20, 20),
            segments_info=[],
            img_shape=(20, 20))
        with pytest.raises(AnnotationError, match=re.escape(expected)):
            LoadCocoPanopticAnnotations(with_bbox=False, with_label=False)(results)


def test_without_panopticapi_configs_get_hotcoco(tmp_path):
    assert not has_panopticapi()  # the test environment is the one users without git have
    ann_file, seg_prefix, _ = case_files(str(tmp_path), ['perfect'])
    assert isinstance(
        CocoPanopticMetricOrHotcoco(ann_file=ann_file, seg_prefix=seg_prefix),
        HotcocoPanopticMetric)


def test_without_hotcoco_the_metric_says_what_to_install(tmp_path, monkeypatch):
    from pvt_mm.utils import MissingDependencyError
    monkeypatch.setitem(sys.modules, 'hotcoco', None)  # what `import hotcoco` meets uninstalled
    with pytest.raises(MissingDependencyError, match=r'`pip install hotcoco`'):
        CocoPanopticMetricOrHotcoco(ann_file=None)


def test_format_only_writes_coco_panoptic_results(tmp_path):
    ann_file, seg_prefix, samples = case_files(str(tmp_path), ['missed segment'])
    prefix = str(tmp_path / 'out' / 'results')
    metric = HotcocoPanopticMetric(ann_file=ann_file, format_only=True, outfile_prefix=prefix)
    assert evaluate(metric, samples) == {}
    result = json.load(open(prefix + '.panoptic.json'))['annotations'][0]
    ids = rgb2id(cv2.imread(osp.join(prefix + '.panoptic', result['file_name']))[..., ::-1])
    assert sorted((s['category_id'], s['area']) for s in result['segments_info']) == [(1, 16),
                                                                                      (3, 400 - 32)]
    assert (ids == 0).sum() == 16  # the unpredicted a: VOID


@pytest.fixture(scope='module')
def panopticapi_dir(tmp_path_factory):
    """A directory of its own holding the ``panopticapi`` module, for a subprocess's path.

    cocodataset/panopticapi is not on the package index; panopticapi-lite (0.2.0 checked) is, and
    installs the same module (``evaluation.py``: ``pq_compute``, ``PQStat``, ``VOID``, ``OFFSET``;
    ``utils.py``: ``rgb2id``, ``id2rgb``, ``IdGenerator`` ...). ``--no-deps``: it pins
    numpy < 2, and the module needs only numpy and Pillow, which the test environment has. Into a
    directory of its own, so that the test environment stays one without panopticapi
    (test_without_panopticapi_configs_get_hotcoco)."""
    target = tmp_path_factory.mktemp('panopticapi_lite')
    cmd = [
        sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check', '--no-deps',
        '--target',
        str(target), 'panopticapi-lite'
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0 or not osp.isfile(osp.join(target, 'panopticapi', 'evaluation.py')):
        pytest.fail(
            f'could not install panopticapi-lite, which this test needs (mmdet\'s '
            f'panoptic transform and metric import its panopticapi module): '
            f'`{" ".join(cmd)}` exited with {out.returncode}:\n'
            f'{(out.stdout + out.stderr)[-4000:]}',
            pytrace=False)
    return str(target)


def test_mmdet_transform_and_metric_agree_where_panopticapi_exists(tmp_path, panopticapi_dir):
    """With panopticapi importable (panopticapi-lite, installed by pip into a directory of its
    own), mmdet's LoadPanopticAnnotations and CocoPanopticMetric run, and pvt_mm's give the same
    annotations and the same metrics (with and without an annotation file), and the configs'
    metric is mmdet's."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([panopticapi_dir, HERE]))
    out = subprocess.run(
        [sys.executable, osp.join(HERE, 'panoptic_parity.py'),
         str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    assert out.returncode == 0, out.stderr[-4000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report['selected'] == 'CocoPanopticMetric'
    assert report['samples'] >= 6 and report['loader_differences'] == []
    for source in ('ann_file', 'segments_info'):
        mmdet_, ours = report[source]['mmdet'], report[source]['pvt_mm']
        assert set(mmdet_) == set(ours) and len(ours) == 9
        for key in ours:
            assert ours[key] == pytest.approx(mmdet_[key], abs=1e-9), (source, key)
        assert 0 < ours['coco_panoptic/PQ'] < 100  # the perturbed predictions: a real test


def test_hotcoco_bbox_and_segm_ap_equal_pycocotools(tmp_path):
    """hotcoco states pycocotools' AP bit for bit: on the toy COCO set with perturbed, scored
    detections, its twelve bbox and segm numbers are pycocotools'."""
    from hotcoco import COCO as HotCOCO
    from hotcoco import COCOeval as HotCOCOeval
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    root = generate_toy_data(str(tmp_path / 'toy'), num_train=1, num_val=12, size=(96, 128))
    ann_file = osp.join(root, 'coco', 'annotations', 'instances_val2017.json')
    gt = COCO(ann_file)
    rng = np.random.default_rng(0)
    dets = []
    for ann in gt.dataset['annotations']:
        img = gt.imgs[ann['image_id']]
        for k in range(2):
            x, y, w, h = (np.array(ann['bbox']) + rng.normal(0, 2 + 4 * k, 4)).tolist()
            mask = np.zeros((img['height'], img['width']), np.uint8)
            mask[max(int(y), 0):int(y + h), max(int(x), 0):int(x + w)] = 1
            rle = mask_utils.encode(np.asfortranarray(mask))
            rle['counts'] = rle['counts'].decode()
            dets.append(
                dict(
                    image_id=ann['image_id'],
                    category_id=int(rng.integers(1, 4)) if k else ann['category_id'],
                    bbox=[x, y, max(w, 1), max(h, 1)],
                    segmentation=rle,
                    score=float(rng.uniform(0.05, 1))))
    for iou_type in ('bbox', 'segm'):
        ref = COCOeval(gt, gt.loadRes(dets), iou_type)
        hot_gt = HotCOCO(ann_file)
        hot = HotCOCOeval(hot_gt, hot_gt.load_res(dets), iou_type)
        for ev in (ref, hot):
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        assert 0 < ref.stats[0] < 1
        np.testing.assert_allclose(np.array(hot.stats), ref.stats, rtol=0, atol=1e-12)


PANOPTIC = {
    'mask2former': 'pvtv2/mask2former_pvtv2-b0_8xb2-lsj-50e_coco-panoptic.py',
    'panoptic-fpn': 'pvtv2/panoptic-fpn_pvtv2-b0_fpn_1x_coco.py',
}


@pytest.mark.parametrize('name', list(PANOPTIC))
def test_trains_then_tests_on_toy_panoptic_data(tmp_path, monkeypatch, capsys, name):
    """One training iteration with the config's own pipeline (Mask2Former's large-scale jitter,
    Panoptic FPN's 1333x800) on the toy COCO panoptic set; tools/test.py reports PQ / SQ / RQ of
    all, things and stuff; DetInferencer (from pvt_mm.apis.inferencer) draws and saves the
    panoptic result of a toy image."""
    cfg = toy_coco_panoptic_config(config(PANOPTIC[name]), tmp_path, num_train=1)
    work = tmp_path / 'work'
    if name == 'mask2former':
        loop = [
            'train_cfg.max_iters=1', 'train_cfg.val_begin=2', 'default_hooks.checkpoint.interval=1'
        ]
        ckpt = work / 'iter_1.pth'
    else:
        loop, ckpt = ['train_cfg.max_epochs=1', 'train_cfg.val_begin=2'], work / 'epoch_1.pth'
    out = tool_in_process(monkeypatch, capsys, tmp_path, 'train.py', cfg, '--work-dir', work,
                          '--cfg-options', *loop)
    assert re.search(r'(Epoch|Iter)\(train\) +(\[1\])?\[1/1\]', out), out[-3000:]
    assert in_process(monkeypatch, tmp_path, 'test.py', cfg, ckpt, '--work-dir',
                      tmp_path / 'test') is None
    metrics = written_metrics(tmp_path / 'test')
    pq = sorted(k for k in metrics if k.startswith('coco_panoptic/'))
    assert pq == sorted(f'coco_panoptic/{m}{s}' for m in ('PQ', 'SQ', 'RQ')
                        for s in ('', '_th', '_st')), metrics
    assert all(0 <= metrics[k] <= 100 for k in pq)

    from pvt_mm.apis import inferencer as toolbox_inferencer
    image = str(tmp_path / 'data/toy/coco/val2017/val_00000.jpg')
    inferencer = toolbox_inferencer(str(cfg), weights=str(ckpt), device='cpu')
    assert type(inferencer).__name__ == 'DetInferencer'
    # mmdet's visualizer fails on a panoptic result without segments (np.stack of no areas),
    # which is what a Mask2Former trained for one iteration predicts: its result is saved only.
    draw = name == 'panoptic-fpn'
    result = inferencer(
        image, out_dir=str(tmp_path / 'infer'), no_save_pred=False, no_save_vis=not draw)
    pan = cv2.imread(result['predictions'][0]['panoptic_seg_path'])
    assert pan.shape == cv2.imread(image).shape
    if draw:
        drawn = cv2.imread(str(tmp_path / 'infer' / 'vis' / 'val_00000.jpg'))
        assert drawn.shape == pan.shape
        assert (pan != 0).any()  # segments, not VOID (0) only
        assert not np.array_equal(drawn, cv2.imread(image))  # the segments are drawn
