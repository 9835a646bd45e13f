"""pvt_mm: PVT v1 / PVTv2 backbones for MMDetection 3.x and MMSegmentation 1.x.

``import pvt_mm`` (or ``custom_imports = dict(imports=['pvt_mm'])`` in a config) applies the
compatibility fixes of :mod:`pvt_mm.compat` and registers ``PVT`` and ``PVTv2`` in the installed
toolboxes' model registries.
"""
from . import quiet  # noqa: F401  (first: before torch and the stack print known noise)
from . import compat  # noqa: F401  (fixes the stack before anything loads checkpoints)
from .models import PVT, PVTv2
from .registry import TOOLBOXES_FOUND
from .version import __version__

__all__ = ['PVT', 'PVTv2', 'TOOLBOXES_FOUND', '__version__']
