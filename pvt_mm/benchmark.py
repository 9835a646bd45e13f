"""Measuring PVT models: step times interleaved across implementations, peak memory, autograd's
saved activations, and the peers pvt_mm is compared with (mmdet 3.x's built-in
``PyramidVisionTransformer(V2)``, a reference written the way the official code is, timm's
``pvt_v2`` and Hugging Face transformers' ``PvtV2Backbone``).
``tools/analysis_tools/benchmark.py`` prints them (docs/benchmark.md).
"""
import copy
import multiprocessing
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Dict, List, Sequence, Tuple

import torch

from .models import family_arch
from .toolboxes import toolbox

IMPLS = ('pvt_mm', 'mmdet', 'reference', 'timm', 'transformers', 'pvt_mm+cp')

# What a pvt_mm[...] variant may set: the backbone's speed options, and compiling it.
VARIANT_OPTIONS = ('attn_backend', 'attn_query_groups', 'ffn_recompute', 'compile')


def pvt_mm_variant(impl: str) -> dict:
    """The backbone options of a pvt_mm variant: ``'pvt_mm[attn_query_groups=4,ffn_recompute=
    none]'`` -> ``{'attn_query_groups': 4, 'ffn_recompute': 'none'}``; ``compile`` among them
    compiles the backbone (``torch.compile``); ``'pvt_mm+cp'`` is ``with_cp``."""
    if impl == 'pvt_mm+cp':
        return dict(with_cp=True)
    if impl == 'pvt_mm':
        return {}
    if not (impl.startswith('pvt_mm[') and impl.endswith(']')):
        raise ValueError(f'unknown implementation {impl!r}; one of {IMPLS}, or '
                         "pvt_mm[option=value,...] (e.g. pvt_mm[attn_backend=explicit])")
    options = {}
    for item in filter(None, impl[len('pvt_mm['):-1].split(',')):
        key, _, value = item.partition('=')
        if key not in VARIANT_OPTIONS:
            raise ValueError(f'{impl!r}: unknown option {key!r}; one of {VARIANT_OPTIONS}')
        options[key] = True if not value else int(value) if value.isdigit() else value
    return options


def check_impl(impl: str) -> str:
    """``impl`` if it names an implementation (argparse's type for ``--impls``)."""
    if not impl.startswith('pvt_mm'):
        if impl not in IMPLS:
            raise ValueError(f'unknown implementation {impl!r}; one of {IMPLS}')
        return impl
    pvt_mm_variant(impl)
    return impl


def time_call(fn: Callable[[], object], device: str) -> float:
    """Seconds one call of ``fn`` takes (CUDA: between CUDA events, synchronised)."""
    if device == 'cuda':
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1000
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def interleaved_times(fns: Dict[str, Callable[[], object]],
                      rounds: int,
                      device: str,
                      warmup: int = 1) -> Dict[str, List[float]]:
    """``{name: [seconds per round]}``: each round calls every function once, in turn, so that
    they share the machine's state (clock, caches, other load); the first ``warmup`` rounds are
    run and not reported."""
    times = {name: [] for name in fns}
    for i in range(warmup + rounds):
        for name, fn in fns.items():
            t = time_call(fn, device)
            if i >= warmup:
                times[name].append(t)
    return times


def _rss_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def peak_extra_memory(fn: Callable[[], object], device: str) -> int:
    """Bytes one call of ``fn`` needs beyond what is allocated before it: on CUDA from the
    allocator's peak, on CPU the growth of the process's peak resident set (meaningful in a
    process whose peak so far is its current size: :func:`in_fresh_process`)."""
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        return max(torch.cuda.max_memory_allocated() - base, 0)
    base = _rss_bytes()
    fn()
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base, 0)


def saved_activation_bytes(fn: Callable[[], object]) -> int:
    """Bytes of the tensors autograd saves for backward while ``fn`` runs: each storage once,
    parameters (saved weights, not activations) excluded."""
    seen = {}

    def pack(t):
        if not isinstance(t, torch.nn.Parameter):
            storage = t.untyped_storage()
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(seen.values())


