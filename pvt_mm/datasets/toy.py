"""A deterministic toy dataset in the real COCO and ADE20K on-disk layouts.

Coloured shapes (squares, circles, triangles) on textured backgrounds. Every scene is written
three times: as a COCO instance dataset (boxes + polygon masks), as a COCO panoptic dataset (the
shapes are things, the background is one stuff category, a one-pixel ring around each shape is
unlabelled, as COCO leaves boundaries) and as an ADE20K semantic dataset (label 1 = background,
2..4 = the shapes; ADE20K's 0 = "other", ignored with ``reduce_zero_label``, is left unused so
that background is a class to learn):

    <root>/coco/annotations/instances_{train,val}2017.json
    <root>/coco/annotations/panoptic_{train,val}2017.json
    <root>/coco/annotations/panoptic_{train,val}2017/*.png  (id = R + 256 G + 256^2 B)
    <root>/coco/{train,val}2017/*.jpg
    <root>/ade/ADEChallengeData2016/images/{training,validation}/*.jpg
    <root>/ade/ADEChallengeData2016/annotations/{training,validation}/*.png

The semantic classes are ``SEG_CLASSES`` (background, square, circle, triangle; with
``reduce_zero_label`` labels 1-4 become 0-3), read with mmseg's generic ``BaseSegDataset``; the
COCO categories are the shapes (ids 1-3), and the panoptic ones add ``PANOPTIC_STUFF``
(background, id 4).
"""
import json
import math
import os
import os.path as osp
from typing import Optional

import cv2
import numpy as np

from ..fileio import atomic_write

CLASSES = ('square', 'circle', 'triangle')
SEG_CLASSES = ('background', 'square', 'circle', 'triangle')
PANOPTIC_STUFF = ('background', )
# Base hue (BGR) per class; each instance jitters it.
_COLOURS = np.array([[40, 40, 220], [40, 200, 40], [220, 90, 30]], dtype=np.float32)
SPLITS = (('train', 'training'), ('val', 'validation'))


def _background(rng, h, w):
    base = rng.uniform(60, 200, size=3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    grad = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)[..., None] * rng.uniform(-60, 60, 3)
    noise = cv2.GaussianBlur(rng.normal(0, 25, (h, w, 3)).astype(np.float32), (0, 0), 2)
    stripes = 15 * np.sin(xx / rng.uniform(3, 9) + yy / rng.uniform(3, 9))[..., None]
    return np.clip(base + grad + noise + stripes, 0, 255)


def _polygon(rng, cls, cx, cy, r):
    if cls == 0:  # square, slightly rotated
        a = rng.uniform(-0.3, 0.3)
        angles = [a + math.pi / 4 + k * math.pi / 2 for k in range(4)]
    elif cls == 1:  # circle
        angles = [k * 2 * math.pi / 24 for k in range(24)]
    else:  # triangle
        a = rng.uniform(-0.3, 0.3) - math.pi / 2
        angles = [a + k * 2 * math.pi / 3 for k in range(3)]
    return np.array([[cx + r * math.cos(t), cy + r * math.sin(t)] for t in angles],
                    dtype=np.float32)


def make_scene(rng, h, w, max_objects=3):
    """One image (uint8 BGR), its instances [(class, polygon)] and its semantic map."""
    img = _background(rng, h, w)
    sem = np.ones((h, w), np.uint8)
    instances, boxes = [], []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _try in range(20):
            r = rng.uniform(0.12, 0.22) * min(h, w)
            cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
            box = (cx - r, cy - r, cx + r, cy + r)
            if all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in boxes):
                break
        else:
            continue
        cls = int(rng.integers(len(CLASSES)))
        poly = _polygon(rng, cls, cx, cy, r)
        colour = np.clip(_COLOURS[cls] + rng.normal(0, 20, 3), 0, 255)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
        img[mask > 0] = colour
        sem[mask > 0] = cls + 2
        boxes.append(box)
        instances.append((cls, poly, mask))
    return np.clip(img, 0, 255).astype(np.uint8), instances, sem


def _write_image(path, img):
    ok, buf = cv2.imencode(osp.splitext(path)[1], img)
    assert ok, path
    atomic_write(buf.tobytes(), path)


