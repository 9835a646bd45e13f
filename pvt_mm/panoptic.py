"""COCO panoptic segmentation without ``panopticapi``.

mmdet 3.3's panoptic loading transform, its ``CocoPanopticMetric`` and the panoptic branch of
``DetInferencer`` import ``panopticapi``, which is not on the package index (users install it
from its git repository). What they take from it is small: the id conversion of the panoptic
PNGs (id = R + 256 G + 256^2 B), ``VOID = 0``, and the PQ computation. This module gives each
its own home:

- :func:`rgb2id` / :func:`id2rgb`, the conversion;
- :class:`LoadCocoPanopticAnnotations`, mmdet's ``LoadPanopticAnnotations`` given that
  conversion (equal to mmdet's where ``panopticapi`` exists; tests/test_panoptic.py);
- :class:`HotcocoPanopticMetric`, PQ / SQ / RQ (all, things, stuff) computed by ``hotcoco``
  (pip-installable; its panoptic evaluation matches panopticapi's) from the segments as RLE,
  so it needs no shared disk between ranks; its arguments, metric names and tables are mmdet's;
- :func:`CocoPanopticMetricOrHotcoco`, what pvt_mm's configs name: mmdet's
  ``CocoPanopticMetric`` where ``panopticapi`` can be imported, else the hotcoco one;
- :func:`fill_det_inferencer`, which hands ``DetInferencer`` the conversion where
  ``panopticapi`` is absent, so a panoptic config's results are drawn and saved.

:mod:`pvt_mm.registry` registers the transform and the metrics in mmdet's registries.
"""
import importlib.util
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmdet.datasets.api_wrappers import COCOPanoptic
from mmdet.datasets.transforms import LoadPanopticAnnotations
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.evaluation.metrics.coco_panoptic_metric import (CocoPanopticMetric, parse_pq_results,
                                                           print_panoptic_table)
from mmdet.structures.mask import BitmapMasks
from mmengine.evaluator import BaseMetric
from mmengine.fileio import dump, get, get_local_path
from mmengine.logging import MMLogger
from pycocotools import mask as mask_utils

from .utils import AnnotationError, MissingDependencyError

VOID = 0  # the id of unlabelled pixels in COCO panoptic PNGs


def has_panopticapi() -> bool:
    return importlib.util.find_spec('panopticapi') is not None


def rgb2id(color: np.ndarray) -> np.ndarray:
    """Segment ids of an RGB panoptic PNG (H, W, 3): R + 256 G + 256^2 B."""
    if isinstance(color, np.ndarray) and color.ndim == 3:
        if color.dtype == np.uint8:
            color = color.astype(np.int32)
        return color[..., 0] + 256 * color[..., 1] + 256 * 256 * color[..., 2]
    return int(color[0] + 256 * color[1] + 256 * 256 * color[2])


def id2rgb(id_map: np.ndarray) -> np.ndarray:
    """The RGB colours (H, W, 3, uint8) of a segment id map: the inverse of :func:`rgb2id`."""
    if isinstance(id_map, np.ndarray):
        id_map = id_map.copy()
        rgb = np.zeros((*id_map.shape, 3), dtype=np.uint8)
        for i in range(3):
            rgb[..., i] = id_map % 256
            id_map //= 256
        return rgb
    color = []
    for _ in range(3):
        color.append(id_map % 256)
        id_map //= 256
    return color


def read_panoptic_png(path: str, shape: Tuple[int, int], backend_args=None) -> np.ndarray:
    """The segment ids of a COCO panoptic PNG, which must decode and be of its image's ``shape``
    (height, width); anything else is an :class:`~pvt_mm.utils.AnnotationError` naming it."""
    data = get(path, backend_args=backend_args)
    try:
        png = mmcv.imfrombytes(data, flag='color', channel_order='rgb')
    except Exception:  # noqa: B902  (cv2's error on bytes that do not decode)
        png = None
    if png is None or png.ndim != 3:
        raise AnnotationError(f'{path}: not a readable panoptic PNG')
    if png.shape[:2] != tuple(shape):
        raise AnnotationError(f'{path}: {png.shape[1]}x{png.shape[0]} pixels, and its image '
                              f'{shape[1]}x{shape[0]}')
    return rgb2id(png)


