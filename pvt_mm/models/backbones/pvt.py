"""Pyramid Vision Transformer: PVT v1 (arXiv 2102.12122) and PVTv2 (arXiv 2106.13797).

One encoder block and one attention module serve the whole family; the differences are flags:

- ``overlap_patch_embed``: v2's overlapping patch embedding (kernel > stride, padding k // 2).
- ``use_pos_embed``: v1's learned position embedding per stage, resized bilinearly to the grid.
- ``ffn_dwconv``: v2's 3x3 depth-wise conv between the two FFN linears.
- ``linear_sra``: PVTv2-li: keys/values average-pooled to 7x7 (then 1x1 conv, LN, GELU) and a
  ReLU after fc1.
- ``stage_norm``: a LayerNorm closing every stage (v2).

The blocks follow the official implementation by Wenhai Wang et al.,
https://github.com/whai362/PVT (Apache-2.0).

Submodule names inside a stage follow the official code (``attn.q``, ``attn.kv``, ``attn.sr``,
``attn.norm``, ``mlp.fc1`` ...), so checkpoint conversion only renames the stage prefix.

Speed and memory, with the official math: attention is ``F.scaled_dot_product_attention`` (the
N x N/R^2 attention matrix is never stored); the FFN is one autograd op (``ops.ffn``) that
stores its input and fc1's output only; tokens are rows of channels-last maps, so convolutions
need no layout copies.
"""
import math
from functools import partial
from typing import Dict, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule, ModuleList
from mmengine.model.weight_init import constant_init, normal_init, trunc_normal_init

from ..checkpoint import adapt_state_dict, load_pretrained
from ..families import Family, register_family
from . import attention
from .official import OfficialPVT
from .ops import Linear, _autocast_dtype, _is_compiling, choose_recompute, ffn

# Architecture presets: every field may be overridden by a keyword of the same name.
_V1 = dict(
    embed_dims=[64, 128, 320, 512],
    num_heads=[1, 2, 5, 8],
    mlp_ratios=[8, 8, 4, 4],
    sr_ratios=[8, 4, 2, 1],
    patch_sizes=[4, 2, 2, 2],
    strides=[4, 2, 2, 2],
    qkv_bias=True,
    overlap_patch_embed=False,
    use_pos_embed=True,
    ffn_dwconv=False,
    linear_sra=False,
    stage_norm=False)
_V2 = dict(
    _V1,
    patch_sizes=[7, 3, 3, 3],
    overlap_patch_embed=True,
    use_pos_embed=False,
    ffn_dwconv=True,
    stage_norm=True)

PVT_ARCHS = {
    'tiny': dict(_V1, depths=[2, 2, 2, 2]),
    'small': dict(_V1, depths=[3, 4, 6, 3]),
    'medium': dict(_V1, depths=[3, 4, 18, 3]),
    'large': dict(_V1, depths=[3, 8, 27, 3]),
}
PVTV2_ARCHS = {
    'b0': dict(_V2, embed_dims=[32, 64, 160, 256], depths=[2, 2, 2, 2]),
    'b1': dict(_V2, depths=[2, 2, 2, 2]),
    'b2': dict(_V2, depths=[3, 4, 6, 3]),
    'b2-li': dict(_V2, depths=[3, 4, 6, 3], linear_sra=True),
    'b3': dict(_V2, depths=[3, 4, 18, 3]),
    'b4': dict(_V2, depths=[3, 8, 27, 3]),
    'b5': dict(_V2, depths=[3, 6, 40, 3], mlp_ratios=[4, 4, 4, 4]),
}
_STAGE_FIELDS = ('embed_dims', 'num_heads', 'mlp_ratios', 'sr_ratios', 'patch_sizes', 'strides',
                 'depths')

# LayerNorm eps as in the official code: 1e-6 for the block and stage norms, PyTorch's default
# 1e-5 for the patch-embedding and spatial-reduction norms.
_BLOCK_EPS = 1e-6


def tokens_to_map(x, hw):
    """(B, H*W, C) tokens -> a (B, C, H, W) view in channels-last memory: no copy. Compiled, a
    contiguous map (the compiler fuses the copy; inductor cannot order channels-last strides of
    a size it does not know)."""
    if _is_compiling():
        return x.view(x.shape[0], *hw, x.shape[2]).permute(0, 3, 1, 2).contiguous()
    return x.view(x.shape[0], *hw, x.shape[2]).permute(0, 3, 1, 2)


