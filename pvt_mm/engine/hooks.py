"""Hooks pvt_mm's configs add to mmengine's Runner."""
import random

import numpy as np
import torch
from mmengine.hooks import Hook


class RNGStateHook(Hook):
    """Save the random generators' states in every checkpoint and restore them on resume.

    mmengine re-seeds on resume, so stochastic depth, dropout and main-process data
    augmentation would draw different numbers than the uninterrupted run. With this hook a
    resumed run continues the very same random streams: it ends with the same weights.
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(python=random.getstate(), numpy=np.random.get_state(),
                     torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('rng_state')
        if state is None or not runner._resume:
            return
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
