"""Speed and memory of pvt_mm models, and side-by-sides with other PVT implementations.

A config's whole model (inference images/s; training step time; peak memory; autograd's saved
activations):

    python tools/analysis_tools/benchmark.py CONFIG [--device cpu|cuda] [--amp] [--shape H W]
        [--batch N] [--steps N]

Whole model, pvt_mm vs mmdet: the config as shipped against the same config with mmdet 3.x's
built-in ``PyramidVisionTransformer(V2)`` of the same architecture as its backbone, on the same
input, interleaved in one process: one training iteration (``train_step``: data preprocessor,
backbone, neck, heads, losses, backward, AdamW step) and one inference ``test_step`` each, the
median of ``--steps`` rounds after one warm-up, and autograd's saved-activation bytes of one
training step (every tensor saved for backward, parameters excluded, each storage once):

    python tools/analysis_tools/benchmark.py CONFIG --compare [--shape H W] [--batch N] [--steps N]

Backbone training step (forward + backward), same arch and input: pvt_mm vs mmdet 3.x's
built-in ``PyramidVisionTransformer(V2)`` vs a reference written the way the official code is
(explicit softmax(QK^T)V, ``nn.Linear`` q/kv, 4-D reshapes; ``pvt_mm.testing.OfficialPVT``) vs
Hugging Face transformers' ``PvtV2Backbone`` (PVTv2 archs), and pvt_mm with ``with_cp=True``:

    python tools/analysis_tools/benchmark.py --compare [--archs pvt-small pvtv2-b2] \
        [--shapes 512x512 800x1333] [--device cpu|cuda] [--amp] [--impls ...]

Times: the implementations are built in one process and their steps interleaved, so they share
the machine's state; the median over ``--steps`` rounds after one warm-up (CUDA: CUDA events).
Peak extra memory is what one step allocates beyond the model and its input, measured in a
fresh process per implementation: on CUDA ``torch.cuda.max_memory_allocated``, on CPU the growth
of the process's peak resident set.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch

IMPLS = ('pvt_mm', 'mmdet', 'reference', 'transformers', 'pvt_mm+cp')


def parse_args():
    parser = argparse.ArgumentParser(description='PVT speed and memory benchmark')
    parser.add_argument('config', nargs='?', help='benchmark this config\'s whole model')
    parser.add_argument('--compare', action='store_true',
                        help='compare PVT implementations: backbones, or with CONFIG the whole '
                        'model against the same model on mmdet\'s PVT')
    from pvt_mm.models import ARCH_NAMES
    parser.add_argument('--archs', nargs='+', default=['pvt-small', 'pvtv2-b2'],
                        choices=ARCH_NAMES, metavar='ARCH')
    parser.add_argument('--shapes', nargs='+', default=['512x512', '800x1333'])
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'))
    parser.add_argument('--device', choices=['cpu', 'cuda'],
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', action='store_true', help='autocast (fp16 on CUDA, bf16 on CPU)')
    parser.add_argument('--steps', type=int, default=3, help='timed steps after one warm-up')
    parser.add_argument('--batch', type=int, default=1,
                        help='CONFIG modes: images per step (the configs train 1-4 per GPU)')
    parser.add_argument('--impls', nargs='+', default=list(IMPLS), choices=IMPLS)
    parser.add_argument('--one', help=argparse.SUPPRESS)  # internal: a single measurement
    return parser.parse_args()


def mmdet_backbone_cfg(arch, **kwargs):
    """mmdet 3.x's ``PyramidVisionTransformer(V2)`` config of a pvt_mm arch (mmdet has no
    linear-SRA variant)."""
    from pvt_mm.models import PVTv2, backbone_arch
    cls, name = backbone_arch(arch)
    spec = cls.arch_settings[name]
    if spec['linear_sra']:
        raise SystemExit(f'mmdet has no linear-SRA PVT ({arch})')
    return dict(type='PyramidVisionTransformer' + ('V2' if cls is PVTv2 else ''),
                embed_dims=spec['embed_dims'][0], num_layers=spec['depths'],
                mlp_ratios=spec['mlp_ratios'], **kwargs)


def build_backbone(impl, arch):
    """The same architecture in each implementation (mmdet has no linear-SRA variant)."""
    from pvt_mm.models import PVT, backbone_arch
    cls, name = backbone_arch(arch)
    spec = cls.arch_settings[name]
    if impl.startswith('pvt_mm'):
        return cls(arch=name, drop_path_rate=0., with_cp=impl.endswith('+cp'))
    if impl == 'reference':
        from pvt_mm.testing import OfficialPVT

        class Reference(OfficialPVT):
            forward = OfficialPVT.forward_pyramid

        return Reference(1 if cls is PVT else 2, **spec)
    if impl == 'transformers':
        if cls is PVT:
            raise RuntimeError('transformers\' PVT v1 runs at its configured image size only')
        from transformers import PvtV2Backbone, PvtV2Config
        config = PvtV2Config(
            depths=spec['depths'], hidden_sizes=spec['embed_dims'],
            num_attention_heads=spec['num_heads'], mlp_ratios=spec['mlp_ratios'],
            sr_ratios=spec['sr_ratios'], linear_attention=spec['linear_sra'],
            out_features=['stage1', 'stage2', 'stage3', 'stage4'])

        class Transformers(PvtV2Backbone):

            def forward(self, x):
                return super().forward(x).feature_maps

        return Transformers(config)
    import mmdet.models  # noqa: F401
    from mmdet.registry import MODELS
    # mmdet's registry whatever the current default scope (an mmseg run may have set it).
    return MODELS.build(dict(mmdet_backbone_cfg(arch, drop_path_rate=0.), _scope_='mmdet'))


def _rss_bytes():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def _sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def make_step(model, x, device, amp, random_grads=True):
    """One training step: forward, backward, gradients cleared.

    ``random_grads``: backpropagate fixed random gradients of all outputs (drawn once, the same
    for every implementation), as a real loss on them would give. A scalar such as the sum of
    the outputs' means would not do: PVTv2 closes every stage with a LayerNorm, and at
    initialisation (weight 1, bias 0) its output's mean over each token is zero whatever its
    input, so every gradient below it would be rounding noise. Otherwise ``model`` returns
    scalar losses and they are summed.
    """
    dtype = torch.float16 if device == 'cuda' else torch.bfloat16
    grads = []

    def step():
        with torch.autocast(device, dtype=dtype, enabled=amp):
            outs = model(x)
        if not random_grads:
            sum(o.float().sum() for o in outs).backward()
        else:
            if not grads:
                gen = torch.Generator().manual_seed(0)
                grads.extend(torch.randn(o.shape, generator=gen).to(o) for o in outs)
            torch.autograd.backward(list(outs), grads)
        model.zero_grad(set_to_none=True)

    return step


def peak_extra_memory(step, device):
    """Bytes one call of ``step`` needs beyond what is allocated before it."""
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        return max(torch.cuda.max_memory_allocated() - base, 0)
    base = _rss_bytes()
    step()
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base, 0)


def time_step(step, device):
    if device == 'cuda':
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1000
    t = time.perf_counter()
    step()
    return time.perf_counter() - t


def run_one(spec):
    """Internal: ``memory|impl|arch|HxW|device|amp`` or ``time|impl,impl|arch|HxW|device|amp|N``."""
    mode, impls, arch, shape, device, amp, *steps = spec.split('|')
    h, w = map(int, shape.split('x'))
    torch.manual_seed(0)
    x = torch.randn(1, 3, h, w, device=device)
    stepper = {impl: make_step(build_backbone(impl, arch).to(device).train(), x, device,
                               amp == '1') for impl in impls.split(',')}
    if mode == 'memory':
        (step, ) = stepper.values()
        print(json.dumps(dict(peak=peak_extra_memory(step, device))))
        return
    for step in stepper.values():
        step()  # warm-up
    times = {impl: [] for impl in stepper}
    for _ in range(int(steps[0])):
        for impl, step in stepper.items():
            times[impl].append(time_step(step, device))
    print(json.dumps(dict(times=times)))


def _subprocess(spec):
    proc = subprocess.run([sys.executable, __file__, '--one', spec], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONWARNINGS='ignore'))
    if proc.returncode:
        raise RuntimeError(proc.stderr.strip()[-400:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(args):
    rows = []
    amp = str(int(args.amp))
    print(f'{len(args.archs) * len(args.shapes)} settings x {len(args.impls)} implementations on '
          f'{args.device} ({torch.get_num_threads()} threads), amp={"on" if args.amp else "off"}, '
          f'median of {args.steps} interleaved steps', flush=True)
    for arch in args.archs:
        for shape in args.shapes:
            impls = list(args.impls)
            res = {impl: {} for impl in impls}
            for impl in list(impls):
                try:
                    res[impl]['peak'] = _subprocess(
                        '|'.join(['memory', impl, arch, shape, args.device, amp]))['peak']
                except RuntimeError as err:
                    print(f'  {arch} {shape} {impl}: {err}', flush=True)
                    impls.remove(impl)
                    del res[impl]
                    continue
                print(f'  {arch:10s} {shape:9s} {impl:12s} peak extra memory '
                      f'{res[impl]["peak"] / 2**20:7.0f} MiB', flush=True)
            timed = _subprocess('|'.join(['time', ','.join(impls), arch, shape, args.device,
                                          amp, str(args.steps)]))
            for impl, rounds in timed['times'].items():
                res[impl]['rounds'] = rounds
                res[impl]['seconds'] = seconds = statistics.median(rounds)
                print(f'  {arch:10s} {shape:9s} {impl:12s} step {seconds:7.3f} s '
                      f'(rounds: {", ".join(f"{t:.3f}" for t in rounds)})', flush=True)
            rows.append((arch, shape, res))
    print('\nratios (speed-up = their step time / pvt_mm\'s, median steps; memory = pvt_mm\'s / '
          'theirs):')
    others = ('mmdet', 'reference', 'transformers')
    print(f'{"arch":10s} {"input":9s} ' + ''.join(f'{"vs " + o:>20s} ' for o in others) +
          f'{"with_cp: mem, time":>20s}')
    for arch, shape, res in rows:
        ours = res.get('pvt_mm')
        cells = []
        for other in others:
            theirs = res.get(other)
            cells.append(f'{theirs["seconds"] / ours["seconds"]:5.2f}x, '
                         f'{ours["peak"] / theirs["peak"]:4.2f}x mem' if ours and theirs else
                         'n/a')
        cp = res.get('pvt_mm+cp')
        cells.append(f'{cp["peak"] / ours["peak"]:4.2f}x, {cp["seconds"] / ours["seconds"]:4.2f}x'
                     if ours and cp else 'n/a')
        print(f'{arch:10s} {shape:9s} ' + ''.join(f'{c:>20s} ' for c in cells))
    print('\nspeed-up per interleaved round (min-max), a measure of the machine\'s noise:')
    for arch, shape, res in rows:
        ours = res.get('pvt_mm')
        spans = []
        for other in others:
            theirs = res.get(other)
            if ours and theirs:
                r = [t / o for t, o in zip(theirs['rounds'], ours['rounds'])]
                spans.append(f'vs {other} {min(r):.2f}-{max(r):.2f}x')
        print(f'{arch:10s} {shape:9s} ' + ', '.join(spans))


def saved_activation_bytes(fn):
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


def _toy_batch(cfg, scope, shape, device, batch=1):
    """``batch`` copies of one uint8 image and its annotations, as a dataloader hands them to
    ``train_step``."""
    import numpy as np
    h, w = shape
    gen = torch.Generator().manual_seed(0)
    img = torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8)
    meta = dict(img_shape=shape, ori_shape=shape, scale_factor=(1., 1.), pad_shape=shape)
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        sample = DetDataSample(metainfo=meta)
        boxes = torch.tensor([[0.05, 0.1, 0.3, 0.45], [0.5, 0.2, 0.9, 0.7], [0.2, 0.6, 0.45, 0.95]])
        boxes = boxes * torch.tensor([w, h, w, h])
        sample.gt_instances = InstanceData(bboxes=boxes, labels=torch.tensor([0, 1, 2]))
        if 'roi_head' in cfg.model and cfg.model.roi_head.get('mask_head'):
            from mmdet.structures.mask import BitmapMasks
            masks = np.zeros((3, h, w), np.uint8)
            for m, (x0, y0, x1, y1) in zip(masks, boxes.int().tolist()):
                m[y0:y1, x0:x1] = 1
            sample.gt_instances.masks = BitmapMasks(masks, h, w)
    else:
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        sample = SegDataSample(metainfo=meta)
        sample.gt_sem_seg = PixelData(data=torch.randint(
            0, cfg.model.decode_head.num_classes, (1, h, w), generator=gen))
    return dict(inputs=[img] * batch, data_samples=[sample] * batch)


def compare_whole_models(args):
    """pvt_mm's config vs the same config on mmdet's PVT: interleaved train_step / test_step."""
    import copy

    import logging

    from mmengine.logging import MMLogger
    from mmengine.optim import build_optim_wrapper

    from pvt_mm import PVT, PVTv2, apis, cli
    MMLogger.get_instance('benchmark', log_level=logging.WARNING)  # no weight-init report
    cfg = apis.load_config(args.config)
    scope = apis.toolbox(cfg)
    registry = apis.model_registry(cfg)
    import mmdet.models  # noqa: F401  (mmdet's PVT, also for mmseg configs)
    shape = tuple(args.shape or ((800, 1333) if scope == 'mmdet' else (512, 512)))
    backbone = cfg.model.backbone
    cls = {'PVT': PVT, 'PVTv2': PVTv2}.get(backbone.type)
    if cls is None or backbone.get('arch') not in cls.arch_settings:
        raise SystemExit('--compare CONFIG needs a PVT / PVTv2 backbone with a preset arch')
    arch = f'{backbone.type.lower()}-{backbone.arch}'
    mmdet_cfg = copy.deepcopy(cfg.model)
    mmdet_cfg.backbone = mmdet_backbone_cfg(
        arch, drop_path_rate=backbone.get('drop_path_rate', 0.1),
        out_indices=tuple(backbone.get('out_indices', (0, 1, 2, 3))))
    if scope != 'mmdet':
        mmdet_cfg.backbone.type = 'mmdet.' + mmdet_cfg.backbone.type
    cfg.model.backbone.init_cfg = None
    cli.set_precision(cfg, args.amp)
    print(f'{args.config}: {shape[0]}x{shape[1]}, batch {args.batch}, {args.device} '
          f'({torch.get_num_threads()} threads); pvt_mm vs the same model on mmdet\'s '
          f'{mmdet_cfg.backbone.type.split(".")[-1]}; median of {args.steps} interleaved rounds',
          flush=True)
    torch.manual_seed(0)
    runs = {}
    for impl, model_cfg in (('pvt_mm', cfg.model), ('mmdet', mmdet_cfg)):
        model = registry.build(model_cfg).to(args.device)
        model.init_weights()
        wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
        runs[impl] = (model, wrapper)
    data = _toy_batch(cfg, scope, shape, args.device, args.batch)

    def train(impl):
        model, wrapper = runs[impl]
        model.train()
        model.train_step(copy.deepcopy(data), wrapper)

    def infer(impl):
        model = runs[impl][0]
        model.eval()
        with torch.no_grad():
            model.test_step(copy.deepcopy(data))

    saved = {impl: saved_activation_bytes(lambda: train(impl)) for impl in runs}
    times = {(impl, kind): [] for impl in runs for kind in ('train', 'test')}
    for _ in range(args.steps + 1):  # the first round warms up
        for impl in runs:
            for kind, fn in (('train', train), ('test', infer)):
                times[impl, kind].append(time_step(lambda: fn(impl), args.device))
    med = {key: statistics.median(t[1:]) for key, t in times.items()}
    for impl in runs:
        print(f'  {impl:7s} train_step {med[impl, "train"]:7.3f} s   test_step '
              f'{med[impl, "test"]:7.3f} s   saved activations {saved[impl] / 2**20:7.0f} MiB  '
              f'(rounds: train {", ".join(f"{t:.2f}" for t in times[impl, "train"][1:])}; '
              f'test {", ".join(f"{t:.2f}" for t in times[impl, "test"][1:])})', flush=True)
    ratios = dict(train=med['mmdet', 'train'] / med['pvt_mm', 'train'],
                  test=med['mmdet', 'test'] / med['pvt_mm', 'test'],
                  saved=saved['pvt_mm'] / saved['mmdet'])
    print(f'pvt_mm vs mmdet: training {ratios["train"]:.2f}x faster, inference '
          f'{ratios["test"]:.2f}x faster, {ratios["saved"]:.2f}x the saved activations')
    return ratios


def benchmark_config(args):
    """One config's whole model in this process: inference (``test_step``) and training
    (``train_step``: data preprocessor, losses, backward, optimizer step) times, median of
    ``--steps`` after one warm-up, and the process's peak resident memory (CPU) or the peak
    allocated memory (CUDA) over the training steps."""
    import copy
    import logging

    from mmengine.logging import MMLogger
    from mmengine.optim import build_optim_wrapper

    from pvt_mm import apis, cli
    MMLogger.get_instance('benchmark', log_level=logging.WARNING)  # no weight-init report
    cfg = apis.load_config(args.config)
    cfg.model.backbone.init_cfg = None
    cli.set_precision(cfg, args.amp)
    scope = apis.toolbox(cfg)
    registry = apis.model_registry(cfg)
    shape = tuple(args.shape or ((800, 1333) if scope == 'mmdet' else (512, 512)))
    torch.manual_seed(0)
    model = registry.build(cfg.model)
    model = model.to(args.device)
    model.init_weights()
    wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    data = _toy_batch(cfg, scope, shape, args.device, args.batch)
    print(f'{args.config}: {shape[0]}x{shape[1]}, batch {args.batch}, {args.device} '
          f'({torch.get_num_threads()} threads)', flush=True)
    model.eval()
    with torch.no_grad():
        times = [time_step(lambda: model.test_step(copy.deepcopy(data)), args.device)
                 for _ in range(args.steps + 1)]
    print(f'inference: {1 / statistics.median(times[1:]):.2f} images/s', flush=True)
    model.train()
    if args.device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    times = [time_step(lambda: model.train_step(copy.deepcopy(data), wrapper), args.device)
             for _ in range(args.steps + 1)]
    peak = (torch.cuda.max_memory_allocated() if args.device == 'cuda' else
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    saved = saved_activation_bytes(lambda: model.train_step(copy.deepcopy(data), wrapper))
    print(f'training step: {statistics.median(times[1:]):.3f} s (steps: '
          f'{", ".join(f"{t:.2f}" for t in times)}), peak memory {peak / 2**20:.0f} MiB '
          f'({"allocated" if args.device == "cuda" else "process resident set"}), saved '
          f'activations {saved / 2**30:.2f} GiB')


def main():
    args = parse_args()
    if args.one:
        return run_one(args.one)
    if args.compare:
        return compare_whole_models(args) if args.config else compare(args)
    if not args.config:
        raise SystemExit('give a CONFIG, or --compare')
    return benchmark_config(args)


if __name__ == '__main__':
    from pvt_mm import cli
    cli.run_tool(main)