def map_to_tokens(x):
    """(B, C, H, W) -> (B, H*W, C) tokens; a view when ``x`` is channels-last, as conv outputs
    of channels-last inputs are."""
    return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1, x.shape[1])


class PatchEmbed(nn.Module):
    """Strided conv (overlapping when kernel > stride) + LayerNorm; returns tokens and grid."""

    def __init__(self, in_channels, embed_dims, patch_size, stride, overlap):
        super().__init__()
        padding = patch_size // 2 if overlap else 0
        self.proj = nn.Conv2d(in_channels, embed_dims, patch_size, stride, padding)
        self.norm = nn.LayerNorm(embed_dims)

    def forward(self, x):
        x = self.proj(x)
        return self.norm(map_to_tokens(x)), tuple(x.shape[2:])


def adaptive_avg_pool(x, size: int):
    """``F.adaptive_avg_pool2d(x, size)`` (same bins: output i of n inputs averages inputs
    floor(i*n/size) .. ceil((i+1)*n/size)-1) as two products with averaging matrices built from
    the input's size, so that exported models (ONNX, ``torch.export``) keep a dynamic input
    size; the adaptive pooling operator needs a static one."""

    def weights(n):
        i = torch.arange(size, device=x.device)
        start = torch.div(i * n, size, rounding_mode='floor')
        end = torch.div((i + 1) * n + size - 1, size, rounding_mode='floor')
        inside = ((torch.arange(n, device=x.device) >= start[:, None]) &
                  (torch.arange(n, device=x.device) < end[:, None]))
        return inside.to(x.dtype) / (end - start)[:, None].to(x.dtype)

    return weights(x.shape[-2]) @ x @ weights(x.shape[-1]).t()


