from .pvt import ARCH_NAMES, PVT, PVTv2, backbone_arch

__all__ = ['ARCH_NAMES', 'PVT', 'PVTv2', 'backbone_arch']
