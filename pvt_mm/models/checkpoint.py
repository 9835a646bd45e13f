"""The one place where PVT checkpoint layouts are recognised and converted to pvt_mm's.

Known layouts of a backbone state dict (keys relative to the backbone):

- ``pvt_mm``: ``stages.0.patch_embed.proj.weight``, ``stages.0.blocks.0.attn.q.weight``, ...
- ``official``: the PVT repository's classification release and its mmdet 2.x / mmseg 0.x
  detection and segmentation checkpoints (under ``backbone.``): ``patch_embed1.proj.weight``,
  ``pos_embed1``, ``block1.0.attn.q.weight``, ``block1.0.mlp.dwconv.dwconv.weight``, ``norm1``
  (v2), plus classification-only ``cls_token``, ``norm.*``, ``head.*``.
- ``mmdet``: mmdet 3.x ``PyramidVisionTransformer(V2)``: ``layers.0.0.projection.weight``,
  ``layers.0.1.0.pos_embed``, ``...attn.attn.in_proj_weight`` (q and kv concatenated),
  ``...ffn.layers.0.weight`` (1x1 convs).
- ``timm``: ``patch_embed.proj.weight``, ``stages.1.downsample.proj.weight``,
  ``stages.0.blocks.0.attn.q.weight``, ``stages.0.norm.weight``, ``head.*``.

:func:`adapt_state_dict` runs as a load-state-dict pre-hook of the backbones, so every way of
loading (``init_cfg`` Pretrained, a whole detector/segmentor checkpoint via ``load_from`` or
``tools/test.py``, ``model.load_state_dict``) goes through it.
"""
import math
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

CLASSIFICATION_ONLY = re.compile(r'^(head\.|head_dist\.|cls_token$|norm\.)')


def detect_format(keys) -> str:
    """Name the layout of a backbone state dict from its keys: pvt_mm, official, mmdet, timm."""
    keys = list(keys)
    if any(k.startswith('patch_embed.') or '.downsample.' in k for k in keys):
        return 'timm'
    if any(k.startswith('stages.') for k in keys):
        return 'pvt_mm'
    if any(re.match(r'(patch_embed|block|pos_embed)\d', k) for k in keys):
        return 'official'
    if any(re.match(r'layers\.\d+\.\d', k) for k in keys):
        return 'mmdet'
    return 'unknown'


def _from_official(sd):
    for k, v in sd.items():
        new = re.sub(r'^patch_embed(\d)\.', lambda m: f'stages.{int(m[1]) - 1}.patch_embed.', k)
        new = re.sub(r'^pos_embed(\d)$', lambda m: f'stages.{int(m[1]) - 1}.pos_embed', new)
        new = re.sub(r'^block(\d)\.', lambda m: f'stages.{int(m[1]) - 1}.blocks.', new)
        new = re.sub(r'^norm(\d)\.', lambda m: f'stages.{int(m[1]) - 1}.norm.', new)
        yield new.replace('.mlp.dwconv.dwconv.', '.mlp.dwconv.'), k, v


def _from_timm(sd):
    for k, v in sd.items():
        new = re.sub(r'^patch_embed\.', 'stages.0.patch_embed.', k)
        yield re.sub(r'^stages\.(\d+)\.downsample\.', r'stages.\1.patch_embed.', new), k, v


