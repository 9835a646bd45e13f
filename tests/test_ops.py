"""The fused, memory-lean ops: same math as the official model, less stored for backward."""
import pytest
import torch
import torch.nn.functional as F

from pvt_mm import PVT, PVTv2
from pvt_mm.models import family_of
from pvt_mm.models.backbones import attention, ops
from pvt_mm.models.backbones.pvt import FFN


def plain_ffn(m, x, hw):
    h = F.linear(x, m.fc1.weight, m.fc1.bias)
    if m.relu is not None:
        h = F.relu(h)
    if m.dwconv is not None:
        h = m.dwconv(h.transpose(1, 2).reshape(x.shape[0], -1, *hw)).flatten(2).transpose(1, 2)
    return F.linear(F.gelu(h), m.fc2.weight, m.fc2.bias)


# Chunks: the whole batch in GEMMs (the CUDA path, run on CPU), whole images, several rows
# (halo rows cross chunk borders), one row.
# The depth-wise conv's input gradient from channels-last maps, or from contiguous ones (what
# torch 2.1 takes, where the channels-last kernel is slow).
@pytest.mark.parametrize('chunk_bytes', [None, 4 << 20, 2000, 1])
@pytest.mark.parametrize('dwconv,relu,contiguous_dw_backward', [(False, False, False),
                                                                (True, False, False),
                                                                (True, True, False),
                                                                (False, True, False),
                                                                (True, False, True),
                                                                (True, True, True)])
@pytest.mark.parametrize('recompute', ops.RECOMPUTE)
def test_ffn_equals_plain_ops(monkeypatch, chunk_bytes, dwconv, relu, contiguous_dw_backward,
                              recompute):
    monkeypatch.setattr(ops, '_SLOW_CHANNELS_LAST_DWCONV_BACKWARD', contiguous_dw_backward)
    if chunk_bytes is None:
        monkeypatch.setattr(ops, '_cpu_path', lambda device: False)
    else:
        monkeypatch.setattr(ops, '_CPU_CHUNK_BYTES', chunk_bytes)
    torch.manual_seed(0)
    for batch, hw in [(2, (7, 5)), (1, (13, 4)), (3, (1, 6))]:
        m = FFN(6, 16, dwconv=dwconv, linear=relu, recompute=recompute).double()
        x = torch.randn(batch, hw[0] * hw[1], 6, dtype=torch.float64, requires_grad=True)
        y = m(x, hw)
        dy = torch.randn_like(y)
        grads = torch.autograd.grad(y, [x, *m.parameters()], dy)
        y_ref = plain_ffn(m, x, hw)
        grads_ref = torch.autograd.grad(y_ref, [x, *m.parameters()], dy)
        torch.testing.assert_close(y, y_ref, rtol=0, atol=1e-12)
        for g, g_ref in zip(grads, grads_ref):
            torch.testing.assert_close(g, g_ref, rtol=0, atol=1e-12)
        if chunk_bytes == 2000:
            assert torch.autograd.gradcheck(
                lambda x: ops.ffn(x, hw, m.fc1, m.fc2, m.dwconv, relu, recompute=recompute), (x, ),
                fast_mode=True)


def test_linear_is_f_linear():
    x, w, b = torch.randn(2, 9, 5), torch.randn(7, 5), torch.randn(7)
    torch.testing.assert_close(ops.linear(x, w, b), F.linear(x, w, b))
    layer = ops.Linear(5, 7)
    seen = []
    layer.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    layer(x)
    assert seen == [(2, 9, 7)]


