"""ONNX export of PVT backbones and of whole single-stage detectors / segmentors, checked with
onnxruntime against PyTorch before it counts as done.

What is exported is the network on a normalized, padded image batch, up to its raw outputs: the
backbone's feature maps, or a detector's per-level class scores and box regressions before
decoding and NMS, or a segmentor's logits. The data preprocessor (mean/std, padding) and the
post-processing stay outside, as in mmdeploy's models; mmdeploy exports the end-to-end detector
with NMS. A whole segmentor exports at a fixed size only (mmseg's heads compute upsampling
sizes as Python integers, which the exporters record as constants). Two-stage and query-based
detectors (Mask R-CNN, Cascade, Sparse R-CNN, DETR) need
their RoI / NMS operators and image metadata inside the graph: export their backbone here, or the
whole model with mmdeploy.

Both of PyTorch's exporters work: the TorchScript-based one (``dynamo=False``, what mmdeploy
uses; opset 17; every supported torch) and ``torch.export`` (``dynamo=True``; torch >= 2.5,
where ``torch.onnx.export`` has it); with ``dynamic=True`` the image's height and width are
dynamic in the file.
"""
import contextlib
import inspect
import io
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

OPSET = 17  # the TorchScript-based exporter; LayerNormalization needs >= 17
# torch >= 2.5 chooses the exporter with ``dynamo=`` (and defaults to torch.export from 2.9);
# older torch has the TorchScript-based exporter only, under the same function.
HAS_DYNAMO_EXPORT = 'dynamo' in inspect.signature(torch.onnx.export).parameters


class ExportCheckError(RuntimeError):
    """onnxruntime's outputs differ from PyTorch's (or the file does not run)."""


class RawOutputs(nn.Module):
    """``model`` as a function of the image tensor alone, returning a flat tuple of tensors: the
    backbone's maps (``backbone_only``), or the raw outputs of a whole model
    (``model(image, mode='tensor')``: a single-stage detector's head outputs, a segmentor's
    logits). Which models export whole, and at a fixed size only (``fixed_size``), is their
    toolbox's (:class:`~pvt_mm.toolboxes.Toolbox`)."""

    def __init__(self, model: nn.Module, backbone_only: bool = False, fixed_size: bool = False):
        super().__init__()
        self.model = model.backbone if backbone_only else model
        self.backbone_only = backbone_only
        self.fixed_size = not backbone_only and fixed_size

    def forward(self, image):
        outs = self.model(image) if self.backbone_only else self.model(image, mode='tensor')
        return tuple(_flatten(outs))


def _flatten(outs) -> List[torch.Tensor]:
    if isinstance(outs, torch.Tensor):
        return [outs]
    return [t for o in outs for t in _flatten(o)]


def export_onnx(module: nn.Module,
                image: torch.Tensor,
                path: str,
                dynamic: bool = True,
                dynamo: bool = False) -> None:
    """Export ``module(image)`` (a tuple of tensors) to ``path``; ``dynamic``: height and width
    free in the file (from 64 pixels up: below that the last stage's grid is 1x1)."""
    if dynamic and getattr(module, 'fixed_size', False):
        raise ValueError(
            'this model exports whole at a fixed size only (a segmentor: mmseg\'s decode heads '
            'compute their upsampling sizes as Python integers, which both exporters record as '
            'constants). '
            'Export it at the deployment size, or --backbone-only --dynamic.')
    module = module.eval()
    with torch.no_grad():
        num_outputs = len(module(image))
    names = dict(input_names=['image'], output_names=[f'out{i}' for i in range(num_outputs)])
    if dynamo and not HAS_DYNAMO_EXPORT:
        raise ValueError(f'the torch.export-based ONNX exporter needs torch >= 2.5 (this is '
                         f'torch {torch.__version__}): export without --dynamo')
    if dynamo:
        shapes = None
        if dynamic:
            shapes = {
                'image': {
                    2: torch.export.Dim('height', min=64, max=4096),
                    3: torch.export.Dim('width', min=64, max=4096)
                }
            }
        # One file, weights inside, as the TorchScript-based exporter writes it (the dynamo one
        # defaults to a separate FILE.onnx.data); a protobuf holds 2 GB at most, far above any
        # PVT model (a whole Cascade Mask R-CNN b5 is 0.6 GB).
        weights = sum(t.numel() * t.element_size() for t in module.state_dict().values())
        with contextlib.redirect_stdout(io.StringIO()):  # the exporter's progress report
            torch.onnx.export(
                module, (image, ),
                path,
                dynamo=True,
                dynamic_shapes=shapes,
                external_data=weights > 1.8 * 2**30,
                **names)
    else:
        axes = {'image': {2: 'height', 3: 'width'}} if dynamic else None
        if HAS_DYNAMO_EXPORT:
            names['dynamo'] = False
        torch.onnx.export(module, (image, ), path, opset_version=OPSET, dynamic_axes=axes, **names)


def check_onnx(path: str,
               module: nn.Module,
               images: Sequence[torch.Tensor],
               tolerance: float = 1e-4) -> List[Tuple[tuple, float, float]]:
    """Run ``path`` with onnxruntime on each image and compare every output with ``module``'s:
    the largest absolute difference must stay within ``tolerance`` times max(1, the output's
    largest magnitude) (for feature maps of magnitude <= 1, an absolute 1e-4). Returns
    ``[(image size, largest absolute difference, largest output magnitude), ...]``."""
    import onnxruntime as ort
    try:
        session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    except Exception as err:  # onnxruntime raises its own exception types
        raise ExportCheckError(f'{path}: onnxruntime cannot load it: {err}') from None
    results = []
    for image in images:
        with torch.no_grad():
            expected = [t.numpy() for t in module.eval()(image)]
        try:
            got = session.run(None, {session.get_inputs()[0].name: image.numpy()})
        except Exception as err:
            raise ExportCheckError(f'{path}: onnxruntime fails on a {tuple(image.shape)} input: '
                                   f'{str(err).splitlines()[0]}') from None
        if [g.shape for g in got] != [e.shape for e in expected]:
            raise ExportCheckError(f'{path}: output shapes {[g.shape for g in got]} differ from '
                                   f'PyTorch\'s {[e.shape for e in expected]}')
        worst, scale = 0., 0.
        for i, (g, e) in enumerate(zip(got, expected)):
            diff, magnitude = float(np.abs(g - e).max()), float(np.abs(e).max())
            if diff > tolerance * max(1., magnitude):
                raise ExportCheckError(f'{path}: output {i} differs from PyTorch by {diff:.2e} '
                                       f'(outputs up to {magnitude:.3g}, tolerance {tolerance:g} '
                                       f'of that) on a {tuple(image.shape)} input')
            worst, scale = max(worst, diff), max(scale, magnitude)
        results.append((tuple(image.shape[2:]), worst, scale))
    return results


def second_size(height: int, width: int) -> Tuple[int, int]:
    """Another input size (other aspect ratio, multiples of 32) to check a dynamic export at."""
    return max(64, height * 3 // 4 // 32 * 32), max(64, width * 5 // 4 // 32 * 32)


def default_path(config: str, backbone_only: bool) -> str:
    name = osp.splitext(osp.basename(config))[0]
    return osp.join('work_dirs', 'onnx', name + ('_backbone' if backbone_only else '') + '.onnx')
