"""The CUDA path our users train on: the fused FFN's GEMM path, the backbones against the
official math in float32 and under fp16 / bf16 autocast, checkpoints loaded onto the GPU, and an
``AmpOptimWrapper`` training step. Skipped where torch sees no CUDA device (CI's machines have
none); run on a GPU machine with ``python -m pytest tests/test_cuda.py`` (docs/benchmark.md)."""
import pytest
import torch
from mmengine.optim import AmpOptimWrapper
from mmengine.runner import load_checkpoint
from test_ops import plain_ffn, rel, training_step

from pvt_mm import PVT, PVTv2
from pvt_mm.models import FAMILIES, family_of
from pvt_mm.models.backbones import ops
from pvt_mm.models.backbones.pvt import FFN

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device')
CUDA = torch.device('cuda')


@pytest.fixture(autouse=True)
def _no_tf32():
    """Float32 is compared with float32: no TF32 (cuDNN's convolutions take it by default)."""
    flags = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = flags


def test_cuda_takes_the_gemm_path():
    """CUDA runs the FFN as whole-batch GEMMs (no CPU row chunks, no 1x1 convolutions)."""
    assert not ops._cpu_path(CUDA)
    assert ops._chunks(2, (200, 334), 512, CUDA, 4) == [(0, 2, 0, 200)]


