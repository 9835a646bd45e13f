from .backbones import PVT, PVTv2
from .checkpoint import (CheckpointError, adapt_state_dict, checkpoint_fit, convert_checkpoint,
                         convert_mmdet2_detr, convert_state_dict, detect_format, load_pretrained,
                         read_checkpoint)

__all__ = [
    'PVT', 'PVTv2', 'CheckpointError', 'adapt_state_dict', 'checkpoint_fit',
    'convert_checkpoint', 'convert_mmdet2_detr', 'convert_state_dict', 'detect_format',
    'load_pretrained', 'read_checkpoint'
]
