"""A reference PVT v1 / PVTv2, written the way the official repository (whai362/PVT) writes it.

The PVT and PVTv2 families' ``reference`` (:mod:`pvt_mm.models.families`): the tests' official
model (checkpoint layout, parameter counts, numerical equality) and the speed benchmark's
baseline: explicit ``softmax(q @ k^T) @ v``, ``nn.Linear`` q/kv, 4-D reshapes,
the official module and parameter names (``patch_embed1``, ``pos_embed1``, ``block1.0.attn.q``,
``norm1``, ``cls_token``, ``head``), so its ``state_dict()`` is a checkpoint in the official
classification-release layout. ``forward_pyramid`` is the official detection forward.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath


class Mlp(nn.Module):

    def __init__(self, dim, hidden, dwconv=False, linear=False):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = DWConv(hidden) if dwconv else None
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.linear = linear
        if linear:
            self.relu = nn.ReLU(inplace=True)

    def forward(self, x, H, W):
        x = self.fc1(x)
        if self.linear:
            x = self.relu(x)
        if self.dwconv is not None:
            x = self.dwconv(x, H, W)
        return self.fc2(self.act(x))


class DWConv(nn.Module):

    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, bias=True, groups=dim)

    def forward(self, x, H, W):
        B, N, C = x.shape
        x = x.transpose(1, 2).view(B, C, H, W)
        return self.dwconv(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):

    def __init__(self, dim, num_heads, qkv_bias=True, sr_ratio=1, linear=False):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads)**-0.5
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.linear = linear
        self.sr_ratio = sr_ratio
        if not linear:
            if sr_ratio > 1:
                self.sr = nn.Conv2d(dim, dim, kernel_size=sr_ratio, stride=sr_ratio)
                self.norm = nn.LayerNorm(dim)
        else:
            self.pool = nn.AdaptiveAvgPool2d(7)
            self.sr = nn.Conv2d(dim, dim, kernel_size=1, stride=1)
            self.norm = nn.LayerNorm(dim)
            self.act = nn.GELU()

    def forward(self, x, H, W):
        B, N, C = x.shape
        q = self.q(x).reshape(B, N, self.num_heads, C // self.num_heads).permute(0, 2, 1, 3)
        if self.linear or self.sr_ratio > 1:
            x_ = x.permute(0, 2, 1).reshape(B, C, H, W)
            x_ = self.sr(self.pool(x_)) if self.linear else self.sr(x_)
            x_ = self.norm(x_.reshape(B, C, -1).permute(0, 2, 1))
            if self.linear:
                x_ = self.act(x_)
        else:
            x_ = x
        kv = self.kv(x_).reshape(B, -1, 2, self.num_heads,
                                 C // self.num_heads).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Block(nn.Module):

    def __init__(self,
                 dim,
                 num_heads,
                 mlp_ratio,
                 sr_ratio,
                 drop_path=0.,
                 dwconv=False,
                 linear=False):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads, True, sr_ratio, linear)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), dwconv, linear)

    def forward(self, x, H, W):
        x = x + self.drop_path(self.attn(self.norm1(x), H, W))
        return x + self.drop_path(self.mlp(self.norm2(x), H, W))


class PatchEmbed(nn.Module):
    """v1: non-overlapping (kernel = stride); v2: ``OverlapPatchEmbed`` (padding k // 2)."""

    def __init__(self, patch_size, stride, in_chans, embed_dim, overlap):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, stride,
                              patch_size // 2 if overlap else 0)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        x = self.proj(x)
        _, _, H, W = x.shape
        return self.norm(x.flatten(2).transpose(1, 2)), H, W


class OfficialPVT(nn.Module):
    """Official-layout PVT. ``version=1``: PyramidVisionTransformer; 2: PyramidVisionTransformerV2.

    Arguments are the fields of ``pvt_mm.models.backbones.pvt.PVT_ARCHS`` / ``PVTV2_ARCHS``.
    """

    def __init__(self,
                 version,
                 embed_dims,
                 num_heads,
                 mlp_ratios,
                 sr_ratios,
                 depths,
                 patch_sizes,
                 strides,
                 linear_sra=False,
                 img_size=224,
                 num_classes=1000,
                 drop_path_rate=0.,
                 in_chans=3,
                 **unused):
        super().__init__()
        self.version = version
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, sum(depths))]
        cur, size = 0, img_size
        self.grids = []
        for i in range(len(depths)):
            size = size // strides[i]
            self.grids.append(size)
            setattr(
                self, f'patch_embed{i + 1}',
                PatchEmbed(
                    patch_sizes[i],
                    strides[i],
                    in_chans if i == 0 else embed_dims[i - 1],
                    embed_dims[i],
                    overlap=version == 2))
            if version == 1:
                n = size * size + (1 if i == len(depths) - 1 else 0)
                setattr(self, f'pos_embed{i + 1}', nn.Parameter(torch.zeros(1, n, embed_dims[i])))
            setattr(
                self, f'block{i + 1}',
                nn.ModuleList([
                    Block(
                        embed_dims[i],
                        num_heads[i],
                        mlp_ratios[i],
                        sr_ratios[i],
                        dpr[cur + j],
                        dwconv=version == 2,
                        linear=linear_sra) for j in range(depths[i])
                ]))
            if version == 2:
                setattr(self, f'norm{i + 1}', nn.LayerNorm(embed_dims[i], eps=1e-6))
            cur += depths[i]
        if version == 1:
            self.norm = nn.LayerNorm(embed_dims[3], eps=1e-6)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims[3]))
        self.head = nn.Linear(embed_dims[3], num_classes)
        self.num_stages = len(depths)

    def _pos_embed(self, i, H, W):
        """Official detection code: the stage's embedding, bilinearly resized to (H, W)."""
        pos = getattr(self, f'pos_embed{i + 1}')
        if i == self.num_stages - 1:
            pos = pos[:, 1:]
        g = self.grids[i]
        if (H, W) == (g, g):
            return pos
        pos = pos.reshape(1, g, g, -1).permute(0, 3, 1, 2)
        return F.interpolate(
            pos, size=(H, W), mode='bilinear').reshape(1, -1, H * W).permute(0, 2, 1)

    def forward_pyramid(self, x):
        """The official dense-prediction forward: four NCHW maps."""
        B = x.shape[0]
        outs = []
        for i in range(self.num_stages):
            x, H, W = getattr(self, f'patch_embed{i + 1}')(x)
            if self.version == 1:
                x = x + self._pos_embed(i, H, W)
            for blk in getattr(self, f'block{i + 1}'):
                x = blk(x, H, W)
            if self.version == 2:
                x = getattr(self, f'norm{i + 1}')(x)
            x = x.reshape(B, H, W, -1).permute(0, 3, 1, 2).contiguous()
            outs.append(x)
        return outs
