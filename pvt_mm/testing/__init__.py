"""Test and benchmark helpers shipped with pvt_mm (like ``mmdet.testing``); importing it (e.g.
``custom_imports = dict(imports=['pvt_mm', 'pvt_mm.testing'])``) registers its test hooks."""
from ..registry import register
from .hooks import DumpRankWeightsHook, FileSizeLimitHook
from .official_pvt import OfficialPVT

register({'HOOKS': (DumpRankWeightsHook, FileSizeLimitHook)})

__all__ = ['DumpRankWeightsHook', 'FileSizeLimitHook', 'OfficialPVT']
