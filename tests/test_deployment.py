"""ONNX export: each code path of the backbones with both exporters and a dynamic input size, and
tools/deployment/export_onnx.py on whole models; onnxruntime must give PyTorch's outputs at two
input sizes from one file. The presets differ from these variants in depth and widths only
(docs/deployment.md lists every preset exported at full depth)."""
import pytest
import torch

from pvt_mm import PVT, PVTv2, deployment
from tools_helper import config, in_process

# One variant of each code path, one block per stage: v1 (position embeddings); v2 at b0's and at
# b1-b4's widths; b5's MLP ratios; linear SRA.
VARIANTS = [(PVT, 'tiny'), (PVTv2, 'b0'), (PVTv2, 'b1'), (PVTv2, 'b5'), (PVTv2, 'b2-li')]
SIZES = [(224, 256), deployment.second_size(224, 256)]


def _images(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(1, 3, h, w, generator=gen) for h, w in SIZES]


def _backbone(cls, arch, **overrides):
    torch.manual_seed(0)
    model = cls(arch=arch, **overrides)
    model.init_weights()

    class Backbone(torch.nn.Module):
        backbone = model

    return deployment.RawOutputs(Backbone(), backbone_only=True)


@pytest.mark.parametrize('cls,arch', VARIANTS, ids=[f'{c.__name__}-{a}' for c, a in VARIANTS])
def test_backbone_variants_export_torchscript(cls, arch, tmp_path):
    """The TorchScript-based exporter (what mmdeploy uses), height and width dynamic: four
    feature maps within 1e-4 of PyTorch's at two sizes, and no tracer warning."""
    import warnings
    module = _backbone(cls, arch, depths=[1, 1, 1, 1])
    images = _images()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        deployment.export_onnx(module, images[0], str(tmp_path / 'm.onnx'), dynamic=True)
    traced = [
        f'{w.filename}: {w.message}' for w in caught
        if issubclass(w.category, torch.jit.TracerWarning)
    ]
    assert not traced  # the backbone's input check is not traced
    results = deployment.check_onnx(str(tmp_path / 'm.onnx'), module, images)
    assert [size for size, _, _ in results] == SIZES
    assert all(abs_error <= 1e-4 for _, abs_error, _ in results), results
    assert len(module(images[0])) == 4


# torch.export: every operator the variants use, in two models: v1 (resized position embeddings,
# the spatial-reduction convolution) and linear-SRA PVTv2 (the depth-wise FFN convolution, the
# averaging-matrix pooling). PVTv2-b0 holds no operator these two lack.
DYNAMO = [(PVT, 'tiny'), (PVTv2, 'b2-li')]


@pytest.mark.skipif(
    not deployment.HAS_DYNAMO_EXPORT,
    reason='torch < 2.5: torch.onnx.export has no torch.export-based exporter')
