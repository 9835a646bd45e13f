"""Hooks pvt_mm's configs add to mmengine's Runner."""
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..fileio import CheckpointError, check_structure
from ..state_dicts import checkpoint_fit, convert_mmdet2_detr


class RNGStateHook(Hook):
    """Save the random generators' states in every checkpoint and restore them on resume.

    mmengine re-seeds on resume, so stochastic depth, dropout and main-process data
    augmentation would draw different numbers than the uninterrupted run. With this hook a
    resumed run continues the very same random streams: it ends with the same weights.
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(
            python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
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


class CheckpointFitHook(Hook):
    """Check every checkpoint the Runner loads against the model, before it is loaded.

    mmengine loads whatever keys match and only logs the rest, so a wrong file (another model's,
    or one whose layout nothing converts) would evaluate or train a randomly initialised model.
    This hook checks the checkpoint is one mmengine can load (and resume from, when resuming:
    :func:`~pvt_mm.fileio.check_structure`), converts known whole-model layouts (mmdet 2.x DETR,
    the official PVT DETR checkpoint), then measures how much of the model the checkpoint covers
    (keys, shapes, dtype classes, tensors with data):

    - nothing: always an error naming the file;
    - part of it: an error when resuming or when ``require='all'`` (``tools/test.py``), else
      (``load_from`` to fine-tune, e.g. with another class count) a warning with the figures.
    """
    priority = 'VERY_HIGH'

    def __init__(self, require: str = 'any'):
        if require not in ('all', 'any'):
            raise ValueError(f"CheckpointFitHook: require must be 'all' or 'any', got {require!r}")
        self.require = require

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        from mmengine.model import BaseTTAModel

        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if isinstance(model, BaseTTAModel):
            model = model.module
        name = runner._load_from or 'the checkpoint'
        check_structure(checkpoint, name, resumable=runner._resume)
        state_dict = checkpoint.get('state_dict', checkpoint)
        if convert_mmdet2_detr(state_dict):
            runner.logger.info('Converted an mmdet 2.x DETR checkpoint to mmdet 3.x\'s layout')
        fit = checkpoint_fit(model, state_dict)
        if fit.fitted == fit.total:
            return
        message = f'{name}: {fit.describe()}'
        if fit.fitted == 0:
            raise CheckpointError(f'{message}. No weights of this {type(model).__name__} found: '
                                  'is it the checkpoint of another model?')
        if runner._resume:
            raise CheckpointError(f'{message}. A resumed run needs every tensor.')
        if self.require == 'all':
            raise CheckpointError(f'{message}. Evaluating would use random weights for the '
                                  'rest; tools/test.py --allow-partial-checkpoint does it anyway.')
        runner.logger.warning(f'{message}: the other tensors keep their initialisation.')
