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
(explicit softmax(QK^T)V, ``nn.Linear`` q/kv, 4-D reshapes: the family's reference,
``pvt_mm.models.OfficialPVT``) vs timm's ``pvt_v2`` and Hugging Face transformers'
``PvtV2Backbone`` (PVTv2 archs), and pvt_mm with ``with_cp=True``:

    python tools/analysis_tools/benchmark.py --compare [--archs pvt-small pvtv2-b2] \
        [--shapes 512x512 800x1333] [--batch N] [--device cpu|cuda] [--amp] [--impls ...]

Times: the implementations are built in one process and their steps interleaved, so they share
the machine's state; the median over ``--steps`` rounds after one warm-up (CUDA: CUDA events).
Peak extra memory is what one step allocates beyond the model and its input, measured in a
fresh process per implementation: on CUDA ``torch.cuda.max_memory_allocated``, on CPU the growth
of the process's peak resident set. The measuring is :mod:`pvt_mm.benchmark`'s; this tool
prints it.
"""
import argparse
import copy
import logging
import resource
import statistics

import torch

from pvt_mm import benchmark as bench


def parse_args():
    from pvt_mm.models import arch_names
    parser = argparse.ArgumentParser(description='PVT speed and memory benchmark')
    parser.add_argument('config', nargs='?', help='benchmark this config\'s whole model')
    parser.add_argument(
        '--compare',
        action='store_true',
        help='compare PVT implementations: backbones, or with CONFIG the whole '
        'model against the same model on mmdet\'s PVT')
    parser.add_argument(
        '--archs',
        nargs='+',
        default=['pvt-small', 'pvtv2-b2'],
        choices=arch_names(),
        metavar='ARCH')
    parser.add_argument('--shapes', nargs='+', default=['512x512', '800x1333'])
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'))
    parser.add_argument(
        '--device', choices=['cpu', 'cuda'], default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', action='store_true', help='autocast (fp16 on CUDA, bf16 on CPU)')
    parser.add_argument('--steps', type=int, default=3, help='timed steps after one warm-up')
    parser.add_argument(
        '--batch', type=int, default=1, help='images per step (the configs train 1-4 per GPU)')
    parser.add_argument(
        '--profile',
        action='store_true',
        help='with --compare: torch.profiler\'s top-10 kernels of each '
        'implementation\'s backbone step')
    parser.add_argument(
        '--impls',
        nargs='+',
        default=list(bench.IMPLS),
        type=bench.check_impl,
        help=f'of {", ".join(bench.IMPLS)}, or pvt_mm[option=value,...]: the '
        'backbone with options (attn_backend, attn_query_groups, ffn_recompute; '
        'compile), e.g. pvt_mm[attn_query_groups=4]')
    return parser.parse_args()


def compare_backbones(args):
    """Every implementation's backbone training step: peak memory (a fresh process each), then
    the step times interleaved (one fresh process); the ratios to pvt_mm's."""
    rows = []
    print(
        f'{len(args.archs) * len(args.shapes)} settings x {len(args.impls)} implementations, '
        f'batch {args.batch}, on '
        f'{args.device} ({torch.get_num_threads()} threads), amp={"on" if args.amp else "off"}, '
        f'median of {args.steps} interleaved steps',
        flush=True)
    for arch in args.archs:
        for shape_text in args.shapes:
            shape = tuple(map(int, shape_text.split('x')))
            res = {}
            for impl in args.impls:
                try:
                    peak = bench.in_fresh_process(bench.backbone_memory, impl, arch, shape,
                                                  args.device, args.amp, args.batch)
                except (ValueError, ImportError) as err:  # an arch it lacks, or not installed
                    print(f'  {arch} {shape_text} {impl}: {err}', flush=True)
                    continue
                res[impl] = dict(peak=peak)
                print(
                    f'  {arch:10s} {shape_text:9s} {impl:12s} peak extra memory '
                    f'{peak / 2**20:7.0f} MiB',
                    flush=True)
            times = bench.in_fresh_process(bench.backbone_times, list(res), arch, shape,
                                           args.device, args.amp, args.steps, args.batch)
            for impl, rounds in times.items():
                res[impl].update(rounds=rounds, seconds=statistics.median(rounds))
                print(
                    f'  {arch:10s} {shape_text:9s} {impl:12s} step {res[impl]["seconds"]:7.3f} '
                    f's (rounds: {", ".join(f"{t:.3f}" for t in rounds)})',
                    flush=True)
            rows.append((arch, shape_text, res))
    print('\nratios (speed-up = their step time / pvt_mm\'s, median steps; memory = pvt_mm\'s / '
          'theirs):')
    others = ('mmdet', 'reference', 'timm', 'transformers')
    print(f'{"arch":10s} {"input":9s} ' + ''.join(f'{"vs " + o:>20s} '
                                                  for o in others) + f'{"with_cp: mem, time":>20s}')
    for arch, shape_text, res in rows:
        ours = res.get('pvt_mm')
        cells = []
        for other in others:
            theirs = res.get(other)
            cells.append(f'{theirs["seconds"] / ours["seconds"]:5.2f}x, '
                         f'{ours["peak"] / theirs["peak"]:4.2f}x mem' if ours and theirs else 'n/a')
        cp = res.get('pvt_mm+cp')
        cells.append(f'{cp["peak"] / ours["peak"]:4.2f}x, {cp["seconds"] / ours["seconds"]:4.2f}x'
                     if ours and cp else 'n/a')
        print(f'{arch:10s} {shape_text:9s} ' + ''.join(f'{c:>20s} ' for c in cells))
    variants = [impl for impl in args.impls if impl.startswith('pvt_mm') and impl != 'pvt_mm']
    if variants:
        print('\npvt_mm variants (speed-up = pvt_mm\'s step time / the variant\'s; memory = the '
              'variant\'s / pvt_mm\'s):')
        for arch, shape_text, res in rows:
            ours = res.get('pvt_mm')
            for impl in variants:
                theirs = res.get(impl)
                if ours and theirs:
                    print(f'  {arch:10s} {shape_text:9s} {impl:40s} '
                          f'{ours["seconds"] / theirs["seconds"]:5.2f}x, '
                          f'{theirs["peak"] / ours["peak"]:4.2f}x mem')
    if args.profile:
        for arch, shape_text, res in rows:
            peers = [i for i in others if i in res]
            fastest = min(peers, key=lambda i: res[i]['seconds']) if peers else None
            for impl in ['pvt_mm'] + ([fastest] if fastest else []):
                print(f'\nprofile: {arch} {shape_text} {impl} (one training step)')
                print(
                    bench.in_fresh_process(bench.kernel_table, impl, arch,
                                           tuple(map(int, shape_text.split('x'))), args.device,
                                           args.amp, args.batch))
    print('\nspeed-up per interleaved round (min-max), a measure of the machine\'s noise:')
    for arch, shape_text, res in rows:
        ours = res.get('pvt_mm')
        spans = []
        for other in others:
            theirs = res.get(other)
            if ours and theirs:
                r = [t / o for t, o in zip(theirs['rounds'], ours['rounds'])]
                spans.append(f'vs {other} {min(r):.2f}-{max(r):.2f}x')
        print(f'{arch:10s} {shape_text:9s} ' + ', '.join(spans))