def training_step(cls, arch, dtype, size, device='cpu', depths=None, **options):
    """Outputs and parameter gradients (at our names) of ours (built with ``options``) and of
    the official model (``depths``: fewer blocks than the arch's)."""
    torch.manual_seed(0)
    depths = depths or cls.arch_settings[arch]['depths']
    official = family_of(cls).build_reference(arch, depths=depths)
    with torch.no_grad():
        for p in official.parameters():
            p.normal_(0, 0.05)
    model = cls(arch=arch, depths=depths, drop_path_rate=0., **options)
    model.load_state_dict(official.state_dict())
    model.to(device, dtype).train()
    official.to(device, dtype).train()
    x = torch.randn(2, 3, *size, dtype=dtype).to(device)
    outs, outs_ref = model(x), official.forward_pyramid(x)
    weights = [torch.randn_like(o) for o in outs]
    for o in (outs, outs_ref):
        sum((a * w).sum() for a, w in zip(o, weights)).backward()
    # The official gradients, loaded like an official checkpoint, land at our parameter names.
    grads = cls(arch=arch, depths=depths, drop_path_rate=0.).to(device, dtype)
    grads.load_state_dict({
        k: p.grad if p.grad is not None else torch.zeros_like(p)
        for k, p in official.named_parameters()
    })
    expected = dict(grads.named_parameters())
    return (outs, outs_ref, {
        k: p.grad
        for k, p in model.named_parameters()
    }, {
        k: expected[k]
        for k, _ in model.named_parameters()
    })


def rel(a, b):
    return ((a - b).norm() / b.norm()).item()


@pytest.mark.parametrize('cpu_path', [True, False])
@pytest.mark.parametrize('cls,arch', [(PVT, 'tiny'), (PVTv2, 'b0'), (PVTv2, 'b2-li')])
def test_training_step_is_the_official_math(monkeypatch, cls, arch, cpu_path):
    """Fused attention and FFN vs the official formulation in float64: outputs and every
    parameter gradient agree to rounding, on the CPU path (chunked, with halo rows) and on the
    one CUDA takes (whole batch, GEMMs; run here on CPU)."""
    monkeypatch.setattr(ops, '_CPU_CHUNK_BYTES', 16 << 10)
    monkeypatch.setattr(ops, '_cpu_path', lambda device: cpu_path)
    outs, outs_ref, grads, grads_ref = training_step(cls, arch, torch.float64, (96, 64))
    assert max(rel(a, b) for a, b in zip(outs, outs_ref)) < 1e-12
    assert max(rel(grads[k], grads_ref[k]) for k in grads) < 1e-9


@pytest.mark.parametrize('cls,arch', [(PVT, 'tiny'), (PVTv2, 'b0')])
def test_training_step_fp32_error(monkeypatch, cls, arch):
    """In float32: outputs within 1e-5, and the whole gradient within 1e-5 (relative)."""
    monkeypatch.setattr(ops, '_CPU_CHUNK_BYTES', 64 << 10)
    outs, outs_ref, grads, grads_ref = training_step(cls, arch, torch.float32, (160, 96))
    assert max(rel(a, b) for a, b in zip(outs, outs_ref)) < 1e-5
    flat = torch.cat([grads[k].flatten() for k in grads])
    flat_ref = torch.cat([grads_ref[k].flatten() for k in grads])
    assert rel(flat, flat_ref) < 1e-5


def saved_bytes(module, *args):
    """Bytes of activations a forward stores for backward (parameters excluded)."""
    params = {p.data_ptr() for p in module.parameters()}
    seen = {}

    def pack(t):
        if t.data_ptr() not in params:
            seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(*args)
    return sum(seen.values())


@pytest.mark.parametrize('cls,arch', [(PVT, 'small'), (PVTv2, 'b2')])
def test_block_stores_input_and_one_hidden_tensor(cls, arch):
    """A stage-1 FFN keeps x and fc1's output (C + 8C per token); the official one keeps
    x, fc1 out, [dwconv out,] GELU out. ``ffn_recompute='gelu'`` keeps the conv's output too
    (v2), ``'none'`` the GELU's as well."""
    official = family_of(cls).build_reference(arch)
    hw, c = (32, 40), 64
    x = torch.randn(1, hw[0] * hw[1], c, requires_grad=True)
    token_bytes = x[0, 0].numel() * 4 * hw[0] * hw[1]
    conv = 8 if cls.arch_settings[arch]['ffn_dwconv'] else 0
    for recompute, hidden in [('auto', 8), ('dwconv', 8), ('gelu', 8 + conv), ('none', 16 + conv)]:
        model = cls(arch=arch, drop_path_rate=0., ffn_recompute=recompute)
        ours = saved_bytes(model.stages[0].blocks[0].mlp, x, hw)
        assert ours == (1 + hidden) * token_bytes, recompute
    theirs = saved_bytes(official.block1[0].mlp, x, *hw)
    assert theirs == (2 * 8 + conv) * token_bytes + token_bytes