class SRAttention(nn.Module):
    """Spatial-reduction attention, by default fused with ``F.scaled_dot_product_attention``.

    Queries keep full length; keys and values come from the input shrunk by a ``sr_ratio``
    strided conv + LN (or, with ``linear``, by a 7x7 adaptive average pool + 1x1 conv + LN + GELU).
    ``backend`` and ``query_groups``: how the attention is computed
    (:func:`~pvt_mm.models.backbones.attention.choose`).
    """

    def __init__(self,
                 dim,
                 num_heads,
                 sr_ratio=1,
                 qkv_bias=True,
                 attn_drop=0.,
                 proj_drop=0.,
                 linear=False,
                 pool_size=7,
                 backend='auto',
                 query_groups='auto'):
        super().__init__()
        self.num_heads = num_heads
        self.backend, self.query_groups = backend, query_groups
        self.attn_drop = attn_drop
        self.q = Linear(dim, dim, bias=qkv_bias)
        self.kv = Linear(dim, dim * 2, bias=qkv_bias)
        self.proj = Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.linear = linear
        self.reduce = linear or sr_ratio > 1
        if linear:
            self.pool_size = pool_size
            self.sr = nn.Conv2d(dim, dim, kernel_size=1)
            self.act = nn.GELU()
        elif sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, kernel_size=sr_ratio, stride=sr_ratio)
        if self.reduce:
            self.norm = nn.LayerNorm(dim)

    def forward(self, x, hw):
        B, N, C = x.shape
        heads = self.num_heads
        q = self.q(x).view(B, N, heads, C // heads).transpose(1, 2)
        if self.reduce:
            x = tokens_to_map(x, hw)
            if self.linear:  # a contiguous 7x7 map: the 1x1 conv's weight gradient then has
                x = adaptive_avg_pool(x, self.pool_size).contiguous()  # the weight's strides
            x = self.norm(map_to_tokens(self.sr(x)))
            if self.linear:
                x = self.act(x)
        k, v = self.kv(x).view(B, -1, 2, heads, C // heads).permute(2, 0, 3, 1, 4).unbind(0)
        backend, groups = attention.choose(q.device.type,
                                           _autocast_dtype(q.device.type) or q.dtype, N, k.shape[2],
                                           self.backend, self.query_groups)
        x = attention.attention(
            q, k, v, backend, groups, dropout_p=self.attn_drop if self.training else 0.)
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class FFN(nn.Module):
    """fc1 -> [ReLU] -> [3x3 depth-wise conv] -> GELU -> fc2, dropout after the activation and fc2.

    Runs as :func:`~pvt_mm.models.backbones.ops.ffn`, which stores only its input and fc1's
    output for backward (unless ``recompute`` says otherwise:
    :func:`~pvt_mm.models.backbones.ops.choose_recompute`); with dropout in training, as the plain
    modules.
    """

    def __init__(self, dim, hidden_dim, dwconv=False, linear=False, drop=0., recompute='auto'):
        super().__init__()
        self.recompute = recompute
        self.fc1 = Linear(dim, hidden_dim)
        self.relu = nn.ReLU(inplace=True) if linear else None
        self.dwconv = (
            nn.Conv2d(hidden_dim, hidden_dim, 3, padding=1, groups=hidden_dim) if dwconv else None)
        self.act = nn.GELU()
        self.fc2 = Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x, hw, lean=False):
        """``lean``: the op's smaller CPU chunks (see :func:`~pvt_mm.models.backbones.ops.ffn`)."""
        if not (self.training and self.drop.p > 0):
            recompute = choose_recompute(x.device.type,
                                         _autocast_dtype(x.device.type) or x.dtype, self.recompute)
            return ffn(
                x,
                hw,
                self.fc1,
                self.fc2,
                self.dwconv,
                relu=self.relu is not None,
                lean=lean,
                recompute=recompute)
        x = self.fc1(x)
        if self.relu is not None:
            x = self.relu(x)
        if self.dwconv is not None:
            x = map_to_tokens(self.dwconv(tokens_to_map(x, hw)))
        return self.drop(self.fc2(self.drop(self.act(x))))


class PVTBlock(nn.Module):
    """Pre-norm transformer encoder layer: x + attn(LN(x)), then x + FFN(LN(x))."""

    def __init__(self,
                 dim,
                 num_heads,
                 mlp_ratio,
                 sr_ratio,
                 qkv_bias=True,
                 drop=0.,
                 attn_drop=0.,
                 drop_path=0.,
                 dwconv=False,
                 linear=False,
                 speed=None):
        super().__init__()
        speed = speed or {}
        self.norm1 = nn.LayerNorm(dim, eps=_BLOCK_EPS)
        self.attn = SRAttention(
            dim,
            num_heads,
            sr_ratio,
            qkv_bias,
            attn_drop,
            drop,
            linear,
            backend=speed.get('attn_backend', 'auto'),
            query_groups=speed.get('attn_query_groups', 'auto'))
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=_BLOCK_EPS)
        self.mlp = FFN(
            dim,
            int(dim * mlp_ratio),
            dwconv,
            linear,
            drop,
            recompute=speed.get('ffn_recompute', 'auto'))

    def forward(self, x, hw, with_cp=False):
        """``with_cp``: recompute the FFN half in backward instead of storing its activations (in
        the FFN op's smaller chunks, which keep the recomputation's peak low)."""
        x = x + self.drop_path(self.attn(self.norm1(x), hw))
        if with_cp and x.requires_grad:
            return x + cp.checkpoint(self._ffn, x, hw, lean=True, use_reentrant=False)
        return x + self._ffn(x, hw)

    def _ffn(self, x, hw, lean=False):
        return self.drop_path(self.mlp(self.norm2(x), hw, lean))


