"""Everything pvt_mm registers, in one place.

- ``PVT`` and ``PVTv2`` in MMDetection's and MMSegmentation's MODELS registries (whichever is
  installed; the names do not clash with mmdet's own ``PyramidVisionTransformer(V2)``);
- ``AlignResize`` in both TRANSFORMS registries, ``RNGStateHook`` and ``CheckpointFitHook`` in
  both HOOKS registries;
- :func:`~pvt_mm.models.checkpoint.read_checkpoint` as mmengine's loader of local checkpoint
  files, so every load (``load_from``, ``--resume``, ``init_cfg``, the inferencers) reports a bad
  file by name;
- the ``pvt_mm::`` config scope, so ``_base_ = 'pvt_mm::pvt/retinanet_pvt-t_fpn_1x_coco.py'``
  resolves to the configs shipped in ``pvt_mm/.mim/configs``.
"""
import importlib

from mmengine.config import utils as config_utils
from mmengine.runner.checkpoint import CheckpointLoader

from .datasets import AlignResize
from .engine import CheckpointFitHook, RNGStateHook
from .models import PVT, PVTv2, read_checkpoint

TOOLBOXES = ('mmdet', 'mmseg')
REGISTERED = {
    'MODELS': (PVT, PVTv2),
    'TRANSFORMS': (AlignResize, ),
    'HOOKS': (RNGStateHook, CheckpointFitHook),
}


def register_all():
    """Register pvt_mm's modules in every installed toolbox; return the toolboxes' names."""
    found = []
    for toolbox in TOOLBOXES:
        try:
            registries = importlib.import_module(f'{toolbox}.registry')
        except ImportError:
            continue
        for registry_name, classes in REGISTERED.items():
            registry = getattr(registries, registry_name)
            for cls in classes:
                if registry.module_dict.get(cls.__name__) is not cls:
                    registry.register_module(module=cls)
        found.append(toolbox)
    config_utils.MODULE2PACKAGE.setdefault('pvt_mm', 'pvt_mm')
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    return found


def load_from_local(filename, map_location=None):
    """mmengine's loader for local files (same signature), with pvt_mm's errors."""
    return read_checkpoint(filename, map_location)


TOOLBOXES_FOUND = register_all()