def _from_mmdet(sd):
    # v1 puts the position embedding first in ``layers.i.1``, shifting the blocks by one; v2's
    # FFN has a depth-wise conv at index 1, shifting fc2 from 3 to 4.
    has_pos = any(k.endswith('.pos_embed') for k in sd)
    conv_ffn = any(re.search(r'\.ffn\.layers\.1\.weight$', k) for k in sd)
    ffn = {'0': 'fc1', '1': 'dwconv', '4': 'fc2'} if conv_ffn else {'0': 'fc1', '3': 'fc2'}
    for k, v in sd.items():
        m = re.match(r'^layers\.(\d+)\.(\d+)\.(.*)$', k)
        if m is None:
            yield k, k, v
            continue
        s, part, rest = m[1], m[2], m[3]
        if part == '0':
            yield f'stages.{s}.patch_embed.' + rest.replace('projection.', 'proj.'), k, v
        elif part == '2':
            yield f'stages.{s}.norm.{rest}', k, v
        elif rest == '0.pos_embed' and has_pos:
            yield f'stages.{s}.pos_embed', k, v
        else:
            j, name = rest.split('.', 1)
            block = f'stages.{s}.blocks.{int(j) - has_pos}.'
            if name.startswith('attn.attn.in_proj_'):
                kind = name.rsplit('_', 1)[1]
                dim = v.shape[0] // 3
                yield block + f'attn.q.{kind}', k, v[:dim]
                yield block + f'attn.kv.{kind}', k, v[dim:]
            elif name.startswith('attn.attn.out_proj.'):
                yield block + name.replace('attn.attn.out_proj.', 'attn.proj.'), k, v
            elif name.startswith('ffn.layers.'):
                idx, param = name[len('ffn.layers.'):].split('.', 1)
                layer = ffn.get(idx, f'layers.{idx}')
                if layer in ('fc1', 'fc2') and param == 'weight':
                    v = v.flatten(1)
                yield block + f'mlp.{layer}.{param}', k, v
            else:
                yield block + name, k, v


def _identity(sd):
    for k, v in sd.items():
        yield k, k, v


_CONVERTERS = {'official': _from_official, 'timm': _from_timm, 'mmdet': _from_mmdet,
               'pvt_mm': _identity}


def convert_state_dict(sd: Dict[str, torch.Tensor], model=None, mapping: Optional[list] = None
                       ) -> Tuple[Dict[str, torch.Tensor], str, List[str]]:
    """Convert a backbone state dict of any known layout to pvt_mm's.

    Returns the converted dict, the detected format and the dropped classification-only keys;
    ``mapping``, if given, receives ``(old_key, new_key)`` pairs. With ``model`` given, position
    embeddings are fitted to its grids (the release checkpoints' extra cls-token slot is
    removed; other grids are resized bilinearly).
    """
    fmt = detect_format(sd)
    if fmt == 'unknown':
        raise KeyError(f'no known PVT checkpoint layout (pvt_mm, official, mmdet, timm) fits '
                       f'the keys {sorted(sd)[:8]}{" ..." if len(sd) > 8 else ""}')
    dropped = [k for k in sd if fmt != 'pvt_mm' and CLASSIFICATION_ONLY.match(k)]
    kept = OrderedDict((k, v) for k, v in sd.items() if k not in dropped)
    out = OrderedDict()
    for new, old, v in _CONVERTERS[fmt](kept):
        out[new] = v
        if mapping is not None:
            mapping.append((old, new))
    if model is not None:
        for i, stage in enumerate(model.stages):
            key = f'stages.{i}.pos_embed'
            if stage.pos_grid is not None and key in out:
                out[key] = fit_pos_embed(out[key], stage.pos_grid, key)
    return out, fmt, dropped


def fit_pos_embed(pos: torch.Tensor, grid: Tuple[int, int], name: str) -> torch.Tensor:
    """Fit a (1, N, C) position embedding to ``grid``: drop a cls slot, resize a square grid."""
    n = grid[0] * grid[1]
    if pos.shape[1] == n:
        return pos
    if pos.shape[1] == n + 1:
        return pos[:, 1:]
    side = math.isqrt(pos.shape[1])
    if side * side != pos.shape[1]:
        side = math.isqrt(pos.shape[1] - 1)
        if side * side != pos.shape[1] - 1:
            raise ValueError(f'{name}: cannot fit a position embedding of {pos.shape[1]} tokens '
                             f'to the {grid[0]}x{grid[1]} grid')
        pos = pos[:, 1:]
    print_log(f'{name}: resizing position embedding {side}x{side} -> {grid[0]}x{grid[1]}',
              logger='current')
    dtype = pos.dtype
    pos = pos.reshape(1, side, side, -1).permute(0, 3, 1, 2).float()
    pos = F.interpolate(pos, size=grid, mode='bilinear', align_corners=False)
    return pos.flatten(2).transpose(1, 2).to(dtype)