def _panoptic(instances, h, w):
    """A scene's panoptic id map and segments: the background (stuff, id 4), each shape (thing,
    id = category + 256 * (index + 1)) and the unlabelled ring around the shapes (id 0)."""
    stuff_id = len(CLASSES) + 1
    ids = np.full((h, w), stuff_id, np.int64)
    shapes = np.zeros((h, w), np.uint8)
    for cls, _, mask in instances:
        shapes |= mask
    ids[cv2.dilate(shapes, np.ones((3, 3), np.uint8)) > shapes] = 0
    segments = [(stuff_id, stuff_id)]
    for k, (cls, _, mask) in enumerate(instances):
        seg_id = cls + 1 + 256 * (k + 1)
        ids[mask > 0] = seg_id
        segments.append((seg_id, cls + 1))
    infos = []
    for seg_id, category_id in segments:
        mask = ids == seg_id
        ys, xs = np.nonzero(mask)
        infos.append(
            dict(
                id=seg_id,
                category_id=category_id,
                iscrowd=0,
                area=int(mask.sum()),
                bbox=[
                    int(xs.min()),
                    int(ys.min()),
                    int(xs.max() - xs.min() + 1),
                    int(ys.max() - ys.min() + 1)
                ]))
    rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], axis=-1).astype(np.uint8)
    return rgb, infos


def generate_toy_data(root, num_train=64, num_val=16, size=(192, 256), seed=0):
    """Write the toy COCO (instance and panoptic) and ADE20K datasets under ``root`` (skipped
    when already there)."""
    stamp = osp.join(root, 'toy.json')
    spec = dict(num_train=num_train, num_val=num_val, size=list(size), seed=seed, version=3)
    if osp.isfile(stamp):
        with open(stamp) as f:
            if json.load(f) == spec:
                return root
    h, w = size
    rng = np.random.default_rng(seed)
    coco_root = osp.join(root, 'coco')
    ade_root = osp.join(root, 'ade', 'ADEChallengeData2016')
    os.makedirs(osp.join(coco_root, 'annotations'), exist_ok=True)
    ann_id = 1
    for (coco_split, ade_split), count in zip(SPLITS, (num_train, num_val)):
        for d in (osp.join(coco_root, f'{coco_split}2017'), osp.join(ade_root, 'images', ade_split),
                  osp.join(ade_root, 'annotations', ade_split),
                  osp.join(coco_root, 'annotations', f'panoptic_{coco_split}2017')):
            os.makedirs(d, exist_ok=True)
        images, annotations, panoptic = [], [], []
        for i in range(count):
            img, instances, sem = make_scene(rng, h, w)
            name = f'{coco_split}_{i:05d}'
            _write_image(osp.join(coco_root, f'{coco_split}2017', name + '.jpg'), img)
            _write_image(osp.join(ade_root, 'images', ade_split, name + '.jpg'), img)
            _write_image(osp.join(ade_root, 'annotations', ade_split, name + '.png'), sem)
            images.append(dict(id=i + 1, file_name=name + '.jpg', height=h, width=w))
            rgb, segments_info = _panoptic(instances, h, w)
            _write_image(
                osp.join(coco_root, 'annotations', f'panoptic_{coco_split}2017', name + '.png'),
                rgb[..., ::-1])
            panoptic.append(
                dict(image_id=i + 1, file_name=name + '.png', segments_info=segments_info))
            for cls, poly, mask in instances:
                ys, xs = np.nonzero(mask)
                x0, y0 = float(xs.min()), float(ys.min())
                annotations.append(
                    dict(
                        id=ann_id,
                        image_id=i + 1,
                        category_id=cls + 1,
                        iscrowd=0,
                        bbox=[x0, y0, float(xs.max()) + 1 - x0,
                              float(ys.max()) + 1 - y0],
                        area=float(mask.sum()),
                        segmentation=[[round(float(v), 2) for v in poly.reshape(-1)]]))
                ann_id += 1
        coco = dict(
            images=images,
            annotations=annotations,
            categories=[dict(id=k + 1, name=n) for k, n in enumerate(CLASSES)])
        atomic_write(
            json.dumps(coco).encode(),
            osp.join(coco_root, 'annotations', f'instances_{coco_split}2017.json'))
        categories = [
            dict(
                id=k + 1,
                name=n,
                supercategory='shape',
                isthing=1,
                color=[int(c) for c in _COLOURS[k][::-1]]) for k, n in enumerate(CLASSES)
        ]
        categories += [
            dict(
                id=len(CLASSES) + k + 1,
                name=n,
                supercategory='stuff',
                isthing=0,
                color=[40, 40, 40]) for k, n in enumerate(PANOPTIC_STUFF)
        ]
        atomic_write(
            json.dumps(dict(images=images, annotations=panoptic, categories=categories)).encode(),
            osp.join(coco_root, 'annotations', f'panoptic_{coco_split}2017.json'))
    atomic_write(json.dumps(spec).encode(), stamp)
    return root


def write_toy_data(cfg) -> Optional[str]:
    """Write the toy dataset a quickstart config names in ``toy_data``
    (:func:`generate_toy_data`; nothing when it is there already); return its root, or None for
    a config without one."""
    if not cfg.get('toy_data'):
        return None
    return generate_toy_data(**cfg.toy_data)
