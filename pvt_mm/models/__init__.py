from .backbones import PVT, OfficialPVT, PVTv2
from .checkpoint import (adapt_state_dict, convert_checkpoint, convert_state_dict, detect_format,
                         load_pretrained)
from .families import (FAMILIES, Family, arch_names, backbone_arch, family_arch, family_of,
                       register_family)

__all__ = [
    'FAMILIES', 'Family', 'OfficialPVT', 'PVT', 'PVTv2', 'adapt_state_dict', 'arch_names',
    'backbone_arch', 'convert_checkpoint', 'convert_state_dict', 'detect_format', 'family_arch',
    'family_of', 'load_pretrained', 'register_family'
]
