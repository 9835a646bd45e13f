"""pvt_mm: PVT v1 / PVTv2 backbones for MMDetection 3.x and MMSegmentation 1.x.

``import pvt_mm`` (or ``custom_imports = dict(imports=['pvt_mm'])`` in a config) registers
``PVT``, ``PVTv2`` and pvt_mm's transforms, hooks and checkpoint reader in the installed
toolboxes and in mmengine (:mod:`pvt_mm.registry`).
"""
from .models import PVT, PVTv2
from .registry import register_all
from .version import __version__

TOOLBOXES_FOUND = register_all()

__all__ = ['PVT', 'PVTv2', 'TOOLBOXES_FOUND', '__version__']
