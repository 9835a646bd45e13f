"""Run by tests/test_panoptic.py with panopticapi (pip's panopticapi-lite, installed into a
directory of its own) on PYTHONPATH: mmdet's own LoadPanopticAnnotations and CocoPanopticMetric
beside pvt_mm's replacements, on the toy COCO panoptic set and the hand-built cases. Prints one
JSON line.

    python tests/panoptic_parity.py WORK_DIR
"""
import json
import os.path as osp
import sys

import numpy as np


def loader_differences(root):
    """Where mmdet's and pvt_mm's loading transforms disagree on the toy val set's images."""
    from mmdet.datasets import CocoPanopticDataset

    from pvt_mm.datasets.toy import CLASSES, PANOPTIC_STUFF
    results = {}
    for loader in ('LoadPanopticAnnotations', 'LoadCocoPanopticAnnotations'):
        dataset = CocoPanopticDataset(
            data_root=osp.join(root, 'coco'),
            ann_file='annotations/panoptic_val2017.json',
            data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
            metainfo=dict(
                classes=CLASSES + PANOPTIC_STUFF,
                thing_classes=CLASSES,
                stuff_classes=PANOPTIC_STUFF),
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type=loader)],
            test_mode=True)
        results[loader] = [dataset[i] for i in range(len(dataset))]
    differences = []
    for i, (theirs, ours) in enumerate(zip(*results.values())):
        for key in ('gt_bboxes_labels', 'gt_ignore_flags', 'gt_seg_map'):
            if not np.array_equal(theirs[key], ours[key]):
                differences.append((i, key))
        if not np.array_equal(theirs['gt_bboxes'].tensor.numpy(), ours['gt_bboxes'].tensor.numpy()):
            differences.append((i, 'gt_bboxes'))
        if not np.array_equal(theirs['gt_masks'].masks, ours['gt_masks'].masks):
            differences.append((i, 'gt_masks'))
    return len(results['LoadPanopticAnnotations']), differences


def metrics(work):
    """mmdet's and pvt_mm's PQ over all hand-built cases, read through the annotation file and
    through the dataset's segments_info."""
    from mmdet.evaluation.metrics import CocoPanopticMetric
    from test_panoptic import CASES, CATEGORIES, META, case_files, evaluate

    from pvt_mm.panoptic import HotcocoPanopticMetric
    names = list(CASES)
    report = {}
    for source in ('ann_file', 'segments_info'):
        report[source] = {}
        for name, cls in (('mmdet', CocoPanopticMetric), ('pvt_mm', HotcocoPanopticMetric)):
            ann_file, seg_prefix, samples = case_files(osp.join(work, 'cases'), names)
            if source == 'segments_info':
                anns = {a['image_id']: a for a in json.load(open(ann_file))['annotations']}
                label = {c['id']: META['classes'].index(c['name']) for c in CATEGORIES}
                things = {c['id'] for c in CATEGORIES if c['isthing']}
                for sample in samples:
                    sample['segments_info'] = [
                        dict(
                            id=s['id'],
                            category=label[s['category_id']],
                            is_thing=s['category_id'] in things and not s['iscrowd'])
                        for s in anns[sample['img_id']]['segments_info']
                    ]
                ann_file = None
            report[source][name] = evaluate(cls(ann_file=ann_file, seg_prefix=seg_prefix), samples)
    return report


def main():
    work = sys.argv[1]
    from mmengine.registry import init_default_scope

    import pvt_mm  # noqa: F401
    from pvt_mm.datasets import generate_toy_data
    from pvt_mm.panoptic import CocoPanopticMetricOrHotcoco
    init_default_scope('mmdet')
    root = generate_toy_data(osp.join(work, 'toy'), num_train=1, num_val=6, size=(96, 128))
    samples, differences = loader_differences(root)
    report = metrics(work)
    selected = CocoPanopticMetricOrHotcoco(
        ann_file=osp.join(root, 'coco', 'annotations', 'panoptic_val2017.json'))
    report.update(samples=samples, loader_differences=differences, selected=type(selected).__name__)
    print(json.dumps(report))


if __name__ == '__main__':
    main()
