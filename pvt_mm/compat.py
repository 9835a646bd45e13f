"""Compatibility fixes for the stack pvt_mm supports (torch 2.x, mmengine 0.10, mmdet 3.3,
mmseg 1.2). Every fix lives here, is applied by ``import pvt_mm``, and has a test.

1. ``torch.load`` defaults to ``weights_only=True`` since torch 2.6, and mmengine 0.10.7's own
   checkpoints (``message_hub`` holds ``HistoryBuffer`` objects with numpy arrays; ``meta`` may
   hold numpy scalars) then fail to load, which breaks ``--resume`` and ``tools/test.py``. We keep
   ``weights_only=True`` and allow-list exactly the globals those checkpoints contain, so a
   checkpoint still cannot run code.
"""
import pickle

import numpy as np
import torch
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


allow_mmengine_checkpoints()