def load(args):
    """The config with random backbone weights and the tool's precision; its toolbox's input
    shape (--shape, else 800x1333 for detection, 512x512 for segmentation) and batch."""
    from mmengine.logging import MMLogger

    from pvt_mm import apis, cli
    MMLogger.get_instance('benchmark', log_level=logging.WARNING)  # no weight-init report
    cfg = apis.load_config(args.config)
    cfg.model.backbone.init_cfg = None
    cli.set_precision(cfg, args.amp)
    shape = tuple(args.shape or apis.toolbox(cfg).train_shape)
    return cfg, shape, bench.toy_batch(cfg, shape, args.batch)


def compare_whole_models(args):
    """pvt_mm's config vs the same config on mmdet's PVT: interleaved train_step / test_step,
    and the saved activations of one training step."""
    import mmdet.models  # noqa: F401  (mmdet's PVT, also for mmseg configs)

    from pvt_mm.models import family_of
    cfg, shape, data = load(args)
    backbone = cfg.model.backbone
    try:
        family = family_of(backbone.type)
    except ValueError as err:
        raise SystemExit(f'--compare CONFIG needs a PVT / PVTv2 backbone: {err}') from None
    if backbone.get('arch') not in family.archs:
        raise SystemExit(f'--compare CONFIG needs a {backbone.type} backbone with a preset arch')
    mmdet_cfg = copy.deepcopy(cfg.model)
    try:
        mmdet_cfg.backbone = bench.mmdet_backbone_cfg(
            f'{family.name}-{backbone.arch}',
            drop_path_rate=backbone.get('drop_path_rate', 0.1),
            out_indices=tuple(backbone.get('out_indices', (0, 1, 2, 3))))
    except ValueError as err:
        raise SystemExit(f'--compare CONFIG: {err}') from None
    # mmdet's backbone, whichever toolbox the config is of.
    mmdet_cfg.backbone.type = 'mmdet.' + mmdet_cfg.backbone.type
    print(
        f'{args.config}: {shape[0]}x{shape[1]}, batch {args.batch}, {args.device} '
        f'({torch.get_num_threads()} threads); pvt_mm vs the same model on mmdet\'s '
        f'{mmdet_cfg.backbone.type.split(".")[-1]}; median of {args.steps} interleaved rounds',
        flush=True)
    torch.manual_seed(0)
    steps = {
        impl: bench.whole_model_steps(cfg, model_cfg, data, args.device)
        for impl, model_cfg in (('pvt_mm', cfg.model), ('mmdet', mmdet_cfg))
    }
    saved = {impl: bench.saved_activation_bytes(s['train']) for impl, s in steps.items()}
    times = bench.interleaved_times(
        {
            (impl, kind): fn
            for impl, s in steps.items()
            for kind, fn in s.items()
        }, args.steps, args.device)
    med = {key: statistics.median(t) for key, t in times.items()}
    for impl in steps:
        print(
            f'  {impl:7s} train_step {med[impl, "train"]:7.3f} s   test_step '
            f'{med[impl, "test"]:7.3f} s   saved activations {saved[impl] / 2**20:7.0f} MiB  '
            f'(rounds: train {", ".join(f"{t:.2f}" for t in times[impl, "train"])}; '
            f'test {", ".join(f"{t:.2f}" for t in times[impl, "test"])})',
            flush=True)
    ratios = dict(
        train=med['mmdet', 'train'] / med['pvt_mm', 'train'],
        test=med['mmdet', 'test'] / med['pvt_mm', 'test'],
        saved=saved['pvt_mm'] / saved['mmdet'])
    print(f'pvt_mm vs mmdet: training {ratios["train"]:.2f}x faster, inference '
          f'{ratios["test"]:.2f}x faster, {ratios["saved"]:.2f}x the saved activations')
    return ratios


