"""PVT's linear layers and its feed-forward network as memory-lean ops.

- :func:`linear` is ``F.linear``; on CPU it runs as a 1x1 convolution over the rows (oneDNN runs
  PVT's projection shapes about 2x faster than the GEMM path).
- :func:`ffn` is ``fc2(GELU(dwconv(ReLU(fc1(x)))))`` (ReLU and the depth-wise 3x3 conv
  optional) as one autograd function that by default keeps only ``x`` and fc1's output for
  backward and recomputes the depth-wise conv and GELU there. The widest tensors of a block
  (``mlp_ratio`` x the channels: 8x in PVT v1's first two stages) are stored once instead of two
  (v1) or three (v2) times; recomputing them is elementwise work next to the block's matmuls.
  ``recompute`` (:func:`choose_recompute`) can keep the conv's output, or it and the GELU's,
  instead.

On CPU :func:`ffn` works through chunks of image rows holding at most 8 MiB of hidden
activations (a chunk's depth-wise conv reads one halo row from each neighbour), so no
hidden-width tensor is allocated whole; ``lean=True`` (under ``with_cp``) takes 4 MiB chunks, a
lower recomputation peak. On other devices (CUDA's caching allocator makes allocations free) the
whole batch is one chunk.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.utils import digit_version

_CPU_CHUNK_BYTES = 8 << 20
_CPU_LEAN_CHUNK_BYTES = 4 << 20
# torch 2.1's CPU depth-wise convolution computes the input gradient of channels-last maps far
# more slowly than of contiguous ones (newer torch is fast on both), so there the FFN's backward
# makes them contiguous first. A PVTv2-b0 training step, `OMP_NUM_THREADS=1 python
# tools/analysis_tools/benchmark.py --compare --archs pvtv2-b0 --shapes 192x256 --impls pvt_mm
# --steps 5` on this project's 2-core machine: torch 2.1.2 0.333 s with channels-last maps,
# 0.147 s with contiguous ones; torch 2.13 0.096 s.
_SLOW_CHANNELS_LAST_DWCONV_BACKWARD = digit_version(torch.__version__) < digit_version('2.2')


def _is_compiling() -> bool:
    """Inside ``torch.compile`` (not ``torch.export``, which exports the eager formulation)."""
    compiler = getattr(torch, 'compiler', None)
    if compiler is not None and hasattr(compiler, 'is_compiling'):
        exporting = getattr(compiler, 'is_exporting', lambda: False)()
        return compiler.is_compiling() and not exporting
    return torch._dynamo.is_compiling()  # torch < 2.3


def _as_map(x):
    """Contiguous (rows, channels) -> a (1, channels, 1, rows) channels-last view, for 1x1
    convolution (whose outputs and input gradients are then channels-last too)."""
    return x.view(1, 1, *x.shape).permute(0, 3, 1, 2)


def _tokens(x):
    """(B, C, H, W) channels-last map -> (B*H*W, C) rows; a view, as conv outputs are."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])


def _cpu_path(device):
    """Whether ``device`` takes the CPU code paths (1x1 convolutions, row chunks); elsewhere
    (CUDA) plain GEMMs over the whole batch."""
    return device.type == 'cpu'


def _linear(a, weight, bias):
    if _cpu_path(a.device):
        return _tokens(F.conv2d(_as_map(a), weight.view(*weight.shape, 1, 1), bias))
    return F.linear(a, weight, bias)


def _linear_backward(dy, a, weight):
    """Gradients of ``_linear(a, weight, bias)`` w.r.t. ``a`` and ``weight``."""
    if _cpu_path(a.device):
        da, dw, _ = torch.ops.aten.convolution_backward(
            _as_map(dy), _as_map(a), weight.view(*weight.shape, 1, 1), None, [1, 1], [0, 0], [1, 1],
            False, [0, 0], 1, [True, True, False])
        return _tokens(da), dw.view(weight.shape)
    return dy.mm(weight), dy.t().mm(a)


