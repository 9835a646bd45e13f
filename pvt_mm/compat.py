"""Compatibility fixes for the stack pvt_mm supports (torch 2.x, mmengine 0.10, mmdet 3.3,
mmseg 1.2). Every fix lives here, is applied by ``import pvt_mm``, and has a test.

1. ``torch.load`` defaults to ``weights_only=True`` since torch 2.6, and mmengine 0.10.7's own
   checkpoints (``message_hub`` holds ``HistoryBuffer`` objects with numpy arrays; ``meta`` may
   hold numpy scalars) then fail to load, which breaks ``--resume`` and ``tools/test.py``. We keep
   ``weights_only=True`` and allow-list exactly the globals those checkpoints contain, so a
   checkpoint still cannot run code.
2. mmengine 0.10.7 assumes CUDA once a run is distributed: ``init_dist`` calls
   ``torch.cuda.set_device``, DDP gets ``device_ids=[LOCAL_RANK]``, configs default to the
   ``nccl`` backend, and SyncBN has no CPU kernel. :func:`prepare_cpu_run` makes a torchrun
   launch on a CPU-only machine use gloo and plain PyTorch DDP, without changing mmengine.
3. mmengine's ``get_installed_path`` assumes a package lives in its distribution's location;
   a PEP 660 editable install (``pip install -e .`` with setuptools >= 64) puts it elsewhere,
   so ``pvt_mm::`` (or ``mmdet::`` from an editable mmdet) config bases are not found. Where
   that path does not exist we take the imported module's own directory.
0. A folder named ``pvt_mm`` in the current directory (a clone of the repository) is imported as
   an empty namespace package ahead of an editable install, so ``pvt_mm/__init__.py`` (the
   registration) never runs and configs fail later with an mmengine assertion.
   :func:`check_not_shadowed` fails at once instead, naming the folder and the fix.
4. mmengine's local file backend writes in place, so a job killed (or a disk filling up) while
   saving leaves a half-written ``epoch_N.pth`` under its final name. pvt_mm's local backend
   writes every file through a temporary name renamed into place: a checkpoint is whole or
   absent, and a failed write names the file and leaves the previous one untouched.
"""
import datetime
import importlib.util
import os
import os.path as osp
import pickle
import sys

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import HistoryBuffer


def _history_buffer_getattr(owner, name):
    """``getattr`` as HistoryBuffer pickles its statistics methods, limited to exactly those.

    ``HistoryBuffer.__getstate__`` stores ``{'min': HistoryBuffer.min, ...}``, which pickle
    writes as ``builtins.getattr(HistoryBuffer, 'min')``. A general ``getattr`` must never be
    allowed in a weights-only load, so this one resolves HistoryBuffer's public methods only.
    """
    if owner is HistoryBuffer and not name.startswith('_') and callable(
            getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}) in a weights-only checkpoint load')


def _numpy_globals():
    """numpy's array and scalar reconstructors, under both the numpy 1.x and 2.x module paths."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    found = [np.ndarray, np.dtype]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        found += [(multiarray._reconstruct, f'{module}._reconstruct'),
                  (multiarray.scalar, f'{module}.scalar')]
    # numpy >= 1.25 pickles some dtypes through their classes (numpy.dtypes.Float64DType ...).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        found += [cls for name, cls in vars(dtypes).items()
                  if name.endswith('DType') and isinstance(cls, type)]
    return found


def checkpoint_safe_globals():
    """Every global an mmengine / mmdet / mmseg checkpoint needs beyond torch's defaults."""
    return [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')] + _numpy_globals()


def allow_mmengine_checkpoints():
    """Fix 1: let ``torch.load(weights_only=True)`` read mmengine checkpoints."""
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(checkpoint_safe_globals())


def _sync_bn_to_bn(node) -> int:
    """Replace ``type='SyncBN'`` norm configs by ``'BN'`` in place; return how many."""
    count = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            count += 1
        for value in node.values():
            count += _sync_bn_to_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += _sync_bn_to_bn(value)
    return count


def prepare_cpu_run(cfg) -> None:
    """Fix 2: run a config on a machine without CUDA, also under ``torchrun`` (gloo + DDP)."""
    if cfg.get('launcher', 'none') == 'none':
        return  # mmengine already reverts SyncBN and uses the CPU when not distributed
    if cfg.launcher != 'pytorch':
        raise RuntimeError(f'--launcher {cfg.launcher} needs CUDA with mmengine 0.10; on a CPU '
                           'machine launch with torchrun (tools/dist_train.sh, --launcher '
                           'pytorch)')
    import torch.distributed as dist
    from mmengine.logging import print_log
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    if not dist.is_initialized():
        # mmengine then skips its own init_dist (and its torch.cuda.set_device).
        kwargs = {k: v for k, v in dist_cfg.items() if k != 'backend'}
        if 'timeout' in kwargs:  # seconds in mmengine configs
            kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
        dist.init_process_group(backend=dist_cfg['backend'], **kwargs)
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None  # DDP of a CPU module
    cfg.model_wrapper_cfg = wrapper
    if _sync_bn_to_bn(cfg.model):
        print_log('No CUDA: SyncBN layers are built as BN (per-process batch statistics).',
                  logger='current', level=30)


def _locate_package(get_installed_path):

    def located(package: str) -> str:
        path = get_installed_path(package)
        if not osp.isdir(path):
            spec = importlib.util.find_spec(osp.basename(path))
            if spec is not None and spec.origin is not None:
                return osp.dirname(spec.origin)
        return path

    located.pvt_mm_fixed = True
    return located


def locate_editable_packages():
    """Fix 3: resolve ``package::`` config bases of editable installs."""
    from mmengine.config import config as config_module
    if not getattr(config_module.get_installed_path, 'pvt_mm_fixed', False):
        config_module.get_installed_path = _locate_package(config_module.get_installed_path)


class WriteError(OSError):
    """A file (a checkpoint, a log) that could not be written; the message names it."""


def _atomic_write(data: bytes, filepath) -> None:
    filepath = str(filepath)
    os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
    tmp = f'{filepath}.tmp-{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except OSError as err:
        if osp.exists(tmp):
            os.remove(tmp)
        raise WriteError(err.errno, f'{filepath}: could not be written ({err.strerror}); the '
                         'file under that name, if any, is unchanged') from None


class AtomicLocalBackend(LocalBackend):
    """Fix 4: mmengine's local backend, with ``put``/``put_text`` written atomically."""

    def put(self, obj: bytes, filepath) -> None:
        _atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        _atomic_write(obj.encode(encoding), filepath)


def write_local_files_atomically():
    """Fix 4: register :class:`AtomicLocalBackend` for local paths (and drop cached instances
    of the old one)."""
    from mmengine.fileio import io
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    for key in [k for k, v in io.backend_instances.items() if type(v) is LocalBackend]:
        del io.backend_instances[key]


def check_not_shadowed():
    """Fix 0: refuse to run as part of a ``pvt_mm`` namespace package (a clone's folder)."""
    package = sys.modules.get('pvt_mm')
    if package is not None and getattr(package, '__file__', None) is None:
        folders = ', '.join(getattr(package, '__path__', []))
        raise ImportError(
            f'"import pvt_mm" found the folder {folders} (the repository\'s clone?), not the '
            'installed package: Python looks in the current directory first, and that folder has '
            'no __init__.py, so pvt_mm never registers its models or its pvt_mm:: configs. Run '
            'from another directory (e.g. cd into your project), or rename the clone.')


check_not_shadowed()
allow_mmengine_checkpoints()
locate_editable_packages()
write_local_files_atomically()
