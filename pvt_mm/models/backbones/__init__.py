from .official import OfficialPVT
from .pvt import PVT, PVTv2

__all__ = ['OfficialPVT', 'PVT', 'PVTv2']
