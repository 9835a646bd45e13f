"""The one place where PVT checkpoint layouts are recognised and converted to pvt_mm's, and
where a backbone's pretrained file is loaded.

Known layouts of a backbone state dict (keys relative to the backbone), one :class:`Layout`
each in :data:`LAYOUTS` (detection, conversion, the tools' messages and ``--show-mapping`` all
derive from that table):

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
- ``transformers``: Hugging Face transformers' ``PvtV2Model`` / ``PvtV2Backbone``
  (``encoder.layers.0.patch_embedding.proj.weight``, ``encoder.layers.0.blocks.0.attention.key``
  and ``.value`` (separate, concatenated into ``attn.kv`` here), ``...mlp.dense1``,
  ``...mlp.dwconv.dwconv``, ``encoder.layers.0.layer_norm``), ``PvtModel`` (PVT v1:
  ``encoder.patch_embeddings.0.projection``, ``encoder.block.0.0.attention.self.query``,
  ``...attention.output.dense``), and their ``...ForImageClassification`` models (the same
  under ``pvt_v2.`` / ``pvt.``, plus classification-only ``classifier.*``, v1's
  ``encoder.layer_norm.*`` and last-stage ``cls_token``).

:func:`adapt_state_dict` runs as a load-state-dict pre-hook of the backbones, so every way of
loading (``init_cfg`` Pretrained, a whole detector/segmentor checkpoint via ``load_from`` or
``tools/test.py``, ``model.load_state_dict``) goes through it.

Whole-model layouts and the comparison of a checkpoint with a model are the backbone-agnostic
:mod:`pvt_mm.state_dicts`'s.
:func:`read_checkpoint` is the one way pvt_mm reads a checkpoint file (:mod:`pvt_mm.fileio`).
"""
import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log

from ..fileio import CheckpointError, read_checkpoint
from ..state_dicts import checkpoint_fit, convert_mmdet2_detr, without_wrapper

# Keys of the classification models' heads and final norms, which a backbone has no use for.
CLASSIFICATION_ONLY = re.compile(
    r'^(head\.|head_dist\.|cls_token$|norm\.|classifier\.|'
    r'((pvt|pvt_v2)\.)?encoder\.(layer_norm\.|patch_embeddings\.\d+\.cls_token$))')
_TRANSFORMERS = re.compile(
    r'^((pvt_v2|pvt)\.)?encoder\.(layers\.\d+\.(patch_embedding|blocks)|patch_embeddings|block)\.')


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
        elif not re.match(r'^\d+\.', rest):  # not a block's tensor: left for the load to name
            yield k, k, v
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


# transformers' names -> ours: stage-level prefixes, then names inside a block (v1 and v2).
_TRANSFORMERS_STAGES = [
    (r'^encoder\.layers\.(\d+)\.patch_embedding\.layer_norm\.', r'stages.\1.patch_embed.norm.'),
    (r'^encoder\.layers\.(\d+)\.patch_embedding\.', r'stages.\1.patch_embed.'),
    (r'^encoder\.layers\.(\d+)\.layer_norm\.', r'stages.\1.norm.'),
    (r'^encoder\.layers\.(\d+)\.blocks\.', r'stages.\1.blocks.'),
    (r'^encoder\.patch_embeddings\.(\d+)\.projection\.', r'stages.\1.patch_embed.proj.'),
    (r'^encoder\.patch_embeddings\.(\d+)\.layer_norm\.', r'stages.\1.patch_embed.norm.'),
    (r'^encoder\.patch_embeddings\.(\d+)\.position_embeddings$', r'stages.\1.pos_embed'),
    (r'^encoder\.block\.(\d+)\.', r'stages.\1.blocks.'),
]
_TRANSFORMERS_BLOCKS = [
    ('.layer_norm_1.', '.norm1.'),
    ('.layer_norm_2.', '.norm2.'),
    ('.attention.self.', '.attention.'),
    ('.attention.output.dense.', '.attn.proj.'),
    ('.attention.query.', '.attn.q.'),
    ('.attention.proj.', '.attn.proj.'),
    ('.attention.spatial_reduction.', '.attn.sr.'),
    ('.attention.sequence_reduction.', '.attn.sr.'),
    ('.attention.layer_norm.', '.attn.norm.'),
    ('.mlp.dense1.', '.mlp.fc1.'),
    ('.mlp.dense2.', '.mlp.fc2.'),
    ('.mlp.dwconv.dwconv.', '.mlp.dwconv.'),
]