def linear(x, weight, bias=None):
    """``F.linear(x, weight, bias)`` over the last dim of ``x`` (compiled: ``F.linear`` itself,
    which the compiler lowers its own way)."""
    if _is_compiling():
        return F.linear(x, weight, bias)
    y = _linear(x.reshape(-1, x.shape[-1]), weight, bias)
    return y.view(*x.shape[:-1], weight.shape[0])


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters, init and hooks) computed by :func:`linear`."""

    def forward(self, x):
        return linear(x, self.weight, self.bias)


def _autocast_dtype(device_type):
    """The dtype autocast computes matmuls in on ``device_type``, or None when it is off."""
    if hasattr(torch, 'get_autocast_dtype'):  # torch >= 2.4
        enabled = torch.is_autocast_enabled(device_type)
        return torch.get_autocast_dtype(device_type) if enabled else None
    if device_type == 'cpu':
        return torch.get_autocast_cpu_dtype() if torch.is_autocast_cpu_enabled() else None
    return torch.get_autocast_gpu_dtype() if torch.is_autocast_enabled() else None


def _chunks(batch, hw, hidden, device, itemsize, lean=False):
    """Pieces ``(b0, b1, r0, r1)`` of the token grid: images b0..b1-1, rows r0..r1-1."""
    h, w = hw
    if not _cpu_path(device):
        return [(0, batch, 0, h)]
    limit = _CPU_LEAN_CHUNK_BYTES if lean else _CPU_CHUNK_BYTES
    rows = max(1, limit // (w * hidden * itemsize))
    if rows >= h:
        return [(b, b + 1, 0, h) for b in range(batch)]
    return [(b, b + 1, r, min(r + rows, h)) for b in range(batch) for r in range(0, h, rows)]


def _span(chunk, hw):
    b0, b1, r0, r1 = chunk
    n = hw[0] * hw[1]
    return slice(b0 * n + r0 * hw[1], (b1 - 1) * n + r1 * hw[1])


class _FFN(torch.autograd.Function):

    @staticmethod
    def _dwconv_input(h1, chunks, i, hw):
        """Chunk ``i``'s input map of the depth-wise conv (with one halo row from each neighbour
        of the same image, zeros at image borders) and that map's padding."""
        b0, b1, r0, r1 = chunks[i]
        (h, w), hidden = hw, h1[i].shape[1]
        if r0 == 0 and r1 == h:
            ext, padding = h1[i].view(b1 - b0, h, w, hidden), [1, 1]
        else:
            top = h1[i - 1][-w:] if r0 > 0 else h1[i].new_zeros(w, hidden)
            bottom = h1[i + 1][:w] if r1 < h else h1[i].new_zeros(w, hidden)
            ext, padding = torch.cat([top, h1[i], bottom]).view(1, r1 - r0 + 2, w, hidden), [0, 1]
        return ext.permute(0, 3, 1, 2), padding

    @staticmethod
    def _dwconv(h1, chunks, i, hw, weight, bias):
        """Depth-wise conv of chunk ``i``: its input map, that map's padding, the output rows."""
        ext, padding = _FFN._dwconv_input(h1, chunks, i, hw)
        out = F.conv2d(ext, weight, bias, padding=padding, groups=ext.shape[1])
        return ext, padding, _tokens(out)

    @staticmethod
    def forward(ctx, x, hw, relu, lean, recompute, w1, b1, wd, bd, w2, b2):
        B, N, C = x.shape
        dtype = _autocast_dtype(x.device.type) or x.dtype
        x2, w1_, b1_, wd_, bd_, w2_, b2_ = (
            t.to(dtype) if t is not None else None for t in (x, w1, b1, wd, bd, w2, b2))
        x2 = x2.reshape(B * N, C)
        chunks = _chunks(B, hw, w1.shape[0], x.device, x2.element_size(), lean)
        keep_h2 = wd is not None and recompute in ('gelu', 'none')
        keep_act = recompute == 'none'
        h2s, acts = [], []
        with torch.autocast(x.device.type, enabled=False):
            h1 = []
            for chunk in chunks:
                h = _linear(x2[_span(chunk, hw)], w1_, b1_)
                h1.append(h.relu_() if relu else h)
            y = x2.new_empty(B * N, w2.shape[0]) if len(chunks) > 1 else None
            scratch = _Scratch()
            for i, chunk in enumerate(chunks):
                h2 = h1[i] if wd is None else _FFN._dwconv(h1, chunks, i, hw, wd_, bd_)[2]
                if keep_act or len(chunks) == 1:
                    a = F.gelu(h2)
                else:  # one buffer for every chunk's activation
                    a = torch.ops.aten.gelu.out(h2, out=scratch.like(h2))
                if y is None:
                    y = _linear(a, w2_, b2_)
                else:
                    y[_span(chunk, hw)] = _linear(a, w2_, b2_)
                if keep_h2:
                    h2s.append(h2)
                if keep_act:
                    acts.append(a)
        ctx.save_for_backward(x2, w1, wd, bd, w2, *h1, *h2s, *acts)
        ctx.meta = (B, N, hw, relu, dtype, chunks, b1 is not None, b2
                    is not None, keep_h2, keep_act)
        return y.view(B, N, -1)

    @staticmethod
    def backward(ctx, dy):
        x2, w1, wd, bd, w2, *kept = ctx.saved_tensors
        B, N, hw, relu, dtype, chunks, has_b1, has_b2, keep_h2, keep_act = ctx.meta
        n = len(chunks)
        h1, kept = kept[:n], kept[n:]
        h2s, kept = (kept[:n], kept[n:]) if keep_h2 else (None, kept)
        acts = kept[:n] if keep_act else None
        w1_, w2_ = w1.to(dtype), w2.to(dtype)
        wd_ = wd.to(dtype) if wd is not None else None
        bd_ = bd.to(dtype) if bd is not None else None
        dy = dy.reshape(B * N, -1).to(dtype).contiguous()
        w, hidden = hw[1], w1.shape[0]
        dx = torch.empty_like(x2)
        grads = dict(w1=None, b1=None, wd=None, bd=None, w2=None)
        scratch = _Scratch()

        def accumulate(name, g):
            grads[name] = g if grads[name] is None else grads[name].add_(g)

        def fc1_backward(i, dh1):
            """Once chunk ``i``'s gradient is complete: ReLU, then fc1's gradients."""
            if relu:
                dh1 = dh1.masked_fill_(h1[i] <= 0, 0)
            span = _span(chunks[i], hw)
            dx[span], g = _linear_backward(dh1, x2[span], w1_)
            accumulate('w1', g)
            if has_b1:
                accumulate('b1', dh1.sum(0))

        pending = carry = None  # a chunk waiting for its lower neighbour's halo gradient
        with torch.autocast(dy.device.type, enabled=False):
            for i, chunk in enumerate(chunks):
                if wd is None:
                    h2 = h1[i]
                elif keep_h2:
                    (ext, padding), h2 = _FFN._dwconv_input(h1, chunks, i, hw), h2s[i]
                else:
                    ext, padding, h2 = _FFN._dwconv(h1, chunks, i, hw, wd_, bd_)
                a = acts[i] if keep_act else torch.ops.aten.gelu.out(h2, out=scratch.like(h2))
                da, g = _linear_backward(dy[_span(chunk, hw)], a, w2_)
                accumulate('w2', g)
                dh2 = torch.ops.aten.gelu_backward.grad_input(
                    da, h2, grad_input=scratch.like(h2) if keep_act else a)
                if wd is None:
                    fc1_backward(i, dh2)
                    continue
                dmap = dh2.view(ext.shape[0], -1, w, hidden).permute(0, 3, 1, 2)
                if _SLOW_CHANNELS_LAST_DWCONV_BACKWARD and _cpu_path(ext.device):
                    dmap, ext = dmap.contiguous(), ext.contiguous()
                dext, g, gb = torch.ops.aten.convolution_backward(
                    dmap, ext, wd_, [hidden] if bd is not None else None, [1, 1], padding, [1, 1],
                    False, [0, 0], hidden, [True, True, bd is not None])
                accumulate('wd', g)
                if bd is not None:
                    accumulate('bd', gb)
                dext = _tokens(dext)
                if padding[0]:  # whole images: no halo
                    fc1_backward(i, dext)
                    continue
                _, _, r0, r1 = chunk
                dh1 = dext[w:-w]
                if carry is not None:
                    dh1[:w] += carry
                if pending is not None:
                    pending[-w:] += dext[:w]
                    fc1_backward(i - 1, pending)
                carry = dext[-w:] if r1 < hw[0] else None
                pending = dh1 if r1 < hw[0] else fc1_backward(i, dh1)
            db2 = dy.sum(0) if has_b2 else None
        # The depth-wise conv's weight gradient comes back channels-last ([C, 1, 3, 3] with
        # strides [9, 1, 3, 1]); DDP's gradient buckets (and the optimizer) want the parameter's
        # own strides, else DDP warns and copies every step.
        wd_grad = grads['wd']
        if wd_grad is not None and wd_grad.stride() != wd.stride():
            wd_grad = wd_grad.clone(memory_format=torch.contiguous_format)
        return (dx.view(B, N, -1), None, None, None, None, grads['w1'], grads['b1'], wd_grad,
                grads['bd'], grads['w2'], db2)