def benchmark_config(args):
    """One config's whole model in this process: inference and training step times (median of
    --steps after one warm-up), the process's peak resident memory (CPU) or peak allocated memory
    (CUDA) over the training steps, and the saved activations of one training step."""
    cfg, shape, data = load(args)
    torch.manual_seed(0)
    steps = bench.whole_model_steps(cfg, cfg.model, data, args.device)
    print(
        f'{args.config}: {shape[0]}x{shape[1]}, batch {args.batch}, {args.device} '
        f'({torch.get_num_threads()} threads)',
        flush=True)
    test = bench.interleaved_times({'test': steps['test']}, args.steps, args.device)['test']
    print(f'inference: {1 / statistics.median(test):.2f} images/s', flush=True)
    if args.device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    train = bench.interleaved_times({'train': steps['train']}, args.steps, args.device)['train']
    peak = (
        torch.cuda.max_memory_allocated()
        if args.device == 'cuda' else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    saved = bench.saved_activation_bytes(steps['train'])
    print(f'training step: {statistics.median(train):.3f} s (steps: '
          f'{", ".join(f"{t:.2f}" for t in train)}), peak memory {peak / 2**20:.0f} MiB '
          f'({"allocated" if args.device == "cuda" else "process resident set"}), saved '
          f'activations {saved / 2**30:.2f} GiB')


def main():
    args = parse_args()
    if args.compare:
        return compare_whole_models(args) if args.config else compare_backbones(args)
    if not args.config:
        raise SystemExit('give a CONFIG, or --compare')
    return benchmark_config(args)


if __name__ == '__main__':
    from pvt_mm import cli
    cli.run_tool(main)
