"""``torch.compile`` of the backbones: one graph (no breaks, ``fullgraph=True``), one compile for
every padded input size (``dynamic=True``), the compiled outputs and gradients equal eager's, and
a quickstart config trains with mmengine's ``compile``; where compile cannot work, the tools stop
with one line."""
import re

import pytest
import torch
from mmengine.utils import digit_version

from pvt_mm import PVT, PVTv2
from pvt_mm.cli import COMPILE_MIN_TORCH
from tools_helper import SMALL_TOY, config, in_process, tool_in_process

VARIANTS = [(PVT, 'tiny'), (PVTv2, 'b0'), (PVTv2, 'b2-li')]
# Padded input sizes of a detector (multiples of 32).
SIZES = [(64, 96), (96, 64), (128, 160), (160, 128), (96, 96)]
OLD_TORCH = digit_version(torch.__version__) < digit_version(COMPILE_MIN_TORCH)
QUICKSTART = config('quickstart/retinanet_pvtv2-b0_fpn_toy.py')


def _small(cls, arch, **kwargs):
    torch.manual_seed(0)
    return cls(arch=arch, depths=[1, 1, 1, 1], drop_path_rate=0., **kwargs).train()


@pytest.mark.parametrize('cls,arch', VARIANTS, ids=[f'{c.__name__}-{a}' for c, a in VARIANTS])
def test_backbone_is_one_graph(cls, arch):
    """TorchDynamo captures the whole training forward in one graph: no breaks."""
    torch._dynamo.reset()
    explained = torch._dynamo.explain(_small(cls, arch))(torch.randn(2, 3, 64, 96))
    assert explained.graph_break_count == 0 and explained.graph_count == 1, [
        b.reason for b in explained.break_reasons
    ]


def test_one_compile_serves_every_padded_size():
    """Compiled with ``dynamic=True``, five padded sizes run on one graph (at most one
    recompile allowed; none happens), forward and backward."""
    torch._dynamo.reset()
    graphs = []

    def count(gm, example_inputs):  # a backend that runs the captured graph as it is
        graphs.append(gm)
        return gm.forward

    model = _small(PVTv2, 'b0')
    compiled = torch.compile(model, fullgraph=True, dynamic=True, backend=count)
    for size in SIZES:
        sum(o.sum() for o in compiled(torch.randn(2, 3, *size))).backward()
    assert 1 <= len(graphs) <= 2


@pytest.mark.skipif(
    OLD_TORCH,
    reason=f'torch < {COMPILE_MIN_TORCH}: inductor fails on the '
    'CPU attention (test_old_torch_compile_is_one_line)')
def test_compiled_outputs_and_gradients_equal_eager():
    """inductor's code for PVTv2 (the compiled formulations: plain FFN, the depth-wise conv as
    shifted products, NCHW maps; PVT v1 shares its attention) gives eager's outputs and every
    parameter gradient. In float64, so that a difference is a bug, not rounding: in float32 the
    two sum in different orders, and the largest gradients (~100) differ in the 5th digit."""
    torch._dynamo.reset()
    model = _small(PVTv2, 'b0').double()
    x = torch.randn(2, 3, 64, 96, dtype=torch.float64)
    outs = torch.compile(model, fullgraph=True)(x)
    weights = [torch.randn_like(o) for o in outs]
    sum((o * w).sum() for o, w in zip(outs, weights)).backward()
    grads = {k: p.grad.clone() for k, p in model.named_parameters()}
    model.zero_grad()
    outs_eager = model(x)
    sum((o * w).sum() for o, w in zip(outs_eager, weights)).backward()
    for o, e in zip(outs, outs_eager):
        torch.testing.assert_close(o, e, rtol=1e-10, atol=1e-10)
    for k, p in model.named_parameters():
        torch.testing.assert_close(grads[k], p.grad, rtol=1e-10, atol=1e-10, msg=k)


@pytest.mark.skipif(
    OLD_TORCH,
    reason=f'torch < {COMPILE_MIN_TORCH}: refused '
    '(test_old_torch_compile_is_one_line)')
def test_quickstart_trains_with_mmengine_compile(tmp_path, monkeypatch, capsys):
    """mmengine's ``compile`` (``--cfg-options compile.backend=...``): mmengine compiles the
    detector's whole train_step and the quickstart config trains one iteration and saves its
    checkpoint. With backend ``aot_eager``: the same TorchDynamo capture and AOTAutograd backward
    as ``compile=True``, without inductor's code generation, which for mmdet's train_step takes
    6 min on this project's 2-core machine with an empty cache (docs/benchmark.md, "torch.compile
    on the CPU"); inductor's code for the backbone is checked against eager above. train.py
    runs in this process (TorchDynamo's caches are reset before and after)."""
    work = tmp_path / 'work'
    torch._dynamo.reset()
    try:
        out = tool_in_process(monkeypatch, capsys, tmp_path, 'train.py', QUICKSTART, '--work-dir',
                              work, '--cfg-options', 'compile.backend=aot_eager', *SMALL_TOY,
                              'toy_data.num_train=2', 'train_cfg.max_epochs=1',
                              'train_cfg.val_begin=100', 'train_dataloader.batch_size=2',
                              'train_dataloader.num_workers=0',
                              'train_dataloader.persistent_workers=False',
                              'default_hooks.logger.interval=1')
    finally:
        torch._dynamo.reset()
    assert 'Model has been "compiled"' in out and (work / 'epoch_1.pth').is_file()
    loss = float(re.search(r'Epoch\(train\) +\[1\]\[1/1\].* loss: (\d+\.\d+)', out).group(1))
    assert 0 < loss < 10


def test_compile_that_cannot_work_is_one_line(tmp_path, monkeypatch):
    """No C++ compiler for inductor's CPU kernels: train.py stops before building anything, in
    one line that says what to install."""
    import shutil
    monkeypatch.setattr(shutil, 'which', lambda name: None)
    monkeypatch.delenv('CXX', raising=False)
    msg = in_process(monkeypatch, tmp_path, 'train.py', QUICKSTART, '--work-dir', tmp_path / 'work',
                     '--cfg-options', 'compile=True', *SMALL_TOY)
    if OLD_TORCH:
        assert msg.startswith(f'error: compile: torch {torch.__version__} cannot compile')
    else:
        assert msg.startswith('error: compile: inductor builds its CPU kernels with a C++ compiler')
    assert '\n' not in msg
    assert not (tmp_path / 'work').exists() or not list((tmp_path / 'work').rglob('*.pth'))


@pytest.mark.skipif(not OLD_TORCH, reason=f'torch >= {COMPILE_MIN_TORCH} compiles')
def test_old_torch_compile_is_one_line(tmp_path, monkeypatch):
    """On a torch that cannot compile these models, train.py stops before building anything, in
    one line that says which torch can."""
    msg = in_process(monkeypatch, tmp_path, 'train.py', QUICKSTART, '--work-dir', tmp_path / 'work',
                     '--cfg-options', 'compile.backend=aot_eager', *SMALL_TOY)
    assert msg.startswith(f'error: compile: torch {torch.__version__} cannot compile these models')
    assert 'torch >= 2.2' in msg and '\n' not in msg
    assert not (tmp_path / 'work').exists() or not list((tmp_path / 'work').rglob('*.pth'))
