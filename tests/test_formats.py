"""Every published PVT checkpoint layout loads into pvt_mm and gives the same outputs:
mmdet 3.x's own PVT detectors, the official detection/segmentation layout, timm's layout."""
import copy
import os.path as osp
import pickle
import re
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from pvt_mm import PVT, PVTv2
from pvt_mm.apis import load_config
from pvt_mm.models import FAMILIES, family_of
from tools_helper import CONFIGS, SMALL_TOY, TOOLS, build_model, config, hub_cache, in_process

CONVERTER = osp.join(TOOLS, 'model_converters', 'convert_pvt.py')


def ours(rel):
    return build_model(load_config(osp.join(CONFIGS, rel),
                                   {'model.backbone.init_cfg': None})).eval()


def mmdet_builtin(tmp_path, name):
    """mmdet's own PVT RetinaNet (its shipped config), random weights, saved as a checkpoint."""
    cfg = tmp_path / 'theirs.py'
    cfg.write_text(f"_base_ = 'mmdet::pvt/{name}'\nmodel = dict(backbone=dict(init_cfg=None))\n")
    model = build_model(Config.fromfile(str(cfg)))
    model.init_weights()
    path = tmp_path / 'mmdet_builtin.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'mmdet_version': '3.3.0'}}, path)
    return model.eval(), path


