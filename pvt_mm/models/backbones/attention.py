"""Spatial-reduction attention's core, ``softmax(q k^T / sqrt(d)) v``, and the choice of how to
compute it.

Ways (``backend``):

- ``'sdpa'``: ``F.scaled_dot_product_attention``, torch choosing its kernel (never stores the
  N x M attention matrix);
- ``'flash'``, ``'efficient'``, ``'cudnn'``, ``'math'``: that SDPA kernel, chosen explicitly
  (``torch.nn.attention.sdpa_kernel``, torch >= 2.3; ``'math'`` also on older torch);
- ``'explicit'``: the official code's formulation, the attention matrix written out (what mmdet,
  transformers and the official code compute; its fp32 backward is plain GEMMs).

``query_groups`` C > 1 splits the queries of each head into C groups that SDPA treats as heads
of their own, sharing the head's keys and values: the same math, C times the work items for the
fused kernels, which launch one per 64 keys per head per image (stage 1 of a detector has about
a thousand keys, one head and two images). Queries that do not divide into C groups are padded
and the padding's outputs dropped. One head's keys and values are shared as a view (stage 1);
more heads' are repeated, a copy of the small side.

:func:`choose` resolves ``'auto'`` for a device, dtype and size: on every device today the
defaults are ``'sdpa'`` and one group, the formulation measured on this project's CPU machines
(docs/benchmark.md has the figures and the command); the other choices are options until a GPU
measurement sets the CUDA defaults. A forced choice the device or dtype cannot run is a
ValueError that says why.
"""
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from mmengine.utils import digit_version

BACKENDS = ('sdpa', 'flash', 'efficient', 'cudnn', 'math', 'explicit')
_SDPA_KERNELS = {
    'flash': 'FLASH_ATTENTION',
    'efficient': 'EFFICIENT_ATTENTION',
    'cudnn': 'CUDNN_ATTENTION',
    'math': 'MATH'
}
_HALF = (torch.float16, torch.bfloat16)

# torch >= 2.3 chooses an SDPA kernel by name (torch.nn.attention.sdpa_kernel).
CHOOSES_SDPA_KERNEL = digit_version(torch.__version__) >= digit_version('2.3')


def check_backend(backend: str, device_type: str, dtype: torch.dtype) -> None:
    """A ValueError saying why ``backend`` cannot run ``dtype`` on ``device_type``, if it
    cannot (the kernels' documented limits; torch checks the rest when it runs)."""
    if backend not in BACKENDS:
        raise ValueError(f"attn_backend must be 'auto' or one of {BACKENDS}, got {backend!r}")
    why = None
    if backend in ('flash', 'efficient', 'cudnn') and not CHOOSES_SDPA_KERNEL:
        why = f'choosing an SDPA kernel needs torch >= 2.3 (this is {torch.__version__})'
    elif backend in ('efficient', 'cudnn') and device_type != 'cuda':
        why = f'the {backend} kernel runs on CUDA only'
    elif backend in ('flash', 'cudnn') and device_type == 'cuda' and dtype not in _HALF:
        why = f'the {backend} kernel on CUDA takes float16 and bfloat16 only (autocast)'
    elif backend == 'efficient' and dtype == torch.float64:
        why = 'the efficient kernel takes no float64'
    if why:
        raise ValueError(f"attn_backend={backend!r} cannot run {dtype} on {device_type}: {why}; "
                         "use 'auto', 'sdpa', 'math' or 'explicit'")


def choose(device_type: str,
           dtype: torch.dtype,
           queries: int,
           keys: int,
           backend='auto',
           query_groups='auto') -> Tuple[str, int]:
    """``(backend, query_groups)`` for attention of ``queries`` over ``keys`` on
    ``device_type`` in ``dtype``; ``'auto'`` takes the measured default (see the module
    docstring), a forced value is checked (:func:`check_backend`)."""
    if backend == 'auto':
        backend = 'sdpa'
    check_backend(backend, device_type, dtype)
    if query_groups == 'auto':
        query_groups = 1
    if not (isinstance(query_groups, int) and query_groups >= 1):
        raise ValueError(f"attn_query_groups must be 'auto' or a positive int, got "
                         f'{query_groups!r}')
    if query_groups > 1:  # (compared only then: a traced size is a tensor)
        query_groups = min(query_groups, max(queries, 1))
    return backend, query_groups


def _split_queries(q, k, v, groups: int):
    """(B, h, N, d) queries -> (B, h*C, ceil(N/C), d), zero-padded at the end; each group sees
    its head's keys and values: a view for one head (stage 1), else repeated (they are the small
    side, N / sr_ratio^2 tokens)."""
    B, h, n, d = q.shape
    size = -(-n // groups)
    if size * groups != n:
        q = F.pad(q, (0, 0, 0, size * groups - n))
    q = q.reshape(B, h * groups, size, d)
    if h == 1:
        k, v = (t.expand(B, groups, *t.shape[2:]) for t in (k, v))
    else:
        k, v = (t.repeat_interleave(groups, dim=1) for t in (k, v))
    return q, k, v


def attention(q, k, v, backend='sdpa', query_groups=1, dropout_p=0.):
    """``softmax(q k^T / sqrt(d)) v`` for (B, heads, N, d) queries and (B, heads, M, d) keys and
    values, computed as ``backend`` with the queries in ``query_groups`` groups."""
    B, h, n, d = q.shape
    if query_groups > 1:
        q, k, v = _split_queries(q, k, v, query_groups)
    if backend == 'explicit':
        attn = (q * (1 / math.sqrt(d))) @ k.transpose(-2, -1)
        attn = F.dropout(attn.softmax(dim=-1), dropout_p) if dropout_p else attn.softmax(dim=-1)
        out = attn @ v
    elif backend == 'sdpa':
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
    elif backend == 'math' and not CHOOSES_SDPA_KERNEL:
        out = torch.ops.aten._scaled_dot_product_attention_math(q, k, v, dropout_p=dropout_p)[0]
    else:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        with sdpa_kernel([getattr(SDPBackend, _SDPA_KERNELS[backend])]):
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
    if query_groups > 1:
        out = out.reshape(B, h, -1, d)[:, :, :n]
    return out
