"""FLOPs counted with the attention matmuls reproduce the papers (within 5%)."""
import importlib.util
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

from pvt_mm import PVT, PVTv2
from pvt_mm import benchmark as bench
from pvt_mm.analysis import ImageNetClassifier, count_flops
from pvt_mm.apis import load_config
from pvt_mm.models.backbones.official import Attention
from pvt_mm.models.backbones.pvt import SRAttention
from tools_helper import CONFIGS, TOOLS, config, in_process, tool_in_process


@pytest.mark.parametrize('cls,arch,paper', [(PVT, 'tiny', 1.9), (PVT, 'medium', 6.7),
                                            (PVTv2, 'b0', 0.6), (PVTv2, 'b2', 4.0),
                                            (PVTv2, 'b2-li', 3.9), (PVTv2, 'b4', 10.1)])
def test_imagenet_gflops(cls, arch, paper):
    model = ImageNetClassifier(cls(arch=arch, out_indices=(3, ))).eval()
    with torch.no_grad():
        gflops = count_flops(model, (torch.randn(1, 3, 224, 224), )) / 1e9
    assert gflops == pytest.approx(paper, rel=0.05)


def test_attention_counted_once_as_the_official_formula():
    """Fused SDPA counts 2*N*M*C, exactly what explicit q@k^T and attn@v count."""
    dim, heads, sr, hw = 64, 2, 4, (16, 24)
    fused = SRAttention(dim, heads, sr).eval()
    explicit = Attention(dim, heads, sr_ratio=sr).eval()
    x = torch.randn(1, hw[0] * hw[1], dim)

    class WithGrid(torch.nn.Module):

        def __init__(self, attn, fused):
            super().__init__()
            self.attn, self.fused = attn, fused

        def forward(self, x):
            return self.attn(x, hw) if self.fused else self.attn(x, *hw)

    n, m = hw[0] * hw[1], (hw[0] // sr) * (hw[1] // sr)
    with torch.no_grad():
        f_fused = count_flops(WithGrid(fused, True), (x, ))
        f_explicit = count_flops(WithGrid(explicit, False), (x, ))
    assert f_fused == f_explicit
    without_attention = n * dim * dim * 2 + m * dim * dim * 2 + m * dim * sr * sr * dim
    sr_norm = 5 * m * dim  # fvcore counts 5 FLOPs per element of an affine LayerNorm
    assert f_fused - without_attention - sr_norm == 2 * n * m * dim


@pytest.mark.parametrize('name,paper', [
    ('pvt/fpn_pvt-t_8xb4-40k_ade20k-512x512.py', 33.2),
    ('pvtv2/fpn_pvtv2-b0_8xb4-40k_ade20k-512x512.py', 25.0),
    ('pvtv2/fpn_pvtv2-b2-li_8xb4-40k_ade20k-512x512.py', 41.0),
])
def test_get_flops_tool_semantic_fpn(name, paper, monkeypatch, tmp_path, capsys):
    assert in_process(monkeypatch, tmp_path, 'analysis_tools/get_flops.py', osp.join(CONFIGS,
                                                                                     name)) is None
    out = capsys.readouterr().out
    gflops = float(out.split('flops: ')[1].split()[0])
    assert 'input shape: 512x512' in out
    assert gflops == pytest.approx(paper, rel=0.05)


BENCHMARK = osp.join(TOOLS, 'analysis_tools', 'benchmark.py')


def test_benchmark_compare_measures_every_implementation(tmp_path, monkeypatch, capsys):
    """The side-by-side runs every implementation installed and prints a ratio row (values are
    timings, so only their presence and sign are checked here); a peer that is not installed
    (timm needs torchvision, which the CPU stacks lack) is named in one line, not a crash.
    ``pvt_mm[option=value,...]`` builds the backbone with those options (what the GPU check
    compares, one option changed at a time), printed with its ratio to pvt_mm as it is;
    ``--profile`` prints torch.profiler's table for pvt_mm and the fastest peer; a misspelled
    implementation is refused by the argument parser. The tool runs in this process (its peak
    memory figures come from a fresh process per implementation either way)."""
    from pvt_mm import benchmark as bench
    assert bench.pvt_mm_variant('pvt_mm[attn_query_groups=4,ffn_recompute=none,compile]') == dict(
        attn_query_groups=4, ffn_recompute='none', compile=True)
    assert bench.pvt_mm_variant('pvt_mm+cp') == dict(with_cp=True)
    model = bench.build_backbone('pvt_mm[attn_backend=explicit,attn_query_groups=3]', 'pvtv2-b0')
    assert model.stages[0].blocks[0].attn.backend == 'explicit'
    assert model.stages[0].blocks[0].attn.query_groups == 3
    out = tool_in_process(monkeypatch, capsys, tmp_path, 'analysis_tools/benchmark.py', '--compare',
                          '--archs', 'pvtv2-b0', '--shapes', '64x96', '--steps', '2', '--profile',
                          '--impls', *bench.IMPLS, 'pvt_mm[ffn_recompute=gelu]')
    for impl in ('pvt_mm', 'mmdet', 'reference', 'transformers', 'pvt_mm+cp',
                 'pvt_mm[ffn_recompute=gelu]'):
        assert re.search(rf'{re.escape(impl)} +peak extra memory', out), out
        assert re.search(rf'{re.escape(impl)} +step +\d', out), out
    row = next(line for line in out.splitlines() if line.startswith('pvtv2-b0   64x96     '))
    ratios = [float(v.rstrip('x,')) for v in row.split()[2:] if v.endswith(('x', 'x,'))]
    has_timm = importlib.util.find_spec('timm') is not None
    assert len(ratios) == (10 if has_timm else 8) and all(r > 0 for r in ratios)
    assert 'vs transformers' in out.split('per interleaved round')[1]
    if not has_timm:
        assert "pvtv2-b0 64x96 timm: No module named 'timm'" in out
    else:
        assert re.search(r'timm +step +\d', out), out
    assert re.search(r'pvt_mm\[ffn_recompute=gelu\] +\d+\.\d+x, +\d+\.\d+x mem', out), out
    assert 'profile: pvtv2-b0 64x96 pvt_mm ' in out
    assert re.search(r'profile: pvtv2-b0 64x96 (mmdet|reference|timm|transformers) ', out), out
    assert out.count('Self CPU time total') == 2
    for misspelled in ('pvt-mm', 'pvt_mm[atn_backend=explicit]'):
        code = in_process(monkeypatch, tmp_path, 'analysis_tools/benchmark.py', '--compare',
                          '--impls', misspelled)
        stderr = capsys.readouterr().err
        assert code == '2' and 'invalid check_impl value' in stderr, stderr


def test_interleaved_times_alternate_and_drop_the_warm_up():
    calls = []
    times = bench.interleaved_times({
        'a': lambda: calls.append('a'),
        'b': lambda: calls.append('b')
    },
                                    rounds=3,
                                    device='cpu')
    assert calls == ['a', 'b'] * 4  # one warm-up round, then three
    assert {k: len(v) for k, v in times.items()} == {'a': 3, 'b': 3}


def test_saved_activation_bytes_counts_each_storage_once_without_parameters():
    x = torch.randn(1000, requires_grad=True)  # a leaf, not a Parameter: an activation here
    w = torch.nn.Parameter(torch.randn(1000))

    def fn():
        y = x.exp()  # saves its result: 4000 bytes
        (y * w).sum().backward()  # saves y (already counted) and w (a parameter)

    assert bench.saved_activation_bytes(fn) == 4000


def test_fresh_process_measures_memory_and_raises_its_errors():
    """A backbone step's peak extra memory, measured in a new process, is that of its
    activations (at least what autograd saves); an implementation that cannot build the arch
    raises its own error here."""
    peak = bench.in_fresh_process(bench.backbone_memory, 'pvt_mm', 'pvtv2-b0', (128, 128), 'cpu',
                                  False)
    model = bench.build_backbone('pvt_mm', 'pvtv2-b0').train()
    saved = bench.saved_activation_bytes(
        bench.backbone_step(model, torch.randn(1, 3, 128, 128), 'cpu', False))
    assert peak >= saved > 0
    with pytest.raises(ValueError, match='mmdet has no linear-SRA PVT'):
        bench.in_fresh_process(bench.backbone_memory, 'mmdet', 'pvtv2-b2-li', (64, 64), 'cpu',
                               False)


@pytest.mark.parametrize('impl', ['pvt_mm', 'mmdet', 'reference'])
def test_benchmark_step_backpropagates_real_gradients(impl):
    """PVTv2's stage-closing LayerNorms make the mean of the outputs constant at initialisation,
    so it would only backpropagate rounding noise; the benchmark's step (fixed random output
    gradients) reaches each implementation's first patch embedding at full size, the same
    gradient every step, and leaves no gradients behind."""
    torch.manual_seed(0)
    model = bench.build_backbone(impl, 'pvtv2-b0').train()
    first = next(p for p in model.parameters() if p.dim() == 4 and p.shape[1] == 3)
    seen = []
    first.register_hook(lambda g: seen.append(g.norm().item()))
    x = torch.randn(1, 3, 64, 64)
    sum(o.mean() for o in model(x)).backward()
    step = bench.backbone_step(model, x, 'cpu', False)
    step()
    step()
    assert seen[0] < 1e-6 * seen[1]
    assert seen[1] > 1e-2 and seen[2] == pytest.approx(seen[1], rel=1e-5)
    assert first.grad is None


def test_benchmark_whole_model():
    out = subprocess.run([
        sys.executable, BENCHMARK,
        osp.join(CONFIGS, 'quickstart', 'fpn_pvtv2-b0_toy-192x192.py'), '--shape', '128', '160',
        '--steps', '1', '--batch', '2'
    ],
                         capture_output=True,
                         text=True,
                         check=True).stdout
    assert 'batch 2' in out.splitlines()[0]
    assert float(out.split('inference: ')[1].split()[0]) > 0
    assert float(out.split('training step: ')[1].split()[0]) > 0
    assert float(out.split('peak memory ')[1].split()[0]) > 100  # MiB: the model and the step
    assert float(out.split('saved activations ')[1].split()[0]) > 0


def test_benchmark_compare_whole_models(tmp_path, monkeypatch, capsys):
    """--compare CONFIG: the config against itself on mmdet's PVTv2, interleaved; the speed
    ratios are machine-dependent, the saved-activation bytes are not: pvt_mm's fused attention
    and FFN save fewer. The tool runs in this process (nothing it prints is per process)."""
    out = tool_in_process(monkeypatch, capsys, tmp_path, 'analysis_tools/benchmark.py',
                          osp.join(CONFIGS, 'quickstart', 'retinanet_pvtv2-b0_fpn_toy.py'),
                          '--compare', '--shape', '128', '160', '--steps', '1')
    assert "on mmdet's PyramidVisionTransformerV2" in out.splitlines()[0]
    for impl in ('pvt_mm', 'mmdet'):
        assert re.search(rf'{impl} +train_step +\d+\.\d+ s +test_step +\d+\.\d+ s', out)
    train, test, saved = map(
        float,
        re.search(
            r'training (\d+\.\d+)x faster, inference (\d+\.\d+)x faster, (\d+\.\d+)x the saved',
            out).groups())
    assert train > 0 and test > 0 and 0 < saved < 1


@pytest.mark.parametrize('name,masks', [('retinanet_pvtv2-b0_fpn_1x_coco.py', False),
                                        ('mask-rcnn_pvtv2-b0_fpn_1x_coco.py', True),
                                        ('mask2former_pvtv2-b0_8xb2-lsj-50e_coco.py', True)])
def test_toy_batch_has_masks_where_the_pipeline_loads_them(name, masks):
    """The benchmark's batch carries instance masks for every model trained on them (Mask2Former's
    loss reads them as Mask R-CNN's does), none for box-only detectors."""
    cfg = load_config(config(f'pvtv2/{name}'))
    data = bench.toy_batch(cfg, (64, 96), batch=2)
    assert len(data['inputs']) == 2
    instances = data['data_samples'][0].gt_instances
    assert ('masks' in instances) == masks
    if masks:
        assert instances.masks.masks.shape == (3, 64, 96)
        assert instances.masks.masks.sum() > 0


def test_an_unknown_toolbox_is_a_named_error():
    """A config of a toolbox pvt_mm does not support (here mmpretrain's scope) is refused by
    name where a toolbox's path is chosen, rather than taking mmseg's."""
    from mmengine.config import Config

    from pvt_mm import apis
    cfg = Config(dict(default_scope='mmpretrain', train_pipeline=[]))
    for call in (lambda: apis.toolbox(cfg), lambda: bench.toy_batch(cfg, (64, 64))):
        with pytest.raises(
                ValueError,
                match=r"default_scope must be one of \('mmdet', 'mmseg'\), "
                r"got 'mmpretrain'"):
            call()
