"""PVT / PVTv2 backbones: presets, shapes, options, registries, bad input."""
import pytest
import torch
import torch.nn.functional as F

from pvt_mm import PVT, PVTv2
from pvt_mm.models.backbones.pvt import PVT_ARCHS, PVTV2_ARCHS

ALL_ARCHS = [(PVT, a) for a in PVT_ARCHS] + [(PVTv2, a) for a in PVTV2_ARCHS]


def _ids(p):
    return f'{p[0].__name__}-{p[1]}'


def random_projection(outs):
    """A loss with full-size gradients. Means or squared means of the outputs would not do:
    PVTv2 closes every stage with a LayerNorm, whose output has mean 0 and mean square about 1
    over each token at initialisation, so nearly all gradients below it would vanish."""
    gen = torch.Generator().manual_seed(0)
    return sum((o * torch.randn(o.shape, generator=gen)).sum() for o in outs)


@pytest.mark.parametrize('cls_arch', ALL_ARCHS, ids=_ids)
def test_shapes_strides_channels(cls_arch):
    cls, arch = cls_arch
    model = cls(arch=arch).eval()
    dims = cls.arch_settings[arch]['embed_dims']
    v2 = cls is PVTv2
    for h, w in [(64, 64), (97, 65), (33, 130)]:
        with torch.no_grad():
            outs = model(torch.randn(1, 3, h, w))
        assert len(outs) == 4
        # Each stride floors (v1: kernel = stride) or rounds up (v2: padded overlapping conv).
        eh, ew = h, w
        for out, dim, s in zip(outs, dims, [4, 2, 2, 2]):
            eh, ew = ((eh + s - 1) // s, (ew + s - 1) // s) if v2 else (eh // s, ew // s)
            assert out.shape == (1, dim, eh, ew)


def test_presets_are_the_papers():
    expected_depths = {
        'tiny': [2, 2, 2, 2],
        'small': [3, 4, 6, 3],
        'medium': [3, 4, 18, 3],
        'large': [3, 8, 27, 3],
        'b0': [2, 2, 2, 2],
        'b1': [2, 2, 2, 2],
        'b2': [3, 4, 6, 3],
        'b2-li': [3, 4, 6, 3],
        'b3': [3, 4, 18, 3],
        'b4': [3, 8, 27, 3],
        'b5': [3, 6, 40, 3]
    }
    for cls, arch in ALL_ARCHS:
        a = cls.arch_settings[arch]
        assert a['depths'] == expected_depths[arch]
        assert a['sr_ratios'] == [8, 4, 2, 1] and a['num_heads'] == [1, 2, 5, 8]
        assert a['embed_dims'] == ([32, 64, 160, 256] if arch == 'b0' else [64, 128, 320, 512])
        assert a['mlp_ratios'] == ([4, 4, 4, 4] if arch == 'b5' else [8, 8, 4, 4])
        assert a['linear_sra'] == (arch == 'b2-li')
        v2 = cls is PVTv2
        assert a['patch_sizes'] == ([7, 3, 3, 3] if v2 else [4, 2, 2, 2])
        assert a['strides'] == [4, 2, 2, 2]
        assert (a['use_pos_embed'], a['ffn_dwconv'], a['stage_norm']) == (not v2, v2, v2)


def test_linear_sra_modules():
    model = PVTv2(arch='b2-li')
    attn = model.stages[3].blocks[0].attn
    assert attn.pool_size == 7
    assert attn.sr.kernel_size == (1, 1) and isinstance(attn.act, torch.nn.GELU)
    assert isinstance(model.stages[0].blocks[0].mlp.relu, torch.nn.ReLU)
    # Keys/values are 7x7 in every layer, whatever the input size.
    seen = []
    for stage in model.stages:
        for block in stage.blocks:
            block.attn.kv.register_forward_hook(lambda m, i, o: seen.append(o.shape[1]))
    model.eval()(torch.randn(1, 3, 320, 256))
    assert seen == [49] * 16


@pytest.mark.parametrize('size', [(7, 7), (8, 9), (50, 83), (3, 5), (13, 100)])
def test_adaptive_avg_pool_equals_torch(size):
    """The export-friendly 7x7 pooling has adaptive_avg_pool2d's bins (also when it upsamples)."""
    from pvt_mm.models.backbones.pvt import adaptive_avg_pool
    x = torch.randn(2, 5, *size, dtype=torch.float64)
    torch.testing.assert_close(
        adaptive_avg_pool(x, 7), F.adaptive_avg_pool2d(x, 7), rtol=0, atol=1e-14)


def test_eps_as_official():
    model = PVT(arch='tiny')
    block = model.stages[0].blocks[0]
    assert block.norm1.eps == block.norm2.eps == 1e-6
    assert model.stages[0].patch_embed.norm.eps == 1e-5 and block.attn.norm.eps == 1e-5
    assert PVTv2(arch='b0').stages[2].norm.eps == 1e-6


@pytest.mark.parametrize('registry_module', ['mmdet.registry', 'mmseg.registry'])
def test_build_through_registries(registry_module):
    import importlib
    MODELS = importlib.import_module(registry_module).MODELS
    for name, cls, arch in [('PVT', PVT, 'small'), ('PVTv2', PVTv2, 'b2-li')]:
        model = MODELS.build(dict(type=name, arch=arch, out_indices=(1, 3)))
        assert type(model) is cls
        outs = model.eval()(torch.randn(1, 3, 64, 64))
        assert [o.shape[1] for o in outs] == [128, 512]
    # mmdet's own PVT keeps its name.
    if registry_module == 'mmdet.registry':
        import mmdet.models  # noqa: F401
        assert MODELS.get('PyramidVisionTransformer').__module__.startswith('mmdet')


def test_out_indices():
    model = PVTv2(arch='b0', out_indices=(0, 2)).eval()
    outs = model(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 32, 16, 16), (1, 160, 4, 4)]
    assert len(PVTv2(arch='b0', out_indices=-1).eval()(torch.randn(1, 3, 64, 64))) == 1


