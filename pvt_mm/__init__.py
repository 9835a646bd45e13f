"""pvt_mm: PVT v1 / PVTv2 backbones for MMDetection 3.x and MMSegmentation 1.x.

``import pvt_mm`` (or ``custom_imports = dict(imports=['pvt_mm'])`` in a config) registers
``PVT``, ``PVTv2`` and pvt_mm's transforms, hooks and checkpoint reader in the installed
toolboxes (:mod:`pvt_mm.registry`), and lets ``pvt_mm::`` config bases resolve from an editable
install (:mod:`pvt_mm.compat`).
"""
from . import compat

compat.locate_editable_pvt_mm()

from .models import PVT, PVTv2  # noqa: E402
from .registry import TOOLBOXES_FOUND  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ['PVT', 'PVTv2', 'TOOLBOXES_FOUND', '__version__']
