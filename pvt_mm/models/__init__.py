from .backbones import PVT, PVTv2
from .checkpoint import (adapt_state_dict, convert_checkpoint, convert_state_dict, detect_format,
                         load_pretrained)

__all__ = [
    'PVT', 'PVTv2', 'adapt_state_dict', 'convert_checkpoint', 'convert_state_dict',
    'detect_format', 'load_pretrained'
]