def in_fresh_process(fn: Callable, *args):
    """``fn(*args)`` in a new Python process (``fn`` importable by name); its exceptions are
    raised here."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn')) as pool:
        return pool.submit(fn, *args).result()


def mmdet_backbone_cfg(arch: str, **kwargs) -> dict:
    """mmdet 3.x's built-in backbone config of a pvt_mm arch (its family's ``mmdet_type``; mmdet
    has no linear-SRA variant)."""
    family, name = family_arch(arch)
    spec = family.archs[name]
    if family.mmdet_type is None:
        raise ValueError(f'mmdet has no built-in {family.backbone.__name__} ({arch})')
    if spec['linear_sra']:
        raise ValueError(f'mmdet has no linear-SRA PVT ({arch})')
    return dict(
        type=family.mmdet_type,
        embed_dims=spec['embed_dims'][0],
        num_layers=spec['depths'],
        mlp_ratios=spec['mlp_ratios'],
        **kwargs)


def build_backbone(impl: str, arch: str) -> torch.nn.Module:
    """The same architecture (``FAMILY-PRESET``, :mod:`pvt_mm.models.families`) in
    implementation ``impl`` (:data:`IMPLS`), returning the pyramid of feature maps."""
    family, name = family_arch(arch)
    spec = family.archs[name]
    if impl.startswith('pvt_mm'):
        options = pvt_mm_variant(impl)
        compiled = options.pop('compile', False)
        model = family.backbone(arch=name, drop_path_rate=0., **options)
        return torch.compile(model) if compiled else model
    if impl == 'reference':
        reference = family.build_reference(name)
        reference.forward = reference.forward_pyramid
        return reference
    if impl == 'timm':
        if family.timm_model is None:
            raise ValueError(f'timm has no {family.backbone.__name__} ({arch})')
        import timm
        return timm.create_model(
            family.timm_model.format(arch=name.replace('-', '_')), features_only=True)
    if impl == 'transformers':
        if not family.transformers:
            raise ValueError(f'transformers has no {family.backbone.__name__} that runs at any '
                             f'input size ({arch})')
        from transformers import PvtV2Backbone, PvtV2Config
        config = PvtV2Config(
            depths=spec['depths'],
            hidden_sizes=spec['embed_dims'],
            num_attention_heads=spec['num_heads'],
            mlp_ratios=spec['mlp_ratios'],
            sr_ratios=spec['sr_ratios'],
            linear_attention=spec['linear_sra'],
            out_features=['stage1', 'stage2', 'stage3', 'stage4'])

        class Transformers(PvtV2Backbone):

            def forward(self, x):
                return super().forward(x).feature_maps

        return Transformers(config)
    if impl != 'mmdet':
        raise ValueError(f'unknown implementation {impl!r}; one of {IMPLS}')
    import mmdet.models  # noqa: F401
    from mmdet.registry import MODELS

    # mmdet's registry whatever the current default scope (an mmseg run may have set it).
    return MODELS.build(dict(mmdet_backbone_cfg(arch, drop_path_rate=0.), _scope_='mmdet'))


def backbone_step(model: torch.nn.Module, x: torch.Tensor, device: str,
                  amp: bool) -> Callable[[], None]:
    """One training step of a backbone: forward, backward of fixed random gradients of all
    outputs (drawn once, the same for every implementation, as a real loss on them would give),
    gradients cleared. A scalar such as the sum of the outputs' means would not do: PVTv2 closes
    every stage with a LayerNorm, and at initialisation (weight 1, bias 0) its output's mean over
    each token is zero whatever its input, so every gradient below it would be rounding noise.
    """
    dtype = torch.float16 if device == 'cuda' else torch.bfloat16
    grads = []

    def step():
        with torch.autocast(device, dtype=dtype, enabled=amp):
            outs = model(x)
        if not grads:
            gen = torch.Generator().manual_seed(0)
            grads.extend(torch.randn(o.shape, generator=gen).to(o) for o in outs)
        torch.autograd.backward(list(outs), grads)
        model.zero_grad(set_to_none=True)

    return step


def _backbone_steps(impls: Sequence[str], arch: str, shape: Tuple[int, int], device: str, amp: bool,
                    batch: int) -> Dict[str, Callable[[], None]]:
    torch.manual_seed(0)
    x = torch.randn(batch, 3, *shape, device=device)
    return {
        impl: backbone_step(build_backbone(impl, arch).to(device).train(), x, device, amp)
        for impl in impls
    }


def backbone_memory(impl: str,
                    arch: str,
                    shape: Tuple[int, int],
                    device: str,
                    amp: bool,
                    batch: int = 1) -> int:
    """Peak extra memory of one training step of ``impl``'s backbone (run it
    :func:`in_fresh_process`)."""
    (step, ) = _backbone_steps([impl], arch, shape, device, amp, batch).values()
    return peak_extra_memory(step, device)


def backbone_times(impls: Sequence[str],
                   arch: str,
                   shape: Tuple[int, int],
                   device: str,
                   amp: bool,
                   rounds: int,
                   batch: int = 1) -> Dict[str, List[float]]:
    """Training step times of the implementations' backbones, interleaved, one warm-up round."""
    return interleaved_times(
        _backbone_steps(impls, arch, shape, device, amp, batch), rounds, device)