class _Scratch:
    """One reusable buffer for per-chunk temporaries of a single forward or backward call."""

    def __init__(self):
        self.buf = None

    def like(self, t):
        if self.buf is None or self.buf.numel() < t.numel() or self.buf.dtype != t.dtype:
            self.buf = torch.empty(t.numel(), dtype=t.dtype, device=t.device)
        return self.buf[:t.numel()].view(t.shape)


RECOMPUTE = ('dwconv', 'gelu', 'none')


def choose_recompute(device_type: str, dtype: torch.dtype, recompute='auto') -> str:
    """What the FFN recomputes in backward on ``device_type`` in ``dtype``: ``'dwconv'`` (the
    depth-wise conv and GELU, storing only ``x`` and fc1's output), ``'gelu'`` (GELU only, the
    conv's output stored too) or ``'none'`` (the GELU's output stored as well). ``'auto'`` is
    ``'dwconv'`` everywhere: the least memory, and on this project's CPU machines no slower
    (docs/benchmark.md); the GPU choice waits for a measurement."""
    if recompute == 'auto':
        return 'dwconv'
    if recompute not in RECOMPUTE:
        raise ValueError(f"ffn_recompute must be 'auto' or one of {RECOMPUTE}, got "
                         f'{recompute!r}')
    return recompute


