"""Official release checkpoints load unchanged and give the official model's features."""
import re

import pytest
import torch

from pvt_mm import PVT, PVTv2
from pvt_mm.fileio import CheckpointError
from pvt_mm.models import convert_state_dict, detect_format, family_of

# Official ImageNet models, millions of parameters (PVT and PVTv2 papers / release).
OFFICIAL_PARAMS = {
    (PVT, 'tiny'): 13.23,
    (PVT, 'small'): 24.49,
    (PVT, 'medium'): 44.21,
    (PVT, 'large'): 61.37,
    (PVTv2, 'b0'): 3.67,
    (PVTv2, 'b1'): 14.01,
    (PVTv2, 'b2'): 25.36,
    (PVTv2, 'b2-li'): 22.55,
    (PVTv2, 'b3'): 45.24,
    (PVTv2, 'b4'): 62.56,
    (PVTv2, 'b5'): 81.96,
}


def official(cls, arch, **kwargs):
    return family_of(cls).build_reference(arch, **kwargs)


def randomize(module):
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0, 0.05)
    return module


def classification_only_params(cls, arch):
    """What the official classifier has beyond a dense backbone: the 1000-class head, and for
    v1 the cls token, its position-embedding slot and the final norm."""
    c = cls.arch_settings[arch]['embed_dims'][-1]
    return c * 1000 + 1000 + (4 * c if cls.arch_settings[arch]['use_pos_embed'] else 0)


@pytest.mark.parametrize('cls,arch', list(OFFICIAL_PARAMS), ids=lambda x: getattr(x, '__name__', x))
def test_parameter_counts_equal_official(cls, arch):
    ours = sum(p.numel() for p in cls(arch=arch).parameters())
    total = ours + classification_only_params(cls, arch)
    assert round(total / 1e6, 2) == OFFICIAL_PARAMS[(cls, arch)]
    # The official-layout reference has exactly the same tensors.
    assert total == sum(p.numel() for p in official(cls, arch).parameters())


