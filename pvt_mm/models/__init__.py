from .backbones import PVT, PVTv2
from .checkpoint import (adapt_state_dict, checkpoint_fit, convert_checkpoint, convert_mmdet2_detr,
                         convert_state_dict, detect_format, load_pretrained)

__all__ = [
    'PVT', 'PVTv2', 'adapt_state_dict', 'checkpoint_fit', 'convert_checkpoint',
    'convert_mmdet2_detr', 'convert_state_dict', 'detect_format', 'load_pretrained'
]
