"""Test and benchmark helpers shipped with pvt_mm (like ``mmdet.testing``)."""
from .hooks import DumpRankWeightsHook, FileSizeLimitHook
from .official_pvt import OfficialPVT

__all__ = ["DumpRankWeightsHook", "FileSizeLimitHook", "OfficialPVT"]
