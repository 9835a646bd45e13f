"""Test helpers shipped with pvt_mm (like ``mmdet.testing``); importing it (e.g.
``custom_imports = dict(imports=['pvt_mm', 'pvt_mm.testing'])``) registers its test hooks.
The official reference formulation of each backbone family is the family's
(:data:`pvt_mm.models.FAMILIES`)."""
from ..toolboxes import register
from .hooks import DumpRankWeightsHook, FileSizeLimitHook

register({'HOOKS': (DumpRankWeightsHook, FileSizeLimitHook)})

__all__ = ['DumpRankWeightsHook', 'FileSizeLimitHook']