def load_panoptic_json(ann_file: str, backend_args=None) -> COCOPanoptic:
    """A COCO panoptic annotation file, checked: valid JSON of that format, each segment with a
    known category and an ``iscrowd`` of 0 or 1; else an :class:`~pvt_mm.utils.AnnotationError`
    naming the file (and the segment)."""
    try:
        with get_local_path(ann_file, backend_args=backend_args) as local_path:
            api = COCOPanoptic(local_path)
    except (ValueError, KeyError, TypeError, AttributeError) as err:  # JSONDecodeError too
        raise AnnotationError(f'{ann_file}: not a COCO panoptic annotation file '
                              f'({type(err).__name__}: {str(err)[:120]})') from None
    for image_id, segments in api.imgToAnns.items():
        for seg in segments:
            where = f'{ann_file}: image {image_id}, segment {seg.get("id")}'
            if seg.get('category_id') not in api.cats:
                raise AnnotationError(f'{where}: category_id {seg.get("category_id")!r} is not '
                                      'one of its categories')
            if seg.get('iscrowd', 0) not in (0, 1):
                raise AnnotationError(f'{where}: iscrowd {seg.get("iscrowd")!r} (0 or 1)')
    return api


class LoadCocoPanopticAnnotations(LoadPanopticAnnotations):
    """mmdet's ``LoadPanopticAnnotations`` (boxes, labels, thing masks, semantic map from a COCO
    panoptic PNG) with pvt_mm's :func:`rgb2id` instead of ``panopticapi``'s: the same arguments
    and results, without the git-only dependency; a PNG that does not decode or is not of its
    image's size is an error naming it."""

    def __init__(self,
                 with_bbox=True,
                 with_label=True,
                 with_mask=True,
                 with_seg=True,
                 box_type='hbox',
                 imdecode_backend='cv2',
                 backend_args=None):
        # LoadPanopticAnnotations.__init__ only imports panopticapi for rgb2id: skip to its base.
        super(LoadPanopticAnnotations, self).__init__(
            with_bbox=with_bbox,
            with_label=with_label,
            with_mask=with_mask,
            with_seg=with_seg,
            with_keypoints=False,
            box_type=box_type,
            imdecode_backend=imdecode_backend,
            backend_args=backend_args)
        self.rgb2id = rgb2id

    def _load_masks_and_semantic_segs(self, results: dict) -> None:
        """mmdet's, reading the PNG with :func:`read_panoptic_png`."""
        if results.get('seg_map_path', None) is None:  # inference without ground truth
            return
        h, w = results['ori_shape']
        pan = read_panoptic_png(results['seg_map_path'], (h, w), self.backend_args)
        gt_masks = []
        gt_seg = np.zeros_like(pan) + 255  # 255: ignored (VOID)
        for segment in results['segments_info']:
            mask = pan == segment['id']
            gt_seg = np.where(mask, segment['category'], gt_seg)
            if segment.get('is_thing'):
                gt_masks.append(mask.astype(np.uint8))
        if self.with_mask:
            results['gt_masks'] = BitmapMasks(gt_masks, h, w)
        if self.with_seg:
            results['gt_seg_map'] = gt_seg


def _rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode()
    return rle