@pytest.mark.parametrize('cls,arch', [(PVT, 'tiny'), (PVTv2, 'b0'), (PVTv2, 'b2-li')])
def test_official_checkpoint_round_trip(tmp_path, cls, arch):
    ref = randomize(official(cls, arch)).eval()
    path = tmp_path / f'{arch}.pth'
    torch.save(ref.state_dict(), path)
    model = cls(arch=arch, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    ours = model.state_dict()
    # Every official tensor lands at its place in the stage layout.
    placed = 0
    for key, value in ref.state_dict().items():
        if re.match(r'(head\.|norm\.|cls_token)', key):
            continue
        m = re.match(r'(patch_embed|pos_embed|block|norm)(\d)\.?(.*)', key)
        kind, stage, rest = m[1], int(m[2]) - 1, m[3]
        if kind == 'pos_embed':
            target = f'stages.{stage}.pos_embed'
            value = value[:, 1:] if stage == 3 else value
        elif kind == 'block':
            target = f'stages.{stage}.blocks.' + rest.replace('mlp.dwconv.dwconv', 'mlp.dwconv')
        else:
            target = f'stages.{stage}.{kind}.{rest}'
        assert torch.equal(ours[target], value), key
        placed += 1
    assert placed == len(ours)
    # Numerically the official dense-prediction model, also at sizes that resize pos_embed.
    model.eval()
    for size in [(224, 224), (161, 250)]:
        x = torch.randn(2, 3, *size)
        with torch.no_grad():
            for a, b in zip(model(x), ref.forward_pyramid(x)):
                assert a.shape == b.shape
                assert ((a - b).norm() / b.norm()).item() < 1e-5


def test_classification_keys_dropped_with_one_log_line(tmp_path, capsys):
    ref = official(PVT, 'tiny')
    path = tmp_path / 'pvt_tiny.pth'
    torch.save({'model': ref.state_dict()}, path)  # the release wraps weights in 'model'
    from mmengine.logging import MMLogger
    MMLogger.get_instance('pvt_mm_test', log_level='INFO')
    model = PVT(arch='tiny', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if 'classification-only' in line]
    assert len(lines) == 1
    for key in ('cls_token', 'norm.weight', 'head.weight'):
        assert key in lines[0]


def test_mismatched_checkpoint_names_the_keys(tmp_path):
    sd = official(PVT, 'tiny').state_dict()
    sd['block1.0.attn.extra.weight'] = torch.zeros(1)
    del sd['block2.1.mlp.fc2.bias']
    path = tmp_path / 'bad.pth'
    torch.save(sd, path)
    model = PVT(arch='tiny', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointError) as err:
        model.init_weights()
    assert str(path) in str(err.value)
    assert 'stages.1.blocks.1.mlp.fc2.bias' in str(err.value)
    assert 'stages.0.blocks.0.attn.extra.weight' in str(err.value)


def test_wrong_arch_checkpoint_is_refused(tmp_path):
    path = tmp_path / 'b1.pth'
    torch.save(official(PVTv2, 'b1').state_dict(), path)
    model = PVTv2(arch='b0', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(
            CheckpointError,
            match=re.escape(
                f"PVTv2: {path} ('official' layout) does not fit the model: fits 0 of")) as err:
        model.init_weights()
    assert 'stages.0.patch_embed.proj.weight: (64, 3, 7, 7) vs (32, 3, 7, 7)' in str(err.value)
    assert str(err.value).endswith('the weights of another size?')


def test_malformed_layout_keys_are_named_with_the_file(tmp_path):
    """An mmdet-layout key that is no block's tensor, and a v1 position embedding that is not
    (1, tokens, channels): one error naming the file and the key, not a raw ValueError or
    IndexError from the conversion."""
    mmdet = {
        'layers.0.0.projection.weight': torch.zeros(32, 3, 7, 7),
        'layers.0.1.foo': torch.zeros(1)
    }
    official_v1 = dict(official(PVT, 'tiny').state_dict(), pos_embed1=torch.zeros(64))
    for model, sd, expected in [(PVTv2(arch='b0'), mmdet, '1 unexpected (first: layers.0.1.foo)'),
                                (PVT(arch='tiny'), official_v1,
                                 'stages.0.pos_embed: a position embedding of shape (64,)')]:
        path = tmp_path / 'malformed.pth'
        torch.save(sd, path)
        model.init_cfg = dict(type='Pretrained', checkpoint=str(path))
        with pytest.raises(CheckpointError) as err:
            model.init_weights()
        assert str(path) in str(err.value) and expected in str(err.value), str(err.value)


def test_missing_file_is_named(tmp_path):
    model = PVTv2(arch='b0', init_cfg=dict(type='Pretrained', checkpoint='/nope/pvt_v2_b0.pth'))
    with pytest.raises(FileNotFoundError, match='/nope/pvt_v2_b0.pth'):
        model.init_weights()


def test_detect_format():
    assert detect_format(official(PVT, 'tiny').state_dict()) == 'official'
    assert detect_format(PVT(arch='tiny').state_dict()) == 'pvt_mm'
    assert detect_format({'conv1.weight': 0}) == 'unknown'
    sd, fmt, dropped = convert_state_dict(official(PVTv2, 'b0').state_dict())
    assert fmt == 'official' and dropped == ['head.weight', 'head.bias']
    assert set(sd) == set(PVTv2(arch='b0').state_dict())


def test_a_new_layout_is_one_entry_of_the_table(tmp_path, monkeypatch):
    """A layout added to ``LAYOUTS`` (here: pvt_mm's keys under ``enc.``) is detected, converted
    with its key mapping (what ``convert_pvt.py --show-mapping`` prints), loaded by a backbone's
    ``init_cfg``, and listed where no layout fits."""
    from pvt_mm.fileio import CheckpointError
    from pvt_mm.models import checkpoint

    def from_enc(sd):
        for k, v in sd.items():
            yield k[len('enc.'):], k, v

    layout = checkpoint.Layout(
        'enc', lambda k: k.startswith('enc.'), from_enc, classification_head=False)
    monkeypatch.setattr(checkpoint, 'LAYOUTS', checkpoint.LAYOUTS + (layout, ))
    ref = PVTv2(arch='b0')
    sd = {'enc.' + k: v for k, v in ref.state_dict().items()}
    assert detect_format(sd) == 'enc'
    mapping = []
    out, fmt, dropped = convert_state_dict(sd, mapping=mapping)
    assert (fmt, dropped, list(out)) == ('enc', [], list(ref.state_dict()))
    assert mapping[0] == ('enc.stages.0.patch_embed.proj.weight',
                          'stages.0.patch_embed.proj.weight')
    path = tmp_path / 'enc.pth'
    torch.save(sd, path)
    model = PVTv2(arch='b0', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    assert all(torch.equal(v, ref.state_dict()[k]) for k, v in model.state_dict().items())
    with pytest.raises(
            CheckpointError,
            match=r'no known PVT layout \(transformers, timm, pvt_mm, '
            r'official, mmdet, enc\)'):
        convert_state_dict({'conv1.weight': torch.zeros(1)})