def max_diff(a, b):
    """Largest absolute difference over nested tuples/lists of tensors."""
    if isinstance(a, torch.Tensor):
        return (a - b).abs().max().item()
    return max(max_diff(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize('name,rel', [
    ('retinanet_pvt-t_fpn_1x_coco.py', 'pvt/retinanet_pvt-t_fpn_1x_coco.py'),
    ('retinanet_pvtv2-b0_fpn_1x_coco.py', 'pvtv2/retinanet_pvtv2-b0_fpn_1x_coco.py'),
])
def test_mmdet_builtin_retinanet_checkpoint(tmp_path, name, rel):
    theirs, path = mmdet_builtin(tmp_path, name)
    model = ours(rel)
    load_checkpoint(model, str(path), strict=True)  # no missing or unexpected key
    x = torch.randn(2, 3, 256, 352)
    with torch.no_grad():
        scores_theirs, boxes_theirs = theirs._forward(x)
        scores_ours, boxes_ours = model._forward(x)
    assert max_diff(scores_ours, scores_theirs) < 1e-4
    assert max_diff(boxes_ours, boxes_theirs) < 1e-4


class _Reference(torch.nn.Module):
    """The official-layout reference PVT as a detector/segmentor backbone."""

    def __init__(self, official):
        super().__init__()
        self.official = official

    def forward(self, x):
        return tuple(self.official.forward_pyramid(x))


def _official_layout_checkpoint(model, cls, arch, path):
    """A whole-model checkpoint as the official mmdet 2.x / mmseg 0.x code wrote it: the
    backbone in official names under ``backbone.``, neck and heads as they are."""
    official = family_of(cls).build_reference(arch)
    with torch.no_grad():
        for p in official.parameters():
            p.normal_(0, 0.05)
    sd = {k: v for k, v in model.state_dict().items() if not k.startswith('backbone.')}
    sd.update({
        'backbone.' + k: v
        for k, v in official.state_dict().items() if not k.startswith('head.')
    })
    torch.save({'state_dict': sd, 'meta': {}}, path)
    return official.eval()


def _load_official_layout(rel, cls, arch, tmp_path):
    """Our model with an official-layout checkpoint loaded strictly, and a copy whose backbone
    is the official-style reference with those weights."""
    path = tmp_path / 'official.pth'
    official = _official_layout_checkpoint(ours(rel), cls, arch, path)
    model = ours(rel)
    load_checkpoint(model, str(path), strict=True)
    reference = copy.deepcopy(model)
    reference.backbone = _Reference(official)
    return model, reference


@pytest.mark.parametrize('rel,cls,arch', [
    ('pvt/retinanet_pvt-t_fpn_1x_coco.py', PVT, 'tiny'),
    ('pvtv2/mask-rcnn_pvtv2-b0_fpn_1x_coco.py', PVTv2, 'b0'),
])
def test_official_detection_layout(tmp_path, rel, cls, arch):
    model, reference = _load_official_layout(rel, cls, arch, tmp_path)
    x = torch.randn(1, 3, 224, 320)
    with torch.no_grad():
        if hasattr(model, 'rpn_head'):  # Mask R-CNN: compare the FPN features and RPN outputs
            feats, ref_feats = model.extract_feat(x), reference.extract_feat(x)
            assert max_diff(feats, ref_feats) < 1e-4
            assert max_diff(model.rpn_head(feats), reference.rpn_head(ref_feats)) < 1e-4
        else:
            assert max_diff(model._forward(x), reference._forward(x)) < 1e-4


def test_official_segmentation_layout(tmp_path):
    model, reference = _load_official_layout('pvtv2/fpn_pvtv2-b2-li_8xb4-40k_ade20k-512x512.py',
                                             PVTv2, 'b2-li', tmp_path)
    x = torch.randn(1, 3, 160, 224)
    with torch.no_grad():
        assert max_diff(model._forward(x), reference._forward(x)) < 1e-4


def _timm_layout(official_sd):
    """Rename an official PVTv2 state dict to timm's ``pvt_v2_*`` key names."""
    out = {}
    for k, v in official_sd.items():
        k = re.sub(r'^patch_embed1\.', 'patch_embed.', k)
        k = re.sub(r'^patch_embed(\d)\.', lambda m: f'stages.{int(m[1]) - 1}.downsample.', k)
        k = re.sub(r'^block(\d)\.', lambda m: f'stages.{int(m[1]) - 1}.blocks.', k)
        k = re.sub(r'^norm(\d)\.', lambda m: f'stages.{int(m[1]) - 1}.norm.', k)
        out[k.replace('.mlp.dwconv.dwconv.', '.mlp.dwconv.')] = v
    return out


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """huggingface_hub reading only a cache prepared in ``tmp_path / 'hub'`` (HF_HUB_OFFLINE)."""
    import huggingface_hub
    cache = tmp_path / 'hub'
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_CACHE', str(cache))
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)
    return cache


@pytest.mark.parametrize('arch', ['b0', 'b2-li'])
def test_timm_safetensors_from_the_hub(offline_hub, tmp_path, arch):
    """A timm Hub repository (``timm/pvt_v2_<arch>.in1k``: model.safetensors in timm's layout,
    with its classifier) as ``hf-hub:`` reference: the official reference model's outputs. timm
    itself cannot run here (it imports torchvision, whose PyPI wheels need a CUDA torch), so
    the file is the official weights renamed by timm's own rules (checkpoint_filter_fn)."""
    from safetensors.torch import save_file
    official = FAMILIES['pvtv2'].build_reference(arch).eval()
    with torch.no_grad():
        for p in official.parameters():
            p.normal_(0, 0.05)
    timm_sd = _timm_layout(official.state_dict())
    assert 'patch_embed.proj.weight' in timm_sd and 'stages.1.downsample.proj.weight' in timm_sd
    save_file(timm_sd, tmp_path / 'model.safetensors')
    repo = f'timm/pvt_v2_{arch.replace("-", "_")}.in1k'
    weights = (tmp_path / 'model.safetensors').read_bytes()
    hub_cache(offline_hub, repo, {'model.safetensors': weights})
    model = PVTv2(arch=arch, init_cfg=dict(type='Pretrained', checkpoint=f'hf-hub:{repo}'))
    model.init_weights()
    x = torch.randn(1, 3, 160, 192)
    with torch.no_grad():
        assert max_diff(model.eval()(x), official.forward_pyramid(x)) < 1e-5


def _perturb(model):
    """transformers initialises norms to 1 / 0 and biases to 0: make them random too, so that
    a swapped or missed norm or bias shows in the outputs."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'layer_norm' in name or name.endswith('bias'):
                p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    return model.eval()


def _official_eps(model):
    """transformers gives every LayerNorm ``layer_norm_eps`` (1e-6); the official code, whose
    weights the Hub repositories hold, uses PyTorch's 1e-5 in the patch embeddings and the
    spatial reductions. Set those to 1e-5, for a comparison of the weights alone."""
    for module in model.modules():
        if type(module).__name__ in ('PvtV2OverlapPatchEmbeddings', 'PvtPatchEmbeddings',
                                     'PvtV2SelfAttention', 'PvtEfficientSelfAttention'):
            if hasattr(module, 'layer_norm'):
                module.layer_norm.eps = 1e-5


@pytest.mark.parametrize('arch', ['b0', 'b1', 'b2', 'b2-li', 'b3', 'b4', 'b5'])
def test_transformers_pvt_v2(tmp_path, arch):
    """A transformers PvtV2ForImageClassification saved as transformers saves it
    (model.safetensors, under pvt_v2., with its classifier) loads into our backbone; our stage
    outputs are the feature maps of transformers' own PvtV2Backbone on the same file, to float
    precision with the official LayerNorm eps and within transformers' eps difference without."""
    from transformers import PvtV2Backbone, PvtV2Config, PvtV2ForImageClassification
    spec = PVTv2.arch_settings[arch]
    config = PvtV2Config(
        depths=spec['depths'],
        hidden_sizes=spec['embed_dims'],
        num_attention_heads=spec['num_heads'],
        mlp_ratios=spec['mlp_ratios'],
        sr_ratios=spec['sr_ratios'],
        linear_attention=spec['linear_sra'])
    _perturb(PvtV2ForImageClassification(config)).save_pretrained(tmp_path / 'hf')
    theirs = PvtV2Backbone.from_pretrained(
        tmp_path / 'hf', out_features=['stage1', 'stage2', 'stage3', 'stage4']).eval()
    model = PVTv2(
        arch=arch,
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'hf' / 'model.safetensors')))
    model.init_weights()
    x = torch.randn(1, 3, 160, 192)
    with torch.no_grad():
        ours_out = model.eval()(x)
        assert max_diff(ours_out, theirs(x).feature_maps) < 5e-3
        _official_eps(theirs)
        assert max_diff(ours_out, theirs(x).feature_maps) < 2e-5
    if arch == 'b0':  # PvtV2Backbone's own state dict (no prefix, no classifier), torch.save'd
        torch.save(theirs.state_dict(), tmp_path / 'backbone.pth')
        again = PVTv2(
            arch=arch, init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'backbone.pth')))
        again.init_weights()
        with torch.no_grad():
            assert max_diff(again.eval()(x), ours_out) == 0


