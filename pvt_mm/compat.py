"""What the supported stack (torch 2.x, mmengine 0.10, mmdet 3.3, mmseg 1.2) needs beyond itself.

Applied by ``import pvt_mm``, process-wide, because the problem is hit while mmengine parses a
config, before any pvt_mm code could be asked (each has a test that shows what breaks without it):

- :func:`check_not_shadowed`: a folder named ``pvt_mm`` in the current directory (a clone of the
  repository) is imported as an empty namespace package ahead of an editable install, so the
  registration never runs and configs fail later with an mmengine assertion; this fails at once,
  naming the folder and the fix.
- :func:`locate_editable_pvt_mm`: mmengine's ``get_installed_path`` assumes a package lives in
  its distribution's directory; a PEP 660 editable install (``pip install -e .``, the README's
  setup) puts pvt_mm elsewhere, so ``_base_ = 'pvt_mm::...'`` would name a missing file. For
  ``pvt_mm`` only, the imported package's own directory is used.

Applied by pvt_mm's tools to the config they run (:mod:`pvt_mm.cli`):

- :func:`prepare_cpu_run`: mmengine 0.10 assumes CUDA once a run is distributed
  (``init_dist`` calls ``torch.cuda.set_device``, DDP gets ``device_ids=[LOCAL_RANK]``, configs
  default to ``nccl``, SyncBN has no CPU kernel); a torchrun launch on a CPU-only machine uses
  gloo and plain PyTorch DDP instead, without changing mmengine.
"""
import datetime
import os.path as osp
import sys


def _sync_bn_to_bn(node) -> int:
    """Replace ``type='SyncBN'`` norm configs by ``'BN'`` in place; return how many."""
    from .utils import iter_dicts
    count = 0
    for d in iter_dicts(node):
        if d.get('type') == 'SyncBN':
            d['type'] = 'BN'
            count += 1
    return count


def prepare_cpu_run(cfg) -> None:
    """Run a config on a machine without CUDA, also under ``torchrun`` (gloo + DDP)."""
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


def _locate_pvt_mm(get_installed_path):

    def located(package: str) -> str:
        path = get_installed_path(package)
        if package == 'pvt_mm' and not osp.isdir(path):
            return osp.dirname(osp.abspath(sys.modules['pvt_mm'].__file__))
        return path

    located.pvt_mm_fixed = True
    return located


def locate_editable_pvt_mm():
    """Resolve ``pvt_mm::`` config bases from an editable install (see the module docstring)."""
    from mmengine.config import config as config_module
    if not getattr(config_module.get_installed_path, 'pvt_mm_fixed', False):
        config_module.get_installed_path = _locate_pvt_mm(config_module.get_installed_path)


def check_not_shadowed():
    """Refuse to run as part of a ``pvt_mm`` namespace package (a clone's folder)."""
    package = sys.modules.get('pvt_mm')
    if package is not None and getattr(package, '__file__', None) is None:
        folders = ', '.join(getattr(package, '__path__', []))
        raise ImportError(
            f'"import pvt_mm" found the folder {folders} (the repository\'s clone?), not the '
            'installed package: Python looks in the current directory first, and that folder has '
            'no __init__.py, so pvt_mm never registers its models or its pvt_mm:: configs. Run '
            'from another directory (e.g. cd into your project), or rename the clone.')


# At import, also when a tool imports a submodule (pvt_mm.cli) of a shadowing namespace package,
# whose __init__.py never runs.
check_not_shadowed()