class PVTStage(nn.Module):
    """Patch embedding, optional position embedding, encoder blocks, optional closing norm."""

    def __init__(self,
                 in_channels,
                 dim,
                 depth,
                 num_heads,
                 mlp_ratio,
                 sr_ratio,
                 patch_size,
                 stride,
                 overlap_patch_embed,
                 pos_grid,
                 ffn_dwconv,
                 linear_sra,
                 stage_norm,
                 qkv_bias,
                 drop_rate,
                 attn_drop_rate,
                 drop_paths,
                 with_cp,
                 speed=None):
        super().__init__()
        self.with_cp = with_cp
        self.patch_embed = PatchEmbed(in_channels, dim, patch_size, stride, overlap_patch_embed)
        self.pos_grid = pos_grid
        if pos_grid is not None:
            self.pos_embed = nn.Parameter(torch.zeros(1, pos_grid[0] * pos_grid[1], dim))
            self.pos_drop = nn.Dropout(drop_rate)
        self.blocks = ModuleList([
            PVTBlock(dim, num_heads, mlp_ratio, sr_ratio, qkv_bias, drop_rate, attn_drop_rate,
                     drop_paths[i], ffn_dwconv, linear_sra, speed) for i in range(depth)
        ])
        self.norm = nn.LayerNorm(dim, eps=_BLOCK_EPS) if stage_norm else None

    def resized_pos_embed(self, hw):
        """The position embedding, bilinearly resized from the pretraining grid to ``hw``."""
        if not torch.jit.is_tracing() and tuple(hw) == tuple(self.pos_grid):
            return self.pos_embed  # (a traced model resizes always: its input size is free)
        pos = self.pos_embed.reshape(1, *self.pos_grid, -1).permute(0, 3, 1, 2)
        pos = F.interpolate(pos, size=tuple(hw), mode='bilinear', align_corners=False)
        return pos.flatten(2).transpose(1, 2)

    def forward(self, x):
        x, hw = self.patch_embed(x)
        if self.pos_grid is not None:
            x = self.pos_drop(x + self.resized_pos_embed(hw))
        for block in self.blocks:
            x = block(x, hw, self.with_cp)
        if self.norm is not None:
            x = self.norm(x)
        return tokens_to_map(x, hw)