def test_transformers_pvt_v1(tmp_path):
    """transformers' PvtForImageClassification (PVT v1) file: our stages are the hidden states
    that close transformers' stages, once its last stage drops the classification token (its
    attention sees the token; the official detection backbone, like ours, has none)."""
    from transformers import PvtConfig, PvtForImageClassification, PvtModel
    spec = PVT.arch_settings['tiny']
    config = PvtConfig(
        depths=spec['depths'],
        hidden_sizes=spec['embed_dims'],
        num_attention_heads=spec['num_heads'],
        mlp_ratios=spec['mlp_ratios'],
        sequence_reduction_ratios=spec['sr_ratios'])
    _perturb(PvtForImageClassification(config)).save_pretrained(tmp_path / 'hf')
    theirs = PvtModel.from_pretrained(tmp_path / 'hf').eval()
    last = theirs.encoder.patch_embeddings[3]
    last.cls_token = None
    last.position_embeddings = torch.nn.Parameter(last.position_embeddings[:, 1:])
    _official_eps(theirs)
    model = PVT(
        arch='tiny',
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'hf' / 'model.safetensors')))
    model.init_weights()
    x = torch.randn(1, 3, 224, 224)  # transformers' PVT v1 runs at its configured image size only
    with torch.no_grad():
        hidden = theirs(x, output_hidden_states=True).hidden_states
        for i, out in enumerate(model.eval()(x)):
            closing = hidden[sum(spec['depths'][:i + 1]) - 1]  # a hidden state per block
            b, c, h, w = out.shape
            assert max_diff(out, closing.reshape(b, h, w, c).permute(0, 3, 1, 2)) < 2e-5


