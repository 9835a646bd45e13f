"""Whole-model state dicts, whatever the backbone: how one fits a model (:func:`checkpoint_fit`,
the one comparison of a checkpoint with a model: loading, the tools, the Runner's
:class:`~pvt_mm.engine.CheckpointFitHook`), whole-model layouts converted before loading
(:func:`convert_mmdet2_detr`) and the wrapper prefix DDP adds (:func:`without_wrapper`)."""
import re
from dataclasses import dataclass, field
from typing import List

import torch

WRAPPER_PREFIX = 'module.'  # what DataParallel / DistributedDataParallel add to every key


def without_wrapper(state_dict: dict) -> dict:
    """``state_dict`` without the ``module.`` prefix a wrapped model's keys carry."""
    n = len(WRAPPER_PREFIX)
    return {k[n:] if k.startswith(WRAPPER_PREFIX) else k: v for k, v in state_dict.items()}


# mmdet 2.x's DETR head held the transformer, the input projection and the queries; mmdet 3.x
# moved them to the detector (ChannelMapper neck, encoder, decoder, query_embedding).
_MMDET2_DETR = [
    (r'^bbox_head\.input_proj\.', 'neck.convs.0.conv.'),
    (r'^bbox_head\.query_embedding\.', 'query_embedding.'),
    (r'^bbox_head\.transformer\.(encoder|decoder)\.layers\.(\d+)\.attentions\.0\.',
     r'\1.layers.\2.self_attn.'),
    (r'^bbox_head\.transformer\.decoder\.layers\.(\d+)\.attentions\.1\.',
     r'decoder.layers.\1.cross_attn.'),
    (r'^bbox_head\.transformer\.(encoder|decoder)\.layers\.(\d+)\.ffns\.0\.', r'\1.layers.\2.ffn.'),
    (r'^bbox_head\.transformer\.(encoder|decoder)\.', r'\1.'),
]


def convert_mmdet2_detr(state_dict: dict) -> int:
    """Rename, in place, a whole mmdet 2.x DETR state dict (the official PVT DETR checkpoint) to
    mmdet 3.x's DETR; returns how many keys were renamed (0 for any other checkpoint)."""
    if not any(k.startswith('bbox_head.transformer.') for k in state_dict):
        return 0
    renamed = 0
    for key in list(state_dict):
        for pattern, repl in _MMDET2_DETR:
            new, n = re.subn(pattern, repl, key)
            if n:
                state_dict[new] = state_dict.pop(key)
                renamed += 1
                break
    return renamed


@dataclass
class CheckpointFit:
    """How a state dict covers a model's tensors (``num_batches_tracked`` aside): the one
    comparison of a checkpoint with a model (loading, the tools, the Runner's hook)."""
    fitted: int
    total: int
    missing: List[str] = field(default_factory=list)
    mismatched: List[str] = field(default_factory=list)  # 'key: (file) vs (model)': shape or kind
    unexpected: List[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every tensor of the model, of its shape, and nothing else."""
        return self.fitted == self.total and not self.unexpected

    def describe(self) -> str:
        parts = [f'fits {self.fitted} of the model\'s {self.total} tensors']
        for title, keys in (('missing', self.missing), ('mismatched (file vs model)',
                                                        self.mismatched), ('unexpected',
                                                                           self.unexpected)):
            if keys:
                parts.append(f'{len(keys)} {title} (first: {", ".join(keys[:3])})')
        return '; '.join(parts)


def _kind(value) -> str:
    """What a tensor holds, as far as loading is concerned: its dtype's class and whether it has
    data (a meta tensor has none; loading it would leave the weight at its initialisation)."""
    if not isinstance(value, torch.Tensor):
        return f'not a tensor ({type(value).__name__})'
    if value.is_meta:
        return 'meta (no data)'
    if value.is_complex():
        return 'complex'
    if value.is_floating_point():
        return 'floating'
    return 'bool' if value.dtype == torch.bool else 'integer'


def checkpoint_fit(model, state_dict: dict) -> CheckpointFit:
    """How ``state_dict`` fits ``model`` (a whole model, or a backbone), after the conversions
    loading applies (``module.`` prefixes, the backbones' ``adapt_state_dict``), by keys,
    shapes, dtype classes and data: a tensor of the model's shape that is not a tensor, another
    class of dtype (integers for floats) or a meta tensor does not fit."""
    sd = without_wrapper(state_dict)
    for name, module in model.named_modules():
        adapt = getattr(module, 'adapt_state_dict', None)
        if callable(adapt):  # a backbone that converts checkpoint layouts (PVT, PVTv2)
            adapt(sd, f'{name}.' if name else '', quiet=True)
    expected = {
        k: (tuple(v.shape), _kind(v))
        for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')
    }
    found = {k: (tuple(getattr(v, 'shape', ())), _kind(v)) for k, v in sd.items()}
    mismatched = [k for k in expected if k in sd and found[k] != expected[k]]

    def describe(key):
        (shape, kind), (want_shape, want_kind) = found[key], expected[key]
        if shape != want_shape:
            return f'{key}: {shape} vs {want_shape}'
        return f'{key}: {kind} vs {want_kind}'

    return CheckpointFit(
        fitted=sum(k in sd for k in expected) - len(mismatched),
        total=len(expected),
        missing=[k for k in expected if k not in sd],
        mismatched=[describe(k) for k in mismatched],
        unexpected=[k for k in sd if k not in expected and not k.endswith('num_batches_tracked')])


__all__ = [
    'CheckpointFit', 'WRAPPER_PREFIX', 'checkpoint_fit', 'convert_mmdet2_detr', 'without_wrapper'
]
