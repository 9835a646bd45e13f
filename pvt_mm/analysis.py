"""Parameters and FLOPs of PVT models, counted the way the PVT papers count them.

mmengine's ``FlopAnalyzer`` (fvcore's rules: one multiply-accumulate = one FLOP) counts convs,
linears, norms and plain matmuls, but not a fused ``aten::scaled_dot_product_attention``, which
our spatial-reduction attention calls. :func:`sdpa_flop_jit` adds exactly the two attention
matmuls, ``2 * N * M * C`` per layer (N queries, M = N / R^2 keys, or 49 for linear SRA), as the
official repository does; nothing else in the model counts them, so nothing is counted twice.
"""
import math
from typing import Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape


def sdpa_flop_jit(inputs, outputs) -> int:
    """FLOPs of ``scaled_dot_product_attention(q, k, v)``: q @ k^T and attn @ v."""
    q, k = get_shape(inputs[0]), get_shape(inputs[1])
    return 2 * math.prod(q) * k[-2]


def count_flops(model: nn.Module, inputs: Tuple[torch.Tensor, ...]) -> int:
    """FLOPs (multiply-accumulates) of ``model(*inputs)`` including fused attention."""
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.set_op_handle(**{'aten::scaled_dot_product_attention': sdpa_flop_jit})
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return int(analyzer.total())


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class ImageNetClassifier(nn.Module):
    """A backbone with the papers' ImageNet head: global average pool + 1000-way linear."""

    def __init__(self, backbone, num_classes=1000):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.embed_dims[-1], num_classes)

    def forward(self, x):
        return self.head(self.backbone(x)[-1].mean((2, 3)))


class DenseForward(nn.Module):
    """What a detector or segmentor computes for one image, for counting: ``outputs(model,
    image)``, its toolbox's :meth:`~pvt_mm.toolboxes.Toolbox.dense_outputs` (a segmentor's
    logits resized to the input, a detector's head outputs)."""

    def __init__(self, model, outputs):
        super().__init__()
        self.model = model
        self.outputs = outputs

    def forward(self, x):
        return self.outputs(self.model, x)
