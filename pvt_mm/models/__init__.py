from .backbones import ARCH_NAMES, PVT, PVTv2, backbone_arch
from .checkpoint import (adapt_state_dict, checkpoint_fit, convert_checkpoint, convert_mmdet2_detr,
                         convert_state_dict, detect_format, load_pretrained)

__all__ = [
    'ARCH_NAMES', 'PVT', 'PVTv2', 'backbone_arch', 'adapt_state_dict', 'checkpoint_fit',
    'convert_checkpoint', 'convert_mmdet2_detr', 'convert_state_dict', 'detect_format',
    'load_pretrained'
]
