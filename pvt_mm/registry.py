"""Registers pvt_mm's backbones in MMDetection's and MMSegmentation's MODELS registries.

Both toolboxes are optional: the backbones go into whichever is installed. The names ``PVT`` and
``PVTv2`` do not clash with mmdet's own ``PyramidVisionTransformer(V2)``.
"""
import importlib

from .models import PVT, PVTv2

BACKBONES = (PVT, PVTv2)
TOOLBOXES = ('mmdet', 'mmseg')


def registered_toolboxes():
    """Register the backbones in every installed toolbox; return the toolboxes' names."""
    found = []
    for toolbox in TOOLBOXES:
        try:
            registry = importlib.import_module(f'{toolbox}.registry').MODELS
        except ImportError:
            continue
        for cls in BACKBONES:
            if registry.module_dict.get(cls.__name__) is not cls:
                registry.register_module(module=cls)
        found.append(toolbox)
    return found


TOOLBOXES_FOUND = registered_toolboxes()