@pytest.mark.parametrize('cls,arch', DYNAMO, ids=[f'{c.__name__}-{a}' for c, a in DYNAMO])
def test_backbone_variants_export_with_dynamo(cls, arch, tmp_path):
    module = _backbone(cls, arch, depths=[1, 1, 1, 1])
    images = _images()
    deployment.export_onnx(module, images[0], str(tmp_path / 'm.onnx'), dynamic=True, dynamo=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['m.onnx']  # weights inside, one file
    results = deployment.check_onnx(str(tmp_path / 'm.onnx'), module, images)
    assert [s for s, _, _ in results] == SIZES and all(e <= 1e-4 for _, e, _ in results)


def test_check_refuses_a_file_that_does_not_match(tmp_path):
    """The check is not a formality: a file exported at a fixed size fails at the other size."""
    module = _backbone(PVTv2, 'b0', depths=[1, 1, 1, 1])
    images = _images()
    deployment.export_onnx(module, images[0], str(tmp_path / 'm.onnx'), dynamic=False)
    with pytest.raises(deployment.ExportCheckError, match='fails on a|differ'):
        deployment.check_onnx(str(tmp_path / 'm.onnx'), module, images)


def test_export_tool_whole_models_and_refusals(tmp_path, monkeypatch, capsys):
    """tools/deployment/export_onnx.py (run in this process) on a detector with a dynamic size and
    a segmentor at a fixed one; what it cannot export is refused in one line."""

    def export(rel, *args):
        return in_process(monkeypatch, tmp_path, 'deployment/export_onnx.py', config(rel),
                          '--shape', *args)

    assert export('pvtv2/retinanet_pvtv2-b0_fpn_1x_coco.py', 320, 448, '--dynamic', '--out',
                  tmp_path / 'retina.onnx') is None
    out = capsys.readouterr().out
    assert 'exported RetinaNet' in out and 'onnxruntime matches PyTorch at 320x448' in out
    assert (tmp_path / 'retina.onnx').is_file()
    assert export('pvtv2/fpn_pvtv2-b2-li_8xb4-40k_ade20k-512x512.py', 256, 256) is None
    assert 'exported EncoderDecoder' in capsys.readouterr().out
    assert (tmp_path / 'work_dirs/onnx/fpn_pvtv2-b2-li_8xb4-40k_ade20k-512x512.onnx').is_file()
    refused = [(['pvtv2/mask-rcnn_pvtv2-b0_fpn_1x_coco.py'], 'only single-stage detectors and seg'),
               (['pvtv2/fpn_pvtv2-b0_8xb4-40k_ade20k-512x512.py', '--dynamic'], 'fixed size')]
    for args, reason in refused:
        msg = export(args[0], 256, 256, *args[1:])
        assert msg.startswith('error: ') and reason in msg, msg


def test_export_tool_loads_a_checkpoint(tmp_path, monkeypatch):
    """An official-layout backbone file, as safetensors, for --backbone-only: the exported maps
    are those of the loaded weights (a random-weights export differs)."""
    from safetensors.torch import save_file

    from pvt_mm.models import FAMILIES
    torch.manual_seed(1)
    official = FAMILIES['pvtv2'].build_reference('b0')
    save_file(official.state_dict(), tmp_path / 'pvt_v2_b0.safetensors')
    cfg = config('pvtv2/retinanet_pvtv2-b0_fpn_1x_coco.py')
    assert in_process(monkeypatch, tmp_path, 'deployment/export_onnx.py', cfg,
                      tmp_path / 'pvt_v2_b0.safetensors', '--backbone-only', '--shape', 224, 256,
                      '--out', tmp_path / 'b0.onnx') is None
    import onnxruntime as ort
    image = torch.randn(1, 3, 224, 256)
    got = ort.InferenceSession(str(tmp_path / 'b0.onnx')).run(None, {'image': image.numpy()})
    expected = official.eval().forward_pyramid(image)
    for g, e in zip(got, expected):
        torch.testing.assert_close(torch.from_numpy(g), e.detach(), rtol=1e-4, atol=1e-4)
    torch.save({'conv1.weight': torch.zeros(1)}, tmp_path / 'other.pth')
    msg = in_process(monkeypatch, tmp_path, 'deployment/export_onnx.py', cfg,
                     tmp_path / 'other.pth', '--backbone-only', '--shape', 224, 256)
    assert msg.startswith('error: ') and f'{tmp_path / "other.pth"}: no PVT weights found' in msg


@pytest.mark.skipif(
    deployment.HAS_DYNAMO_EXPORT,
    reason='torch >= 2.5 has the torch.export-based exporter (tested above)')
def test_dynamo_export_on_older_torch_is_a_named_refusal(tmp_path):
    module = _backbone(PVTv2, 'b0', depths=[1, 1, 1, 1])
    with pytest.raises(ValueError, match=r'needs torch >= 2\.5 .*export without --dynamo'):
        deployment.export_onnx(module, _images()[0], str(tmp_path / 'm.onnx'), dynamo=True)
    assert not (tmp_path / 'm.onnx').exists()