@pytest.mark.parametrize('dtype,tol', [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize('dwconv,relu', [(False, False), (True, False), (True, True)])
def test_ffn_is_the_official_math(dtype, tol, dwconv, relu):
    """A stage-1 FFN of PVTv2-b2 at 800x1333 / 4 (64 -> 512 -> 64 channels, batch 2): outputs
    and every gradient equal the plain modules' on the GPU (relative error)."""
    m = FFN(64, 512, dwconv=dwconv, linear=relu).to(CUDA, dtype)
    hw = (200, 334)
    x = torch.randn(2, hw[0] * hw[1], 64, device=CUDA, dtype=dtype, requires_grad=True)
    y = m(x, hw)
    dy = torch.randn_like(y)
    grads = torch.autograd.grad(y, [x, *m.parameters()], dy)
    y_ref = plain_ffn(m, x, hw)
    grads_ref = torch.autograd.grad(y_ref, [x, *m.parameters()], dy)
    assert rel(y, y_ref) < tol
    for g, g_ref in zip(grads, grads_ref):
        assert rel(g, g_ref) < tol


@pytest.mark.parametrize('cls,arch', [(PVT, 'tiny'), (PVTv2, 'b0'), (PVTv2, 'b2-li')])
def test_training_step_is_the_official_math(cls, arch):
    """Ours vs the official formulation on the GPU: float64 to rounding; float32 outputs and the
    whole gradient within 1e-5 (relative)."""
    outs, outs_ref, grads, grads_ref = training_step(cls, arch, torch.float64, (96, 64), 'cuda')
    assert outs[0].is_cuda
    assert max(rel(a, b) for a, b in zip(outs, outs_ref)) < 1e-12
    assert max(rel(grads[k], grads_ref[k]) for k in grads) < 1e-9
    outs, outs_ref, grads, grads_ref = training_step(cls, arch, torch.float32, (224, 160), 'cuda')
    assert max(rel(a, b) for a, b in zip(outs, outs_ref)) < 1e-5
    flat = torch.cat([grads[k].flatten() for k in grads])
    flat_ref = torch.cat([grads_ref[k].flatten() for k in grads])
    assert rel(flat, flat_ref) < 1e-5


@pytest.mark.parametrize('dtype,tol', [(torch.float16, 1e-2), (torch.bfloat16, 5e-2)])
@pytest.mark.parametrize('cls,arch', [(PVT, 'tiny'), (PVTv2, 'b1')])
def test_autocast(cls, arch, dtype, tol):
    """Under fp16 / bf16 autocast our outputs are the official model's under the same autocast
    (both within ``tol`` of float32) and the gradients are float32, finite and close to
    float32's."""
    torch.manual_seed(0)
    official = family_of(cls).build_reference(arch).to(CUDA).train()
    model = cls(arch=arch, drop_path_rate=0.).to(CUDA).train()
    model.load_state_dict(official.state_dict())
    x = torch.randn(2, 3, 256, 192, device=CUDA)
    outs32 = model(x)
    weights = [torch.randn_like(o) for o in outs32]
    sum((o * w).sum() for o, w in zip(outs32, weights)).backward()
    grads32 = torch.cat([p.grad.flatten() for p in model.parameters()])
    model.zero_grad()
    with torch.autocast('cuda', dtype=dtype):
        outs, outs_ref = model(x), official.forward_pyramid(x)
    assert [o.dtype for o in outs] == [o.dtype for o in outs_ref]
    for o, o_ref, o32 in zip(outs, outs_ref, outs32):
        assert rel(o.float(), o32) < tol and rel(o_ref.float(), o32) < tol
        assert rel(o.float(), o_ref.float()) < tol
    sum((o.float() * w).sum() for o, w in zip(outs, weights)).backward()
    assert all(p.grad.dtype == torch.float32 for p in model.parameters())
    grads = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert torch.isfinite(grads).all()
    assert rel(grads, grads32) < 5 * tol


def test_checkpoint_onto_the_gpu(tmp_path):
    """An official-layout checkpoint loads onto a model on the GPU (mmengine's loader with
    pvt_mm's reader, map_location cuda) and through ``init_cfg``; outputs equal the official
    model's."""
    torch.manual_seed(0)
    official = FAMILIES['pvtv2'].build_reference('b0').to(CUDA).eval()
    path = tmp_path / 'pvt_v2_b0.pth'
    torch.save({k: v.cpu() for k, v in official.state_dict().items()}, path)
    x = torch.randn(1, 3, 128, 96, device=CUDA)
    with torch.no_grad():
        expected = official.forward_pyramid(x)
    model = PVTv2(arch='b0').to(CUDA).eval()
    load_checkpoint(model, str(path), map_location='cuda', strict=True)
    assert all(p.is_cuda for p in model.parameters())
    by_init_cfg = PVTv2(arch='b0', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    by_init_cfg.init_weights()
    by_init_cfg.to(CUDA).eval()
    with torch.no_grad():
        for m in (model, by_init_cfg):
            assert max(rel(a, b) for a, b in zip(m(x), expected)) < 1e-5


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_amp_optim_wrapper_training(dtype):
    """mmengine's ``AmpOptimWrapper`` (what ``--amp`` selects) trains the backbone on the GPU:
    finite losses that fall on a fixed batch, float32 parameters updated."""
    torch.manual_seed(0)
    model = PVTv2(arch='b0', with_cp=True).to(CUDA).train()
    wrapper = AmpOptimWrapper(optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3), dtype=dtype)
    x = torch.randn(2, 3, 128, 128, device=CUDA)
    targets = [
        torch.randn(2, c, 128 // s, 128 // s, device=CUDA)
        for c, s in zip(model.arch['embed_dims'], (4, 8, 16, 32))
    ]
    before = [p.detach().clone() for p in model.parameters()]
    losses = []
    for _ in range(5):
        with wrapper.optim_context(model):
            loss = sum(((o.float() - t)**2).mean() for o, t in zip(model(x), targets))
        wrapper.update_params(loss)
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < losses[0]
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(not torch.equal(p, b) for p, b in zip(model.parameters(), before))


def test_with_cp_same_outputs_and_gradients():
    """``with_cp`` on the GPU recomputes the same outputs and gradients (float32)."""
    torch.manual_seed(0)
    plain = PVTv2(arch='b1', drop_path_rate=0.).to(CUDA).train()
    cp = PVTv2(arch='b1', drop_path_rate=0., with_cp=True).to(CUDA).train()
    cp.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 160, 224, device=CUDA)
    results = []
    for m in (plain, cp):
        outs = m(x)
        sum((o * torch.linspace(-1, 1, o.numel(), device=CUDA).view_as(o)).sum()
            for o in outs).backward()
        results.append((outs, torch.cat([p.grad.flatten() for p in m.parameters()])))
    (outs, grads), (outs_cp, grads_cp) = results
    assert max(rel(a, b) for a, b in zip(outs_cp, outs)) < 1e-6
    assert rel(grads_cp, grads) < 1e-5