def kernel_table(impl: str,
                 arch: str,
                 shape: Tuple[int, int],
                 device: str,
                 amp: bool,
                 batch: int = 1,
                 rows: int = 10) -> str:
    """``torch.profiler``'s table of the ``rows`` kernels (CUDA) or operators (CPU) that take
    the most time in one training step of ``impl``'s backbone, after one warm-up step."""
    (step, ) = _backbone_steps([impl], arch, shape, device, amp, batch).values()
    step()
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device == 'cuda':
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        step()
        if device == 'cuda':
            torch.cuda.synchronize()
    key = 'cuda_time_total' if device == 'cuda' else 'cpu_time_total'
    if device == 'cuda' and not hasattr(prof.key_averages()[0], 'cuda_time_total'):
        key = 'device_time_total'  # newer torch's name
    return prof.key_averages().table(sort_by=key, row_limit=rows)


def toy_batch(cfg, shape: Tuple[int, int], batch: int = 1) -> dict:
    """``batch`` copies of one uint8 image and its annotations, as a dataloader hands them to
    ``train_step``: the config's toolbox's toy sample (a detector: three boxes, with masks where
    the training pipeline loads them; a segmentor: a random class map)."""
    entry = toolbox(cfg)  # an unknown toolbox is a named error
    h, w = shape
    gen = torch.Generator().manual_seed(0)
    img = torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8)
    meta = dict(img_shape=shape, ori_shape=shape, scale_factor=(1., 1.), pad_shape=shape)
    sample = entry.toy_sample(cfg, shape, meta, gen)
    return dict(inputs=[img] * batch, data_samples=[sample] * batch)


def whole_model_steps(cfg, model_cfg, data: dict, device: str) -> Dict[str, Callable[[], None]]:
    """``{'train': ..., 'test': ...}`` of ``model_cfg`` built in ``cfg``'s toolbox: one
    ``train_step`` (data preprocessor, losses, backward, the config's optimizer step) and one
    ``test_step`` on ``data``."""
    from mmengine.optim import build_optim_wrapper

    model = toolbox(cfg).model_registry().build(model_cfg).to(device)
    model.init_weights()
    wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))

    def train():
        model.train()
        model.train_step(copy.deepcopy(data), wrapper)

    def test():
        model.eval()
        with torch.no_grad():
            model.test_step(copy.deepcopy(data))

    return dict(train=train, test=test)


__all__ = [
    'IMPLS', 'VARIANT_OPTIONS', 'check_impl', 'kernel_table', 'pvt_mm_variant', 'backbone_memory',
    'backbone_step', 'backbone_times', 'build_backbone', 'in_fresh_process', 'interleaved_times',
    'mmdet_backbone_cfg', 'peak_extra_memory', 'saved_activation_bytes', 'time_call', 'toy_batch',
    'whole_model_steps'
]