def test_init_cfg_accepts_mmdet_and_official_detector_files(tmp_path):
    """A backbone initialised from a whole detector checkpoint (prefix='backbone.')."""
    theirs, path = mmdet_builtin(tmp_path, 'retinanet_pvtv2-b0_fpn_1x_coco.py')
    model = PVTv2(
        arch='b0', init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    model.init_weights()
    x = torch.randn(1, 3, 128, 160)
    with torch.no_grad():
        # mmdet's PVT uses LayerNorm eps 1e-6 where the official code (and pvt_mm) uses 1e-5
        # (patch-embedding and spatial-reduction norms): equal up to that.
        for a, b in zip(model.eval()(x), theirs.backbone(x)):
            assert ((a - b).norm() / b.norm()).item() < 1e-4
    source = ours('pvt/retinanet_pvt-t_fpn_1x_coco.py')
    official = _official_layout_checkpoint(source, PVT, 'tiny', tmp_path / 'off.pth')
    model = PVT(
        arch='tiny',
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'off.pth'), prefix='backbone.'))
    model.init_weights()
    with torch.no_grad():
        assert max_diff(model.eval()(x), official.forward_pyramid(x)) < 1e-5


def test_tools_test_with_mmdet_builtin_checkpoint_same_predictions(tmp_path, monkeypatch, capsys):
    """tools/test.py (in this process) on our config with an mmdet 3.x checkpoint predicts what
    mmdet's model does."""
    quick = config('quickstart/retinanet_pvtv2-b0_fpn_toy.py')
    theirs_cfg = tmp_path / 'theirs.py'
    theirs_cfg.write_text(f"""_base_ = '{quick}'
model = dict(backbone=dict(_delete_=True, type='PyramidVisionTransformerV2', embed_dims=32,
                           num_layers=[2, 2, 2, 2]))
""")
    model = build_model(load_config(str(theirs_cfg)))
    model.init_weights()
    ckpt = tmp_path / 'theirs.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    opts = [
        '--cfg-options', *SMALL_TOY, 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', 'model.test_cfg.score_thr=0.0'
    ]
    assert in_process(monkeypatch, tmp_path, 'test.py', theirs_cfg, ckpt, '--out',
                      tmp_path / 'theirs.pkl', '--work-dir', tmp_path / 'w1', *opts) is None
    capsys.readouterr()
    assert in_process(monkeypatch, tmp_path, 'test.py', quick, ckpt, '--out', tmp_path / 'ours.pkl',
                      '--work-dir', tmp_path / 'w2', *opts) is None
    out = ''.join(capsys.readouterr())
    assert re.search(r'Epoch\(test\) +\[1/1\] +coco', out)  # its log is captured
    assert 'missing keys' not in out and 'unexpected key' not in out
    theirs = pickle.loads((tmp_path / 'theirs.pkl').read_bytes())
    ours_ = pickle.loads((tmp_path / 'ours.pkl').read_bytes())
    assert len(ours_) == len(theirs) == 4
    for a, b in zip(ours_, theirs):
        pa, pb = a['pred_instances'], b['pred_instances']
        n = min(len(pa['scores']), len(pb['scores']), 50)
        assert n > 0
        # Every top detection of ours is one of theirs (near-tied scores may swap order). The
        # quickstart head's GroupNorm amplifies mmdet's different LayerNorm eps a little, hence
        # 1e-3 here; the paper configs' heads agree within 1e-4 (tests above).
        cost = ((pa['scores'][:n, None] - pb['scores'][None]).abs() +
                (pa['bboxes'][:n, None] - pb['bboxes'][None]).abs().amax(-1) / 100 +
                (pa['labels'][:n, None] != pb['labels'][None]).float())
        assert cost.min(1).values.max() < 1e-3


