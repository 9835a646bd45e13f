"""A hook for end-to-end tests: every rank writes its model weights before and after the run."""
import os
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class DumpRankWeightsHook(Hook):
    """Save ``{out_dir}/{before,after}_rank{R}.pth`` = ``{'params': ..., 'buffers': ...}``: what
    each process holds, for DDP checks."""

    def __init__(self, out_dir):
        self.out_dir = out_dir

    def _dump(self, runner, tag):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        os.makedirs(self.out_dir, exist_ok=True)
        state = dict(params={k: v.detach().clone() for k, v in model.named_parameters()},
                     buffers={k: v.detach().clone() for k, v in model.named_buffers()})
        torch.save(state, osp.join(self.out_dir, f'{tag}_rank{get_rank()}.pth'))

    def before_train(self, runner):
        self._dump(runner, 'before')

    def after_train(self, runner):
        self._dump(runner, 'after')