@pytest.mark.parametrize('cpu_path', [True, False])
def test_ffn_under_autocast(monkeypatch, cpu_path):
    """bf16 autocast on CPU: the fused FFN computes in bf16 like the plain modules would, and
    returns float32 gradients for float32 parameters (also on the CUDA path's GEMMs)."""
    monkeypatch.setattr(ops, '_cpu_path', lambda device: cpu_path)
    torch.manual_seed(0)
    m = FFN(32, 128, dwconv=True)
    x = torch.randn(2, 48, 32, requires_grad=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = m(x, (6, 8))
        y_ref = plain_ffn(m, x, (6, 8))
    assert y.dtype == y_ref.dtype == torch.bfloat16
    assert rel(y.float(), y_ref.float()) < 2e-2
    y.float().sum().backward()
    assert all(p.grad.dtype == torch.float32 for p in m.parameters())
    grads = [p.grad.clone() for p in m.parameters()]
    m.zero_grad()
    y_ref.float().sum().backward()
    for g, p in zip(grads, m.parameters()):
        assert rel(g, p.grad) < 3e-2


def test_cpu_chunks_stay_under_their_limits():
    """Stage 1 of a 512x512 PVTv2-b2 (128x128 tokens, 512 hidden): 8 MiB chunks, 4 MiB lean."""
    cpu = torch.device('cpu')
    for lean, limit in [(False, ops._CPU_CHUNK_BYTES), (True, ops._CPU_LEAN_CHUNK_BYTES)]:
        chunks = ops._chunks(2, (128, 128), 512, cpu, 4, lean)
        sizes = [(r1 - r0) * 128 * 512 * 4 for _, _, r0, r1 in chunks]
        assert max(sizes) <= limit and sum(sizes) == 2 * 128 * 128 * 512 * 4
        assert len(chunks) == 2 * (32 << 20) // limit
    assert ops._chunks(2, (128, 128), 512, torch.device('meta'), 4) == [(0, 2, 0, 128)]


@pytest.mark.parametrize('with_cp', [False, True])
def test_with_cp_takes_lean_chunks(monkeypatch, with_cp):
    """Under with_cp every FFN (forward and its recomputation) runs in the lean chunks."""
    seen = []
    chunks = ops._chunks
    monkeypatch.setattr(ops, '_chunks', lambda *a: seen.append(a[-1]) or chunks(*a))
    model = PVTv2(arch='b0', with_cp=with_cp).train()
    sum(o.mean() for o in model(torch.randn(1, 3, 64, 64))).backward()
    assert seen and set(seen) == {with_cp}
    assert len(seen) == sum(model.arch['depths']) * (2 if with_cp else 1)


SPEED_OPTIONS = [
    dict(attn_backend=b, attn_query_groups=g, ffn_recompute=r)
    for b, g, r in [('sdpa', 1,
                     'dwconv'), ('explicit', 1,
                                 'dwconv'), ('math', 3,
                                             'gelu'), ('explicit', 4,
                                                       'none'), ('sdpa', 5,
                                                                 'none'), ('sdpa', 2, 'gelu')]
]


@pytest.mark.parametrize(
    'options', SPEED_OPTIONS, ids=lambda o: '-'.join(str(v) for v in o.values()))
@pytest.mark.parametrize('cls,arch', [(PVT, 'tiny'), (PVTv2, 'b0'), (PVTv2, 'b2-li')])
def test_every_speed_option_is_the_official_math(monkeypatch, cls, arch, options):
    """The CPU's attention backends (SDPA, its math kernel, the explicit formulation), query
    splits and each FFN recompute mode, in float64: outputs and every parameter gradient equal
    the official formulation's. 72x56 gives query counts (18 * 14 = 252 in stage 1, 63 in stage
    2, ...) that 4 and 5 do not divide: padded groups. Two blocks in the first stage, one in the
    others: every kind of block, at a fraction of the full depth's time."""
    monkeypatch.setattr(ops, '_CPU_CHUNK_BYTES', 16 << 10)
    outs, outs_ref, grads, grads_ref = training_step(
        cls, arch, torch.float64, (72, 56), depths=[2, 1, 1, 1], **options)
    assert max(rel(a, b) for a, b in zip(outs, outs_ref)) < 1e-12
    assert max(rel(grads[k], grads_ref[k]) for k in grads) < 1e-9


@pytest.mark.parametrize('device,dtype', [('cpu', torch.float32), ('cpu', torch.float64),
                                          ('cpu', torch.bfloat16), ('cuda', torch.float32),
                                          ('cuda', torch.float16), ('cuda', torch.bfloat16)])
@pytest.mark.parametrize('queries,keys', [(66_600, 1_040), (4_200, 1_040), (6, 6)])
def test_attention_choice_per_device_dtype_and_size(device, dtype, queries, keys):
    """What each stage gets: ``'auto'`` is SDPA with one query group on every device, dtype and
    size (the default measured on the CPU; tools/gpu_check.sh measures the GPU's); a forced split
    is kept, but never more groups than queries; a forced backend the device and dtype can run is
    kept."""
    assert attention.choose(device, dtype, queries, keys) == ('sdpa', 1)
    assert attention.choose(
        device, dtype, queries, keys, query_groups=16) == ('sdpa', min(16, queries))
    for backend in ('sdpa', 'math', 'explicit'):
        assert attention.choose(device, dtype, queries, keys, backend=backend) == (backend, 1)


NEW_KERNELS = attention.CHOOSES_SDPA_KERNEL


@pytest.mark.parametrize('backend,device,dtype,why', [
    ('efficient', 'cpu', torch.float32,
     'runs on CUDA only' if NEW_KERNELS else 'needs torch >= 2.3'),
    ('cudnn', 'cpu', torch.float16, 'runs on CUDA only' if NEW_KERNELS else 'needs torch >= 2.3'),
    ('flash', 'cuda', torch.float32,
     'takes float16 and bfloat16 only' if NEW_KERNELS else 'needs torch >= 2.3'),
    ('efficient', 'cuda', torch.float64, 'takes no float64' if NEW_KERNELS else 'needs torch'),
    ('fast', 'cpu', torch.float32, "must be 'auto' or one of"),
])
def test_impossible_forced_attention_is_a_named_error(backend, device, dtype, why):
    with pytest.raises(ValueError, match=why):
        attention.choose(device, dtype, 100, 10, backend=backend)


def test_each_stage_gets_its_choice_and_a_bad_option_is_refused_at_build():
    """In the model, every stage's attention computes as chosen for its own size: 16 groups
    where a stage has that many queries, as many groups as queries where it has fewer (stage 4
    of a 64x96 input: 2x3 queries). A misspelled option is refused when the model is built."""
    seen = []
    original = attention.attention

    def spy(q, k, v, backend='sdpa', query_groups=1, dropout_p=0.):
        seen.append((q.shape[2], backend, query_groups))
        return original(q, k, v, backend, query_groups, dropout_p)

    model = PVTv2(arch='b0', depths=[1, 1, 1, 1], attn_backend='explicit', attn_query_groups=16)
    try:
        attention.attention = spy
        model(torch.randn(1, 3, 64, 96))
    finally:
        attention.attention = original
    assert seen == [(384, 'explicit', 16), (96, 'explicit', 16), (24, 'explicit', 16),
                    (6, 'explicit', 6)]
    with pytest.raises(ValueError, match="attn_backend must be 'auto' or one of"):
        PVTv2(arch='b0', attn_backend='flashy')
    with pytest.raises(ValueError, match="attn_query_groups must be 'auto' or a positive int"):
        PVT(arch='tiny', attn_query_groups=0)
