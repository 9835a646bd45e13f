from .pvt import PVT, PVTv2

__all__ = ['PVT', 'PVTv2']
