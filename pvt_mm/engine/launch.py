"""Launching a run on a machine without CUDA.

mmengine 0.10 assumes CUDA once a run is distributed (``init_dist`` calls
``torch.cuda.set_device``, DDP gets ``device_ids=[LOCAL_RANK]``, configs default to ``nccl``,
SyncBN has no CPU kernel); :func:`prepare_cpu_run` makes a torchrun launch on a CPU-only machine
use gloo and plain PyTorch DDP instead, without changing mmengine (pvt_mm's tools apply it to the
config they run).
"""
import datetime

from ..utils import iter_dicts


def _sync_bn_to_bn(node) -> int:
    """Replace ``type='SyncBN'`` norm configs by ``'BN'`` in place; return how many."""
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
        print_log(
            'No CUDA: SyncBN layers are built as BN (per-process batch statistics).',
            logger='current',
            level=30)
