"""What pvt_mm's command-line tools (``tools/``) share: loading a config of either toolbox,
fetching and checking checkpoints, turning the tools' options into config settings, starting
mmengine's Runner, and reporting a failure in one line (:func:`run_tool`).

The toolbox is the config's (``default_scope``; :mod:`pvt_mm.toolboxes` holds one entry each for
mmdet and mmseg), so one ``tools/train.py`` and one ``tools/test.py`` serve detection and
segmentation alike.
"""
import glob
import logging
import os
import os.path as osp
import re
import sys
import warnings
from typing import Callable, Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from . import compat  # noqa: F401  (refuses to run from a clone's shadowing folder)
from .engine import prepare_cpu_run
from .fileio import (ATOMIC_BACKEND, CheckpointError, WriteError, check_structure, read_checkpoint,
                     resolve_checkpoint)
from .toolboxes import load_config as load_toolbox_config
from .toolboxes import toolbox
from .utils import AnnotationError, MissingDependencyError, UnsupportedError, iter_dicts


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Config:
    """:func:`pvt_mm.apis.load_config` and the work dir: ``work_dir``, else the config's, else
    ``./work_dirs/<config name>``."""
    cfg = load_toolbox_config(path, cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


def setup_launcher(cfg: Config, launcher: str) -> None:
    """Record the launcher; on a machine without CUDA, make a distributed run work on CPU."""
    cfg.launcher = launcher
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = '0'
    if not torch.cuda.is_available():
        prepare_cpu_run(cfg)


def set_precision(cfg: Config, amp: bool = False) -> None:
    """Mixed precision through mmengine's ``AmpOptimWrapper`` (dynamic loss scale), asked for by
    ``--amp`` or by the config (the official fp16 recipes). That wrapper needs CUDA: on a machine
    without it the run trains in fp32, and says so in one log line."""
    if amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if cfg.optim_wrapper.get('type') != 'AmpOptimWrapper' or torch.cuda.is_available():
        return
    for key in ('loss_scale', 'dtype'):
        cfg.optim_wrapper.pop(key, None)
    cfg.optim_wrapper.type = 'OptimWrapper'
    print_log(
        'No CUDA: mixed precision (AmpOptimWrapper) needs a CUDA device; this run trains '
        'in fp32 (OptimWrapper).',
        logger='current',
        level=logging.WARNING)


def set_resume(cfg: Config, resume: Optional[str]) -> None:
    """``--resume``: ``'auto'`` continues from the work dir's newest complete checkpoint
    (:func:`find_resumable_checkpoint`; none: training starts afresh), a path from that file.
    Without it, the config's ``load_from`` (a path, URL or ``hf-hub:`` reference) is fetched
    and checked now."""
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, find_resumable_checkpoint(cfg.work_dir)
    elif resume is not None:
        cfg.resume, cfg.load_from = True, check_checkpoint(resume, resumable=True)
    elif cfg.get('load_from'):
        cfg.load_from = check_checkpoint(cfg.load_from)


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``last_checkpoint`` names or, if that one is missing or damaged (a job
    killed while saving with a tool that does not save atomically, a disk that filled up), the
    newest complete ``epoch_N.pth`` / ``iter_N.pth``, saying so; None if there is none. A work
    dir holding only damaged checkpoints is an error naming each."""
    named = None
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            named = f.read().strip() or None

    numbered = {}  # epoch_N.pth / iter_N.pth (not epoch_best.pth and the like): N
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        found = re.fullmatch(r'(?:epoch|iter)_(\d+)\.pth', osp.basename(path))
        if found:
            numbered[path] = int(found[1])
    saved = sorted(numbered, key=numbered.get, reverse=True)
    candidates = ([named] if named else []) + [p for p in saved if p != named]
    problems = []
    for path in candidates:
        try:
            check_checkpoint(path, resumable=True)
        except (CheckpointError, FileNotFoundError) as err:
            problems.append(str(err))
            continue
        if problems:
            print_log(
                f'{problems[0]}; resuming from {path} instead.',
                logger='current',
                level=logging.WARNING)
        return path
    if problems:
        raise CheckpointError(f'--resume: no complete checkpoint in {work_dir}: ' +
                              '; '.join(problems))
    return None


class WorkDirError(RuntimeError):
    """A work dir that cannot be created or written."""


def prepare_work_dir(cfg: Config) -> None:
    """Create the work dir and write to it now, so that a directory that cannot hold logs and
    checkpoints fails at start, naming it, rather than at the first checkpoint."""
    path = cfg.work_dir
    try:
        os.makedirs(path, exist_ok=True)
        probe = osp.join(path, f'.write-test-{os.getpid()}')
        with open(probe, 'wb') as f:
            f.write(b'pvt_mm')
        os.remove(probe)
    except OSError as err:
        raise WorkDirError(f'work dir {path}: cannot be created or written '
                           f'({err.strerror or err})') from None


# Third-party warnings that tell a tool's user nothing they can act on, silenced by
# :func:`run_tool` for the tool's process (a library that imports pvt_mm keeps its own filters).
KNOWN_WARNINGS = [
    # setuptools, when mmengine parses configs with mmdet:: / mmseg:: bases (five lines).
    (UserWarning, r'pkg_resources is deprecated as an API'),
]


def run_tool(main: Callable[[], None]) -> None:
    """Run a tool's ``main`` with :data:`KNOWN_WARNINGS` silenced: a bad checkpoint, work dir,
    annotation file, missing file or dependency, or a failed write ends it with one line that
    names the file (exit status 1), not a traceback."""
    for category, message in KNOWN_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=category)
    try:
        main()
    except WriteError as err:
        raise SystemExit(f'error: {err.strerror}') from None
    except (CheckpointError, WorkDirError, FileNotFoundError, MissingDependencyError,
            AnnotationError, UnsupportedError) as err:
        raise SystemExit(f'error: {err}') from None


def check_checkpoint_fit(cfg: Config, require: str) -> None:
    """Check loaded checkpoints against the model (:class:`~pvt_mm.engine.CheckpointFitHook`),
    requiring ``'all'`` its tensors or ``'any'``; added if the config lacks the hook."""
    hooks = [h for h in cfg.get('custom_hooks', []) if h.get('type') == 'CheckpointFitHook']
    if not hooks:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(type='CheckpointFitHook')]
        hooks = cfg.custom_hooks[-1:]
    for hook in hooks:
        hook['require'] = require


def check_checkpoint(path: str, resumable: bool = False) -> str:
    """The local file for a checkpoint reference, checked: an http(s) URL or ``hf-hub:``
    reference is fetched first (:func:`~pvt_mm.fileio.resolve_checkpoint`); a missing file, one
    that is not a complete checkpoint, or (``resumable``) one that lacks what mmengine's resume
    reads, fails now, naming it (a cheap check: a zip-format checkpoint's tensors are mapped,
    not read)."""
    path = resolve_checkpoint(path)
    check_structure(read_checkpoint(path, mmap=True), path, resumable)
    return path


def check_init_checkpoints(cfg: Config) -> None:
    """Fetch and check every ``init_cfg`` checkpoint of the model now (``Pretrained``), so that
    a missing, damaged or hostile pretrained file fails at start, naming it, not after the
    dataset and model are built; each URL or ``hf-hub:`` reference is replaced by its local
    file."""
    for node in iter_dicts(cfg.get('model', {})):
        if node.get('type') == 'Pretrained' and node.get('checkpoint'):
            node['checkpoint'] = check_checkpoint(node['checkpoint'])


def write_checkpoints_atomically(cfg: Config) -> None:
    """Checkpoints (and ``last_checkpoint``) written through pvt_mm's ``'atomic_local'`` file
    backend: a temporary name renamed into place, so that a kill or a full disk never leaves a
    half-written checkpoint under its final name. A CheckpointHook given other ``backend_args``
    (another storage) keeps them."""
    hook = cfg.get('default_hooks', {}).get('checkpoint')
    if hook is not None and not hook.get('backend_args'):
        hook.backend_args = dict(backend=ATOMIC_BACKEND)


# torch 2.1.2 fails with mmengine's compile on the quickstart config (TorchDynamo, in mmengine's
# stack_batch) and with inductor on the backbone (a stride assertion in its code for
# scaled_dot_product_attention); torch 2.13 trains (tests/test_compile.py). Versions in between
# are not tested.
COMPILE_MIN_TORCH = '2.2'


def check_compile(cfg: Config) -> None:
    """``compile=True`` (or a dict of ``torch.compile`` arguments, mmengine's ``compile``): stop
    now, in one line, where it cannot work, rather than at the first iteration with the
    compiler's traceback: a torch older than :data:`COMPILE_MIN_TORCH`, a Python that TorchDynamo
    does not support on this torch, or no C++ compiler for inductor's CPU kernels."""
    setting = cfg.get('compile')
    if not setting:
        return
    import shutil

    import torch._dynamo
    from mmengine.utils import digit_version
    if digit_version(torch.__version__) < digit_version(COMPILE_MIN_TORCH):
        raise UnsupportedError(
            f'compile: torch {torch.__version__} cannot compile these models (TorchDynamo fails '
            "on mmengine's batch stacking, inductor's CPU attention fails its own stride check); "
            f'use torch >= {COMPILE_MIN_TORCH} (2.13 is tested) or leave compile out')
    if not torch._dynamo.is_dynamo_supported():
        raise UnsupportedError(
            f'compile: torch {torch.__version__} cannot compile on this Python '
            f'({sys.version.split()[0]}); leave compile out, or use a torch that supports it')
    backend = setting.get('backend', 'inductor') if isinstance(setting, dict) else 'inductor'
    compilers = [os.environ.get('CXX'), 'c++', 'g++', 'clang++']
    if backend == 'inductor' and not torch.cuda.is_available() and not any(
            c and shutil.which(c) for c in compilers):
        raise UnsupportedError(
            'compile: inductor builds its CPU kernels with a C++ compiler, and none was found '
            '($CXX, c++, g++, clang++); install one (Debian/Ubuntu: apt install g++), or set '
            "compile=dict(backend='aot_eager')")


def enable_auto_scale_lr(cfg: Config) -> None:
    if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
        raise RuntimeError('--auto-scale-lr: the config has no auto_scale_lr.base_batch_size')
    cfg.auto_scale_lr.enable = True


def enable_visualization(cfg: Config,
                         show: bool,
                         show_dir: Optional[str],
                         wait_time: float = 2.) -> None:
    """Draw test predictions: in a window (``show``) and/or as images under ``show_dir``."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise RuntimeError('--show/--show-dir need a visualization hook in default_hooks')
    hook.draw = True
    if show:
        hook.show, hook.wait_time = True, wait_time
    if show_dir:
        toolbox(cfg).set_show_dir(cfg, show_dir)


def enable_tta(cfg: Config) -> None:
    """Test-time augmentation with the config's ``tta_model`` and ``tta_pipeline``."""
    missing = [k for k in ('tta_model', 'tta_pipeline') if k not in cfg]
    if missing:
        raise RuntimeError(f'--tta: the config defines no {" / ".join(missing)} '
                           f'({toolbox(cfg).name} supports TTA where the config provides them)')
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def build_runner(cfg: Config):
    """mmengine's Runner (or the config's ``runner_type``)."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def set_output(cfg: Config, out: Optional[str]) -> None:
    """``--out``: detection results to a pickle; segmentation predictions as PNGs in a dir."""
    if out is not None:
        toolbox(cfg).set_output(cfg, out)


def common_args(parser) -> None:
    """The arguments train.py and test.py share (mmdet/mmseg spelling)."""
    from mmengine.config import DictAction
    parser.add_argument('--work-dir', help='directory for logs and checkpoints')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (e.g. model.backbone.arch=small)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