def _from_transformers(sd):
    # transformers projects keys and values separately; ours (the official layout) in one
    # ``kv`` linear, keys first.
    key_value = {}
    for k, v in sd.items():
        new = re.sub(r'^(pvt_v2|pvt)\.', '', k)
        for pattern, repl in _TRANSFORMERS_STAGES:
            new, n = re.subn(pattern, repl, new)
            if n:
                break
        for theirs, ours in _TRANSFORMERS_BLOCKS:
            new = new.replace(theirs, ours)
        m = re.match(r'^(.*)\.attention\.(key|value)\.(weight|bias)$', new)
        if m:
            key_value.setdefault((m[1], m[3]), {})[m[2]] = (k, v)
            continue
        yield new, k, v
    for (block, param), parts in key_value.items():
        if set(parts) != {'key', 'value'}:
            raise CheckpointError(f'transformers layout: {block} has a {", ".join(parts)} '
                                  f'projection {param} but not both key and value')
        (key_name, key), (value_name, value) = parts['key'], parts['value']
        yield f'{block}.attn.kv.{param}', f'{key_name} + {value_name}', torch.cat([key, value])


def _identity(sd):
    for k, v in sd.items():
        yield k, k, v


@dataclass(frozen=True)
class Layout:
    """A checkpoint layout of PVT backbone weights: its name, how its keys are recognised, how
    they convert to pvt_mm's (a generator of ``(new key, old key, tensor)``), and whether its
    files may carry a classification head and final norm (:data:`CLASSIFICATION_ONLY`), which
    conversion drops."""
    name: str
    recognises: Callable[[str], bool]
    convert: Callable[[Dict[str, torch.Tensor]], Iterator[Tuple[str, str, torch.Tensor]]]
    classification_head: bool = True


# Every layout pvt_mm reads, in the order they are tried: the first that recognises any key
# names the layout (transformers' and timm's keys contain ``stages.`` / ``patch_embed`` too, so
# they come before pvt_mm's and the official ones). Adding a layout is adding an entry here.
LAYOUTS = (
    Layout('transformers', _TRANSFORMERS.match, _from_transformers),
    Layout('timm', lambda k: k.startswith('patch_embed.') or '.downsample.' in k, _from_timm),
    Layout('pvt_mm', lambda k: k.startswith('stages.'), _identity, classification_head=False),
    Layout('official', lambda k: re.match(r'(patch_embed|block|pos_embed)\d', k) is not None,
           _from_official),
    Layout('mmdet', lambda k: re.match(r'layers\.\d+\.\d', k) is not None, _from_mmdet),
)


def find_layout(keys) -> Optional[Layout]:
    """The layout of a backbone state dict from its keys (None: no known layout)."""
    keys = list(keys)
    for layout in LAYOUTS:
        if any(layout.recognises(k) for k in keys):
            return layout
    return None


def detect_format(keys) -> str:
    """The name of a backbone state dict's layout (:data:`LAYOUTS`), or ``'unknown'``."""
    layout = find_layout(keys)
    return layout.name if layout else 'unknown'


def no_layout_message(keys) -> str:
    """Why a state dict with ``keys`` holds no PVT weights, listing the known layouts."""
    keys = sorted(keys)
    return (f'no PVT weights found: no known PVT layout '
            f'({", ".join(layout.name for layout in LAYOUTS)}) fits its keys {keys[:6]}'
            f'{" ..." if len(keys) > 6 else ""} ({len(keys)} keys)')


def convert_state_dict(
        sd: Dict[str, torch.Tensor],
        model=None,
        mapping: Optional[list] = None) -> Tuple[Dict[str, torch.Tensor], str, List[str]]:
    """Convert a backbone state dict of any known layout to pvt_mm's.

    Returns the converted dict, the detected format and the dropped classification-only keys;
    ``mapping``, if given, receives ``(old_key, new_key)`` pairs. With ``model`` given, position
    embeddings are fitted to its grids (the release checkpoints' extra cls-token slot is
    removed; other grids are resized bilinearly).
    """
    layout = find_layout(sd)
    if layout is None:
        raise CheckpointError(no_layout_message(sd))
    fmt = layout.name
    dropped = [k for k in sd if layout.classification_head and CLASSIFICATION_ONLY.match(k)]
    kept = OrderedDict((k, v) for k, v in sd.items() if k not in dropped)
    out = OrderedDict()
    for new, old, v in layout.convert(kept):
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
    if pos.dim() != 3 or pos.shape[0] != 1:
        raise CheckpointError(f'{name}: a position embedding of shape {tuple(pos.shape)}; PVT '
                              'position embeddings are (1, tokens, channels)')
    n = grid[0] * grid[1]
    if pos.shape[1] == n:
        return pos
    if pos.shape[1] == n + 1:
        return pos[:, 1:]
    side = math.isqrt(pos.shape[1])
    if side * side != pos.shape[1]:
        side = math.isqrt(pos.shape[1] - 1)
        if side * side != pos.shape[1] - 1:
            raise CheckpointError(f'{name}: cannot fit a position embedding of {pos.shape[1]} '
                                  f'tokens to the {grid[0]}x{grid[1]} grid')
        pos = pos[:, 1:]
    print_log(
        f'{name}: resizing position embedding {side}x{side} -> {grid[0]}x{grid[1]}',
        logger='current')
    dtype = pos.dtype
    pos = pos.reshape(1, side, side, -1).permute(0, 3, 1, 2).float()
    pos = F.interpolate(pos, size=grid, mode='bilinear', align_corners=False)
    return pos.flatten(2).transpose(1, 2).to(dtype)