class PVT(BaseModule):
    """Pyramid Vision Transformer backbone for dense prediction (v1 presets; see ``PVTv2``).

    Args:
        arch (str | dict): a preset name of ``arch_settings``, or a dict with every preset field.
        in_channels (int): input image channels.
        out_indices (Sequence[int]): stages whose NCHW feature maps are returned (strides
            4/8/16/32).
        frozen_stages (int): the first ``frozen_stages`` stages are frozen (no gradients, eval
            mode); -1 or 0 freezes nothing.
        drop_rate, attn_drop_rate (float): dropout after projections / on attention weights.
        drop_path_rate (float): stochastic depth, linearly increasing over all blocks.
        pretrain_img_size (int | tuple): image size the position embeddings were trained at.
        with_cp (bool): activation checkpointing of each block's FFN (norm2 + MLP), recomputed in
            backward: the widest activations, and the cheapest to recompute.
        attn_backend (str): how attention is computed: ``'auto'`` (the measured default per
            device and dtype), ``'sdpa'``, ``'flash'``, ``'efficient'``, ``'cudnn'``, ``'math'``
            or ``'explicit'`` (:mod:`pvt_mm.models.backbones.attention`).
        attn_query_groups (int | str): split each head's queries into this many groups that the
            attention kernel treats as heads (``'auto'``: the measured default).
        ffn_recompute (str): what the FFN recomputes in backward: ``'auto'``, ``'dwconv'``,
            ``'gelu'`` or ``'none'`` (:func:`pvt_mm.models.backbones.ops.choose_recompute`).
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...)`` loads any known
            PVT checkpoint format through :func:`pvt_mm.models.checkpoint.adapt_state_dict`.
        **overrides: any preset field (``depths``, ``embed_dims``, ``sr_ratios``, ...).
    """
    arch_settings: Dict[str, dict] = PVT_ARCHS

    def __init__(self,
                 arch='tiny',
                 in_channels=3,
                 out_indices=(0, 1, 2, 3),
                 frozen_stages=-1,
                 drop_rate=0.,
                 attn_drop_rate=0.,
                 drop_path_rate=0.1,
                 pretrain_img_size=224,
                 with_cp=False,
                 attn_backend='auto',
                 attn_query_groups='auto',
                 ffn_recompute='auto',
                 init_cfg=None,
                 **overrides):
        super().__init__(init_cfg=init_cfg)
        speed = dict(
            attn_backend=attn_backend,
            attn_query_groups=attn_query_groups,
            ffn_recompute=ffn_recompute)
        self._check_speed_options(**speed)
        self.arch = self._resolve_arch(arch, overrides)
        a = self.arch
        self.num_stages = num_stages = len(a['depths'])
        self.embed_dims = list(a['embed_dims'])
        self.out_indices = self._check_out_indices(out_indices, num_stages)
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'{type(self).__name__}: frozen_stages must be in [-1, {num_stages}]'
                             f', got {frozen_stages}')
        self.frozen_stages = frozen_stages
        if isinstance(pretrain_img_size, int):
            pretrain_img_size = (pretrain_img_size, pretrain_img_size)
        self.pretrain_img_size = tuple(pretrain_img_size)

        # On the CPU even under a `torch.device('meta')` context (deferred init, counting).
        drop_paths = torch.linspace(0, drop_path_rate, sum(a['depths']), device='cpu').tolist()
        self.stages = ModuleList()
        grid, cur = self.pretrain_img_size, 0
        for i in range(num_stages):
            grid = tuple(g // a['strides'][i] for g in grid)
            self.stages.append(
                PVTStage(
                    in_channels=in_channels if i == 0 else a['embed_dims'][i - 1],
                    dim=a['embed_dims'][i],
                    depth=a['depths'][i],
                    num_heads=a['num_heads'][i],
                    mlp_ratio=a['mlp_ratios'][i],
                    sr_ratio=a['sr_ratios'][i],
                    patch_size=a['patch_sizes'][i],
                    stride=a['strides'][i],
                    overlap_patch_embed=a['overlap_patch_embed'],
                    pos_grid=grid if a['use_pos_embed'] else None,
                    ffn_dwconv=a['ffn_dwconv'],
                    linear_sra=a['linear_sra'],
                    stage_norm=a['stage_norm'],
                    qkv_bias=a['qkv_bias'],
                    drop_rate=drop_rate,
                    attn_drop_rate=attn_drop_rate,
                    drop_paths=drop_paths[cur:cur + a['depths'][i]],
                    with_cp=with_cp,
                    speed=speed))
            cur += a['depths'][i]
        if hasattr(self, 'register_load_state_dict_pre_hook'):
            self.register_load_state_dict_pre_hook(self._adapt_checkpoint)
        else:  # torch < 2.3: the same hook under its earlier, private name
            self._register_load_state_dict_pre_hook(self._adapt_checkpoint, with_module=True)
        self._freeze_stages()

    @classmethod
    def _resolve_arch(cls, arch, overrides) -> dict:
        name = cls.__name__
        if isinstance(arch, str):
            if arch not in cls.arch_settings:
                raise KeyError(f'{name}: unknown arch {arch!r}; choose one of '
                               f'{sorted(cls.arch_settings)} or pass a dict')
            settings = dict(cls.arch_settings[arch])
        elif isinstance(arch, dict):
            settings = dict(arch)
        else:
            raise TypeError(f'{name}: arch must be a str or dict, got {type(arch).__name__}')
        fields = set(next(iter(cls.arch_settings.values())))
        unknown = (set(settings) | set(overrides)) - fields
        if unknown:
            raise TypeError(f'{name}: unknown argument(s) {sorted(unknown)}; '
                            f'arch fields are {sorted(fields)}')
        settings.update(overrides)
        missing = fields - set(settings)
        if missing:
            raise KeyError(f'{name}: arch dict lacks {sorted(missing)}')
        lengths = {k: len(settings[k]) for k in _STAGE_FIELDS}
        if len(set(lengths.values())) != 1:
            raise ValueError(f'{name}: per-stage fields must have equal lengths, got {lengths}')
        for i, (dim, heads) in enumerate(zip(settings['embed_dims'], settings['num_heads'])):
            if dim % heads:
                raise ValueError(f'{name}: stage {i} embed_dims {dim} is not divisible by '
                                 f'num_heads {heads}')
        for k in _STAGE_FIELDS:
            if any(not isinstance(v, int) or v <= 0 for v in settings[k]):
                raise ValueError(f'{name}: {k} must be positive integers, got {settings[k]}')
        return settings

    @classmethod
    def _check_speed_options(cls, attn_backend, attn_query_groups, ffn_recompute):
        """Named errors at construction for values no device could run."""
        name = cls.__name__
        if attn_backend != 'auto' and attn_backend not in attention.BACKENDS:
            raise ValueError(f"{name}: attn_backend must be 'auto' or one of "
                             f'{attention.BACKENDS}, got {attn_backend!r}')
        if attn_query_groups != 'auto' and not (isinstance(attn_query_groups, int)
                                                and attn_query_groups >= 1):
            raise ValueError(f"{name}: attn_query_groups must be 'auto' or a positive int, got "
                             f'{attn_query_groups!r}')
        try:
            choose_recompute('cpu', torch.float32, ffn_recompute)
        except ValueError as err:
            raise ValueError(f'{name}: {err}') from None

    @staticmethod
    def _check_out_indices(out_indices, num_stages) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        out_indices = tuple(i + num_stages if i < 0 else i for i in out_indices)
        if not out_indices or any(not 0 <= i < num_stages for i in out_indices):
            raise ValueError(f'out_indices must index the {num_stages} stages, got {out_indices}')
        return out_indices

    def init_weights(self):
        """Load ``init_cfg`` Pretrained weights strictly, else the official random init."""
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            load_pretrained(self, self.init_cfg['checkpoint'], prefix=self.init_cfg.get('prefix'))
            self._is_init = True
            return
        if self.init_cfg is not None:
            super().init_weights()
            return
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_init(m, std=.02, bias=0.)
            elif isinstance(m, nn.LayerNorm):
                constant_init(m, 1.0, bias=0.)
            elif isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
                normal_init(m, 0., math.sqrt(2.0 / fan_out), bias=0.)
        for stage in self.stages:
            if stage.pos_grid is not None:
                nn.init.trunc_normal_(stage.pos_embed, std=.02)

    def adapt_state_dict(self, state_dict: dict, prefix: str = '', quiet: bool = False) -> None:
        """Rewrite, in place, any known PVT checkpoint layout under ``prefix`` to this module's
        (loading does it; :func:`~pvt_mm.state_dicts.checkpoint_fit` asks every module that has this
        method)."""
        adapt_state_dict(self, state_dict, prefix, quiet=quiet)

    def _adapt_checkpoint(self, module, state_dict, prefix, *args):
        """The load-state-dict pre-hook: :meth:`adapt_state_dict` on every load."""
        self.adapt_state_dict(state_dict, prefix)

    def _freeze_stages(self):
        for stage in self.stages[:max(self.frozen_stages, 0)]:
            stage.eval()
            for p in stage.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        return self

    def forward(self, x) -> Tuple[torch.Tensor, ...]:
        # The input check is Python control flow on the input's shape: skipped while an exporter
        # traces the model (it would record the check's outcome as a constant, and warn).
        if not torch.jit.is_tracing() and (x.dim() != 4 or x.shape[1]
                                           != self.stages[0].patch_embed.proj.in_channels):
            raise ValueError(f'{type(self).__name__} expects NCHW input with '
                             f'{self.stages[0].patch_embed.proj.in_channels} channels, '
                             f'got shape {tuple(x.shape)}')
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)  # channels-last between stages: the next patch embedding copies nothing
            if i in self.out_indices:
                outs.append(x.contiguous())
        return tuple(outs)


class PVTv2(PVT):
    """PVTv2 backbone (presets b0-b5 and the linear b2-li); see :class:`PVT` for the arguments."""
    arch_settings: Dict[str, dict] = PVTV2_ARCHS

    def __init__(self, arch='b0', **kwargs):
        super().__init__(arch=arch, **kwargs)


# The two families (pvt_mm.models.families): presets, official formulation, ImageNet weights, the
# same network in the libraries the benchmark compares with.
_RELEASE = 'https://github.com/whai362/PVT/releases/download/v2/'
register_family(
    Family(
        name='pvt',
        backbone=PVT,
        reference=partial(OfficialPVT, 1),
        weights={arch: f'{_RELEASE}pvt_{arch}.pth'
                 for arch in PVT_ARCHS},
        mmdet_type='PyramidVisionTransformer'))
register_family(
    Family(
        name='pvtv2',
        backbone=PVTv2,
        reference=partial(OfficialPVT, 2),
        weights={arch: f'{_RELEASE}pvt_v2_{arch.replace("-", "_")}.pth'
                 for arch in PVTV2_ARCHS},
        mmdet_type='PyramidVisionTransformerV2',
        timm_model='pvt_v2_{arch}',
        transformers=True))