def adapt_state_dict(model, state_dict: dict, prefix: str = '') -> None:
    """Rewrite, in place, the entries of ``state_dict`` under ``prefix`` to ``model``'s layout."""
    sub = {k[len(prefix):]: k for k in state_dict if k.startswith(prefix)}
    if not sub:
        return
    if detect_format(sub) == 'unknown':
        return
    converted, fmt, dropped = convert_state_dict({k: state_dict[v] for k, v in sub.items()},
                                                 model)
    for full_key in sub.values():
        del state_dict[full_key]
    state_dict.update((prefix + k, v) for k, v in converted.items())
    if fmt != 'pvt_mm':
        msg = f'{type(model).__name__}: loaded a {fmt!r}-layout checkpoint'
        if dropped:
            msg += f'; dropped {len(dropped)} classification-only keys ({", ".join(dropped)})'
        print_log(msg, logger='current')


def unwrap_state_dict(ckpt: dict) -> dict:
    """The weights of a loaded checkpoint file (under ``state_dict`` or ``model``, or the file)."""
    for wrapper in ('state_dict', 'model'):
        if isinstance(ckpt, dict) and wrapper in ckpt:
            ckpt = ckpt[wrapper]
    return ckpt


def load_pretrained(model, filename: str, prefix: Optional[str] = None) -> None:
    """Load a checkpoint file of any known layout into a PVT backbone, strictly.

    ``prefix`` selects a sub-module of a whole-model checkpoint (e.g. ``'backbone.'``). Missing or
    unexpected keys raise a ``KeyError`` naming them; shape mismatches raise from PyTorch.
    """
    if '://' not in filename and not osp.isfile(filename):
        raise FileNotFoundError(f'{type(model).__name__}: pretrained checkpoint not found: '
                                f'{filename}')
    state_dict = unwrap_state_dict(CheckpointLoader.load_checkpoint(filename, map_location='cpu'))
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state_dict = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if not state_dict:
            raise KeyError(f'{filename}: no keys start with prefix {prefix!r}')
    state_dict = {k[len('module.'):] if k.startswith('module.') else k: v
                  for k, v in state_dict.items()}
    result = model.load_state_dict(state_dict, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise KeyError(
            f'{type(model).__name__}: checkpoint {filename} does not fit the model '
            f'(format {detect_format(state_dict)!r}).\n'
            f'missing keys: {result.missing_keys}\nunexpected keys: {result.unexpected_keys}')
    print_log(f'{type(model).__name__}: loaded pretrained weights from {filename}',
              logger='current')


def convert_checkpoint(state_dict: Dict[str, torch.Tensor], model=None,
                       mapping: Optional[list] = None):
    """Convert a whole-model (backbone under ``backbone.``) or backbone-only state dict.

    Keys outside the backbone (neck, heads: the same in mmdet 2.x/3.x and mmseg 0.x/1.x) are
    kept. Returns ``(state_dict, format, dropped_keys)``; see :func:`convert_state_dict`.
    """
    prefix = 'backbone.' if any(k.startswith('backbone.') for k in state_dict) else ''
    backbone = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    pairs = []
    converted, fmt, dropped = convert_state_dict(backbone, model, pairs)
    out = OrderedDict((k, v) for k, v in state_dict.items() if not k.startswith(prefix))
    out.update((prefix + k, v) for k, v in converted.items())
    if mapping is not None:
        mapping.extend((prefix + old, prefix + new) for old, new in pairs)
    return out, fmt, [prefix + k for k in dropped]
