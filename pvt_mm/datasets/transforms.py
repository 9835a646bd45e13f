"""Data transforms the official PVT configs use that the toolboxes lack."""
import math

import mmcv
from mmcv.transforms import Resize


class AlignResize(Resize):
    """Keep-ratio resize to ``scale`` whose output sides are rounded up to ``size_divisor``.

    The official PVT segmentation test pipeline ("AlignResize") feeds whole images whose sides
    are multiples of 32. Unlike the official code, which resizes twice (keep-ratio, then to the
    aligned size), this resizes once, straight to the aligned size.
    """

    def __init__(self, scale, size_divisor=32, keep_ratio=True, **kwargs):
        super().__init__(scale=scale, keep_ratio=False, **kwargs)
        self.align_keep_ratio = keep_ratio
        self.size_divisor = size_divisor

    def transform(self, results):
        h, w = results['img'].shape[:2]
        if self.align_keep_ratio:
            w, h = mmcv.rescale_size((w, h), self.scale)
        else:
            w, h = self.scale
        d = self.size_divisor
        results['scale'] = (math.ceil(w / d) * d, math.ceil(h / d) * d)
        self._resize_img(results)
        self._resize_bboxes(results)
        self._resize_seg(results)
        self._resize_keypoints(results)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(scale={self.scale}, keep_ratio={self.align_keep_ratio},'
                f' size_divisor={self.size_divisor})')