def adapt_state_dict(model, state_dict: dict, prefix: str = '', quiet: bool = False) -> None:
    """Rewrite, in place, the entries of ``state_dict`` under ``prefix`` to ``model``'s layout
    (logging the layout it converted from, unless ``quiet``)."""
    sub = {k[len(prefix):]: k for k in state_dict if k.startswith(prefix)}
    if not sub:
        return
    if find_layout(sub) is None:
        return
    converted, fmt, dropped = convert_state_dict({k: state_dict[v] for k, v in sub.items()}, model)
    for full_key in sub.values():
        del state_dict[full_key]
    state_dict.update((prefix + k, v) for k, v in converted.items())
    if fmt != 'pvt_mm' and not quiet:
        msg = f'{type(model).__name__}: converting a {fmt!r}-layout checkpoint to its own'
        if dropped:
            msg += f'; dropped {len(dropped)} classification-only keys ({", ".join(dropped)})'
        print_log(msg, logger='current')


BACKBONE_PREFIX = 'backbone.'  # a whole detector's / segmentor's backbone


def backbone_prefix(state_dict: dict) -> str:
    """``'backbone.'`` for a whole-model state dict, ``''`` for a backbone-only one."""
    return BACKBONE_PREFIX if any(k.startswith(BACKBONE_PREFIX) for k in state_dict) else ''


def sub_state_dict(state_dict: dict, prefix: str) -> dict:
    """The entries under ``prefix``, with the prefix removed."""
    return {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}


def unwrap_state_dict(ckpt, filename: str) -> dict:
    """The weights of a loaded checkpoint file (under ``state_dict`` or ``model``, or the file
    itself): a dict of tensors by name, else a :class:`CheckpointError` naming the file."""
    for wrapper in ('state_dict', 'model'):
        if isinstance(ckpt, dict) and wrapper in ckpt:
            ckpt = ckpt[wrapper]
    if not isinstance(ckpt, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in ckpt.items()):
        raise CheckpointError(f'{filename}: no PVT weights found (not a state dict of tensors)')
    return ckpt


def load_pretrained(model, filename: str, prefix: Optional[str] = None) -> None:
    """Load a checkpoint file of any known layout into a PVT backbone, strictly.

    ``prefix`` selects a sub-module of a whole-model checkpoint (e.g. ``'backbone.'``). A file
    with no PVT weights, or that does not fit the model (:func:`checkpoint_fit`: missing or
    unexpected keys, tensors of other shapes, e.g. another arch's weights) raises a
    :class:`CheckpointError` naming the file and the keys.
    """
    name = type(model).__name__
    try:
        state_dict = unwrap_state_dict(read_checkpoint(filename), filename)
    except CheckpointError as err:
        raise CheckpointError(f'{name}: {err}') from None
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state_dict = sub_state_dict(state_dict, prefix)
        if not state_dict:
            raise CheckpointError(f'{name}: {filename}: no keys start with prefix {prefix!r}')
    state_dict = without_wrapper(state_dict)
    if find_layout(state_dict) is None:
        raise CheckpointError(f'{name}: {filename}: {no_layout_message(state_dict)}')
    try:
        fit = checkpoint_fit(model, state_dict)
    except CheckpointError as err:  # from the layout conversion: name the file too
        raise CheckpointError(f'{name}: {filename}: {err}') from None
    if not fit.complete:
        hint = ': the weights of another size?' if fit.mismatched else ''
        raise CheckpointError(f'{name}: {filename} ({detect_format(state_dict)!r} layout) does '
                              f'not fit the model: {fit.describe()}{hint}')
    model.load_state_dict(state_dict, strict=True)
    print_log(f'{name}: loaded pretrained weights from {filename}', logger='current')


def convert_checkpoint(state_dict: Dict[str, torch.Tensor],
                       model=None,
                       mapping: Optional[list] = None):
    """Convert a whole-model (backbone under ``backbone.``) or backbone-only state dict.

    Keys outside the backbone (neck, heads: the same in mmdet 2.x/3.x and mmseg 0.x/1.x) are
    kept, but for mmdet 2.x's DETR head, which is renamed to mmdet 3.x's DETR. Returns
    ``(state_dict, format, dropped_keys)``; see :func:`convert_state_dict`.
    """
    state_dict = dict(state_dict)
    convert_mmdet2_detr(state_dict)
    prefix = backbone_prefix(state_dict)
    backbone = sub_state_dict(state_dict, prefix)
    pairs = []
    converted, fmt, dropped = convert_state_dict(backbone, model, pairs)
    out = OrderedDict((k, v) for k, v in state_dict.items() if not k.startswith(prefix))
    out.update((prefix + k, v) for k, v in converted.items())
    if mapping is not None:
        mapping.extend((prefix + old, prefix + new) for old, new in pairs)
    return out, fmt, [prefix + k for k in dropped]