class HotcocoPanopticMetric(BaseMetric):
    """COCO panoptic quality (PQ, SQ, RQ for all, things and stuff) computed by ``hotcoco``.

    Takes mmdet ``CocoPanopticMetric``'s arguments and reports its metric names
    (``coco_panoptic/PQ``, ``PQ_th``, ``SQ_st``, ...) and tables. Each rank encodes the
    predicted and ground-truth segments of its images as RLE (``process``); rank 0 evaluates
    them with ``hotcoco.panoptic.PanopticEval``, which applies panopticapi's protocol (a match
    is IoU > 0.5; a prediction's overlap with unlabelled pixels leaves the union, and a
    prediction more than half in unlabelled or same-class crowd regions is not a false
    positive). ``outfile_prefix`` also writes the predictions in the COCO panoptic format
    (``<prefix>.panoptic.json`` and the PNGs in ``<prefix>.panoptic/``); with ``format_only``
    that is all it does (test-server submissions). ``nproc`` is accepted for compatibility.
    """
    default_prefix: Optional[str] = 'coco_panoptic'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 seg_prefix: Optional[str] = None,
                 classwise: bool = False,
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 nproc: int = 32,
                 backend_args: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        try:
            from hotcoco import panoptic  # noqa: F401
        except ImportError:
            raise MissingDependencyError(
                'COCO panoptic evaluation needs panopticapi (mmdet\'s CocoPanopticMetric) or '
                'hotcoco (pvt_mm\'s HotcocoPanopticMetric), and neither is installed: '
                '`pip install hotcoco` (Python >= 3.10)') from None
        super().__init__(collect_device=collect_device, prefix=prefix)
        if format_only and outfile_prefix is None:
            raise ValueError('format_only=True writes the results to outfile_prefix: set it')
        self.classwise = classwise
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self.seg_prefix = seg_prefix
        self.backend_args = backend_args
        self._coco_api = None
        self._cats = None  # (categories, label -> category id), once dataset_meta is known
        self.ann_file = ann_file
        if ann_file:
            self._coco_api = load_panoptic_json(ann_file, backend_args)

    def _categories(self) -> Tuple[Dict[int, dict], List[int]]:
        """{category id: {'id', 'name', 'isthing'}} of the evaluated classes, and the category id
        of each label: the annotation file's ids, else the labels themselves."""
        if self._cats is not None:
            return self._cats
        classes = self.dataset_meta['classes']
        if self._coco_api is not None:
            cat_ids = self._coco_api.get_cat_ids(cat_names=classes)
            cats = {i: dict(self._coco_api.cats[i]) for i in cat_ids}
        else:
            things = set(self.dataset_meta['thing_classes'])
            cat_ids = list(range(len(classes)))
            cats = {i: dict(id=i, name=n, isthing=int(n in things)) for i, n in enumerate(classes)}
        self._cats = cats, cat_ids
        return self._cats

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.dataset_meta['classes'])
        cats, label2cat = self._categories()
        for sample in data_samples:
            pan = sample['pred_panoptic_seg']['sem_seg'].cpu().numpy()[0]
            ignore_index = sample['pred_panoptic_seg'].get('ignore_index', num_classes)
            pred = []
            for pan_id in np.unique(pan):
                label = int(pan_id % INSTANCE_OFFSET)
                if label in (num_classes, ignore_index):
                    continue
                pred.append(
                    dict(
                        id=int(pan_id),
                        category_id=label2cat[label],
                        segmentation=_rle(pan == pan_id)))
            file_name = osp.basename(sample['img_path']).replace('.jpg', '.png')
            h, w = sample['ori_shape']
            result = dict(
                image_id=sample['img_id'], height=h, width=w, file_name=file_name, pred=pred)
            if not self.format_only:
                result['gt'] = self._ground_truth(sample, file_name, cats, label2cat)
            self.results.append(result)

    def _ground_truth(self, sample: dict, file_name: str, cats: dict, label2cat: list) -> list:
        """The image's ground-truth segments as RLE, from its panoptic PNG and either the
        annotation file or the dataset's ``segments_info`` (as mmdet's metric reads them). A PNG
        that does not decode, is not of the image's size or holds a segment the annotations do
        not list (panopticapi refuses it too), or a segment of a category not evaluated, is an
        error naming the file and the segment."""
        path = osp.join(self.seg_prefix, file_name)
        ids = read_panoptic_png(path, sample['ori_shape'], self.backend_args)
        if self._coco_api is not None:
            infos = [
                dict(id=s['id'], category_id=s['category_id'], iscrowd=s.get('iscrowd', 0))
                for s in self._coco_api.imgToAnns[sample['img_id']]
            ]
            for info in infos:
                if info['category_id'] not in cats:
                    raise AnnotationError(
                        f'{self.ann_file}: image {sample["img_id"]}, segment {info["id"]}: '
                        f'category_id {info["category_id"]} is not one of the evaluated classes')
        else:
            # A thing class's segment that the dataset does not count as a thing is a crowd.
            infos = [
                dict(
                    id=s['id'],
                    category_id=label2cat[s['category']],
                    iscrowd=int(cats[label2cat[s['category']]]['isthing'] == 1
                                and not s['is_thing'])) for s in sample['segments_info']
            ]
        unlisted = set(np.unique(ids).tolist()) - {VOID} - {info['id'] for info in infos}
        if unlisted:
            raise AnnotationError(f'{path}: segment {min(unlisted)} is in the PNG and not in the '
                                  f'annotations of image {sample["img_id"]}')
        return [dict(info, segmentation=_rle(ids == info['id'])) for info in infos]

    def _write_predictions(self, results: list, cats: dict) -> None:
        """The predictions in the COCO panoptic format, as mmdet's metric writes them."""
        out_dir = f'{self.outfile_prefix}.panoptic'
        annotations = []
        for result in results:
            pan = np.zeros((result['height'], result['width']), np.int64)
            segments = []
            for seg in result['pred']:
                mask = mask_utils.decode(seg['segmentation']).astype(bool)
                pan[mask] = seg['id']
                segments.append(
                    dict(
                        id=seg['id'],
                        category_id=seg['category_id'],
                        area=int(mask.sum()),
                        isthing=cats[seg['category_id']]['isthing']))
            mmcv.imwrite(id2rgb(pan)[:, :, ::-1], osp.join(out_dir, result['file_name']))
            annotations.append(
                dict(
                    image_id=result['image_id'],
                    segments_info=segments,
                    file_name=result['file_name']))
        dump(dict(annotations=annotations), f'{self.outfile_prefix}.panoptic.json')

    def compute_metrics(self, results: list) -> Dict[str, float]:
        from hotcoco import panoptic
        logger = MMLogger.get_current_instance()
        cats, _ = self._categories()
        if self.outfile_prefix is not None:
            self._write_predictions(results, cats)
            logger.info(f'results are saved in {osp.dirname(self.outfile_prefix)}')
            if self.format_only:
                return dict()
        images = [
            dict(id=r['image_id'], height=r['height'], width=r['width'], file_name=r['file_name'])
            for r in results
        ]
        datasets = {}
        for side in ('gt', 'pred'):
            annotations = []
            for r in results:
                for seg in r[side]:
                    rle = seg['segmentation']
                    ann = dict(
                        id=len(annotations) + 1,
                        image_id=r['image_id'],
                        category_id=seg['category_id'],
                        segmentation=rle,
                        area=float(mask_utils.area(rle)),
                        bbox=[float(v) for v in mask_utils.toBbox(rle)])
                    if side == 'gt':
                        ann['iscrowd'] = seg['iscrowd']
                    else:
                        ann['score'] = 1.0
                    annotations.append(ann)
            datasets[side] = dict(
                images=images, categories=list(cats.values()), annotations=annotations)
        evaluator = panoptic.PanopticEval(datasets['gt'], datasets['pred'])
        evaluator.evaluate()
        report = evaluator.results()
        pq_results = {name: report[name] for name in ('All', 'Things', 'Stuff')}
        classwise = None
        if self.classwise:
            per_class = report['per_class']
            # A category without ground truth or predictions: hotcoco reports -1, panopticapi
            # (and so mmdet's table) 0.
            zeros = dict(pq=0., sq=0., rq=0., tp=0, fp=0, fn=0)
            classwise = {}
            for c in cats:
                row = per_class.get(c, zeros)
                classwise[cats[c]['name']] = row if row['tp'] + row['fp'] + row['fn'] else zeros
        print_panoptic_table(pq_results, classwise, logger=logger)
        return parse_pq_results(pq_results)


def CocoPanopticMetricOrHotcoco(**kwargs) -> BaseMetric:
    """mmdet's ``CocoPanopticMetric`` where ``panopticapi`` can be imported, else
    :class:`HotcocoPanopticMetric` (the same arguments and metric names)."""
    if has_panopticapi():
        return CocoPanopticMetric(**kwargs)
    return HotcocoPanopticMetric(**kwargs)


def fill_det_inferencer() -> None:
    """Give mmdet's ``DetInferencer`` the id conversion and VOID label it imports from
    ``panopticapi`` (its only use of it) where ``panopticapi`` is absent, so that it returns
    and saves panoptic predictions."""
    from mmdet.apis import det_inferencer
    if det_inferencer.id2rgb is None:
        det_inferencer.id2rgb = id2rgb
        det_inferencer.VOID = VOID


__all__ = [
    'CocoPanopticMetricOrHotcoco', 'HotcocoPanopticMetric', 'LoadCocoPanopticAnnotations', 'VOID',
    'fill_det_inferencer', 'has_panopticapi', 'id2rgb', 'load_panoptic_json', 'read_panoptic_png',
    'rgb2id'
]