def dwconv_tokens(h, hw, weight, bias):
    """The FFN's 3x3 depth-wise convolution (padding 1) on tokens (B, H*W, C), as nine shifted
    products over the (B, H, W, C) grid: what the compiler fuses into one loop, with no layout
    change (inductor cannot order a convolution's channels-last strides for sizes it does not
    know)."""
    B, N, C = h.shape
    rows, cols = hw
    grid = F.pad(h.view(B, rows, cols, C), (0, 0, 1, 1, 1, 1))
    out = 0 if bias is None else bias
    for i in range(3):
        for j in range(3):
            out = out + grid[:, i:i + rows, j:j + cols] * weight[:, 0, i, j]
    return out.reshape(B, N, C)


def ffn(x, hw, fc1, fc2, dwconv=None, relu=False, lean=False, recompute='dwconv'):
    """``fc2(GELU(dwconv(ReLU(fc1(x)))))`` for tokens ``x`` (B, H*W, C) of an ``hw`` grid, storing
    for backward what ``recompute`` (:func:`choose_recompute`) leaves; ``lean``: smaller CPU
    chunks, a lower peak for a little time. Traced (FLOP counting, export) or compiled (the
    compiler fuses the plain ops itself), the plain ops."""
    if torch.jit.is_tracing() or _is_compiling():
        h = fc1(x)
        if relu:
            h = F.relu(h)
        if dwconv is not None and _is_compiling():
            h = dwconv_tokens(h, hw, dwconv.weight, dwconv.bias)
        elif dwconv is not None:
            h = h.transpose(1, 2).reshape(x.shape[0], -1, *hw)
            h = dwconv(h).flatten(2).transpose(1, 2)
        return fc2(F.gelu(h))
    return _FFN.apply(x, tuple(hw), relu, lean, recompute, fc1.weight, fc1.bias,
                      None if dwconv is None else dwconv.weight,
                      None if dwconv is None else dwconv.bias, fc2.weight, fc2.bias)
