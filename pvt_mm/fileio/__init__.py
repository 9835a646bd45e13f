"""Checkpoint files in and out, one module per job; the bottom floor of pvt_mm (it imports
nothing of pvt_mm's but itself):

- :mod:`~pvt_mm.fileio.reading`: :func:`read_checkpoint`, the one reader of every checkpoint the
  process loads (PyTorch and safetensors files), and mmengine's loader for every scheme;
- :mod:`~pvt_mm.fileio.unpickler`: the weights-only unpickler it reads pickles with;
- :mod:`~pvt_mm.fileio.fetching`: URLs, ``hf-hub:`` references and mmengine's named models to
  local files;
- :mod:`~pvt_mm.fileio.writing`: atomic writes, and the ``'atomic_local'`` file backend.

Every failure is a :class:`CheckpointError` or :class:`WriteError` whose message names the file
and the problem.
"""
from .errors import CheckpointError, WriteError
from .fetching import (HF_HUB_PREFIX, LOCAL_COPY_HINT, download_cache_path, redact_url,
                       resolve_checkpoint)
from .reading import MMENGINE_SCHEMES, check_structure, load_from_pvt_mm, read_checkpoint
from .writing import (ATOMIC_BACKEND, AtomicLocalBackend, atomic_write, register_atomic_backend,
                      save_checkpoint)

__all__ = [
    'ATOMIC_BACKEND', 'AtomicLocalBackend', 'CheckpointError', 'HF_HUB_PREFIX', 'LOCAL_COPY_HINT',
    'MMENGINE_SCHEMES', 'WriteError', 'atomic_write', 'check_structure', 'download_cache_path',
    'load_from_pvt_mm', 'read_checkpoint', 'redact_url', 'register_atomic_backend',
    'resolve_checkpoint', 'save_checkpoint'
]