def _convert(*args):
    """Run the converter tool in this process (as ``python convert_pvt.py ARGS`` runs it);
    returns its exit status, stdout and the message it exits with."""
    import contextlib
    import io
    import runpy
    from types import SimpleNamespace
    out, argv, code, message = io.StringIO(), sys.argv, 0, ''
    sys.argv = [CONVERTER, *map(str, args)]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(CONVERTER, run_name='__main__')
    except SystemExit as exit_:
        code, message = (1, str(exit_.code)) if isinstance(exit_.code, str) else (exit_.code, '')
    finally:
        sys.argv = argv
    return SimpleNamespace(returncode=code or 0, stdout=out.getvalue(), stderr=message)


def test_converter_cli(tmp_path):
    theirs, path = mmdet_builtin(tmp_path, 'retinanet_pvt-t_fpn_1x_coco.py')
    dst = tmp_path / 'converted.pth'
    proc = _convert(path, dst, '--arch', 'pvt-tiny')
    assert proc.returncode == 0, proc.stderr
    assert "'mmdet' layout" in proc.stdout and 'fits pvt-tiny' in proc.stdout
    assert 'backbone.layers.0.1.1.attn.attn.in_proj_weight -> ' \
           'backbone.stages.0.blocks.0.attn.q.weight' in _convert(
               path, dst, '--show-mapping').stdout
    converted = torch.load(dst)['state_dict']
    model = ours('pvt/retinanet_pvt-t_fpn_1x_coco.py')
    assert set(converted) == set(model.state_dict())
    model.load_state_dict(converted)
    # An official ImageNet file: classification keys are dropped and listed.
    official = FAMILIES['pvtv2'].build_reference('b1')
    torch.save({'model': official.state_dict()}, tmp_path / 'pvt_v2_b1.pth')
    proc = _convert(tmp_path / 'pvt_v2_b1.pth', dst, '--arch', 'pvtv2-b1')
    assert proc.returncode == 0 and 'dropped: head.weight, head.bias' in proc.stdout
    # Wrong arch: refused, naming the keys and shapes.
    proc = _convert(tmp_path / 'pvt_v2_b1.pth', dst, '--arch', 'pvtv2-b0')
    assert proc.returncode != 0 and 'does not fit --arch pvtv2-b0' in proc.stderr
    assert 'stages.0.patch_embed.proj.weight: (64, 3, 7, 7) vs (32, 3, 7, 7)' in proc.stderr
    # A transformers file: the tool names the layout and shows the key / value merge.
    from transformers import PvtV2Config, PvtV2ForImageClassification
    PvtV2ForImageClassification(PvtV2Config()).save_pretrained(tmp_path / 'hf')
    proc = _convert(tmp_path / 'hf' / 'model.safetensors', dst, '--arch', 'pvtv2-b0',
                    '--show-mapping')
    assert proc.returncode == 0 and "'transformers' layout" in proc.stdout, proc.stderr
    assert ('pvt_v2.encoder.layers.0.blocks.0.attention.key.weight + pvt_v2.encoder.layers.0.'
            'blocks.0.attention.value.weight -> stages.0.blocks.0.attn.kv.weight') in proc.stdout
    assert re.search(r'dropped: classifier\.(weight|bias), classifier\.(weight|bias)\n',
                     proc.stdout)
    # Not a PVT checkpoint at all: refused, naming keys.
    torch.save({'conv1.weight': torch.zeros(1), 'fc.bias': torch.zeros(1)}, tmp_path / 'r.pth')
    proc = _convert(tmp_path / 'r.pth', dst)
    assert proc.returncode != 0 and 'no PVT weights found' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert 'conv1.weight' in proc.stderr