def test_overrides():
    model = PVT(arch='small', depths=[1, 1, 1, 1], embed_dims=[16, 32, 80, 128])
    assert [len(s.blocks) for s in model.stages] == [1, 1, 1, 1]
    assert model.embed_dims == [16, 32, 80, 128]
    spec = dict(PVTV2_ARCHS['b0'], depths=[1, 1, 1, 1])
    assert [len(s.blocks) for s in PVTv2(arch=spec).stages] == [1, 1, 1, 1]


def test_drop_path_schedule():
    model = PVT(arch='small', drop_path_rate=0.3)
    rates = [
        b.drop_path.drop_prob if hasattr(b.drop_path, 'drop_prob') else 0. for s in model.stages
        for b in s.blocks
    ]
    assert len(rates) == 16
    assert rates[0] == 0. and rates[-1] == pytest.approx(0.3)
    assert rates == sorted(rates)


def test_frozen_stages():
    model = PVTv2(arch='b0', frozen_stages=2, drop_path_rate=0.)
    model.init_weights()
    model.train()
    assert not model.stages[0].training and not model.stages[1].training
    assert model.stages[2].training
    frozen = {k: v.clone() for k, v in model.stages[:2].state_dict().items()}
    live = {k: v.clone() for k, v in model.stages[2:].state_dict().items()}
    assert all(not p.requires_grad for p in model.stages[:2].parameters())
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                            lr=1e-2,
                            weight_decay=0.1)
    random_projection(model(torch.randn(2, 3, 64, 64))).backward()
    assert all(p.grad is None for p in model.stages[:2].parameters())
    opt.step()
    for k, v in model.stages[:2].state_dict().items():
        assert torch.equal(v, frozen[k]), k
    assert any(not torch.equal(v, live[k]) for k, v in model.stages[2:].state_dict().items())


@pytest.mark.parametrize('cls,arch', [(PVT, 'tiny'), (PVTv2, 'b2-li')])
def test_with_cp_same_outputs_and_gradients(cls, arch):
    ref = cls(arch=arch, drop_path_rate=0.3)
    ref.init_weights()
    cp = cls(arch=arch, drop_path_rate=0.3, with_cp=True)
    cp.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 64, 96)
    outs = []
    for m in (ref, cp):  # the same drop-path draws; the recompute replays them
        torch.manual_seed(1)
        outs.append(m.train()(x))
    for a, b in zip(*outs):
        assert torch.allclose(a, b, atol=1e-6)
    for m, o in zip((ref, cp), outs):
        random_projection(o).backward()
    assert torch.cat([p.grad.flatten() for p in ref.parameters()]).abs().median() > 1e-2
    for (name, p), q in zip(ref.named_parameters(), cp.parameters()):
        torch.testing.assert_close(q.grad, p.grad, atol=1e-5, rtol=1e-4, msg=name)


def test_pos_embed_resized_bilinear_from_pretrain_grid():
    model = PVT(arch='tiny', pretrain_img_size=224).eval()
    stage = model.stages[0]
    assert stage.pos_embed.shape == (1, 56 * 56, 64)
    assert stage.resized_pos_embed((56, 56)) is stage.pos_embed
    resized = stage.resized_pos_embed((20, 30))
    grid = stage.pos_embed.reshape(1, 56, 56, 64).permute(0, 3, 1, 2)
    expected = torch.nn.functional.interpolate(grid, (20, 30), mode='bilinear', align_corners=False)
    assert torch.equal(resized, expected.flatten(2).transpose(1, 2))


@pytest.mark.parametrize('kwargs,match', [
    (dict(arch='huge'), "unknown arch 'huge'"),
    (dict(arch='tiny', depths=[2, 2, 2]), 'equal lengths'),
    (dict(arch='tiny', embed_dims=[64, 128, 320, 500]), 'not divisible by num_heads'),
    (dict(arch='tiny', depth=[1, 1, 1, 1]), r"unknown argument\(s\) \['depth'\]"),
    (dict(arch='tiny', out_indices=(4, )), 'out_indices'),
    (dict(arch='tiny', frozen_stages=5), 'frozen_stages'),
    (dict(arch=dict(depths=[1, 1, 1, 1])), 'arch dict lacks'),
    (dict(arch='tiny', depths=[2, 0, 2, 2]), 'positive integers'),
])
def test_bad_arguments_name_the_problem(kwargs, match):
    with pytest.raises((KeyError, ValueError, TypeError), match=match):
        PVT(**kwargs)


def test_wrong_input_channels():
    with pytest.raises(ValueError, match='3 channels, got shape'):
        PVTv2(arch='b0')(torch.randn(1, 1, 64, 64))


@pytest.mark.parametrize('hidden,present', [('mmseg', 'mmdet'), ('mmdet', 'mmseg')])
def test_registers_in_whichever_toolbox_is_installed(hidden, present):
    """With one toolbox not importable, ``import pvt_mm`` registers in the other one only."""
    import subprocess
    import sys
    code = f'''
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name == {hidden!r} or name.startswith({hidden!r} + '.'):
            raise ModuleNotFoundError('hidden for this test: ' + name)
sys.meta_path.insert(0, Hide())
import pvt_mm
from {present}.registry import MODELS
assert pvt_mm.TOOLBOXES_FOUND == [{present!r}], pvt_mm.TOOLBOXES_FOUND
assert MODELS.get('PVTv2') is pvt_mm.PVTv2
print('ok')
'''
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip().endswith('ok'), proc.stderr[-2000:]
