"""Hooks for end-to-end tests: dump every rank's weights; make writes fail mid-run."""
import os
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


class DumpRankWeightsHook(Hook):
    """Save ``{out_dir}/{before,after}_rank{R}.pth`` = ``{'params': ..., 'buffers': ...}``: what
    each process holds, for DDP checks."""

    def __init__(self, out_dir):
        self.out_dir = out_dir

    def _dump(self, runner, tag):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        os.makedirs(self.out_dir, exist_ok=True)
        state = dict(
            params={
                k: v.detach().clone()
                for k, v in model.named_parameters()
            },
            buffers={
                k: v.detach().clone()
                for k, v in model.named_buffers()
            })
        torch.save(state, osp.join(self.out_dir, f'{tag}_rank{get_rank()}.pth'))

    def before_train(self, runner):
        self._dump(runner, 'before')

    def after_train(self, runner):
        self._dump(runner, 'after')


class FileSizeLimitHook(Hook):
    """After epoch ``after_epoch`` (and its checkpoint), limit the size of any file this process
    writes to ``limit_bytes`` (``RLIMIT_FSIZE``): later checkpoint writes then fail as on a full
    disk, even for root."""
    priority = 'LOWEST'  # after the CheckpointHook has saved the epoch

    def __init__(self, after_epoch=1, limit_bytes=1 << 20):
        self.after_epoch, self.limit_bytes = after_epoch, limit_bytes

    def after_train_epoch(self, runner):
        import resource
        if runner.epoch + 1 == self.after_epoch:  # mmengine counts the epoch up afterwards
            resource.setrlimit(resource.RLIMIT_FSIZE,
                               (self.limit_bytes, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
