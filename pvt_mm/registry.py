"""Everything ``import pvt_mm`` registers, in one place (:func:`register_all`):

- every backbone family's class (:data:`~pvt_mm.models.FAMILIES`: ``PVT``, ``PVTv2``; the names
  do not clash with mmdet's own ``PyramidVisionTransformer(V2)``), ``AlignResize``,
  ``RNGStateHook`` and ``CheckpointFitHook`` in the registries of every installed toolbox
  (:data:`~pvt_mm.toolboxes.TOOLBOXES`), and what each toolbox's entry adds for itself (mmdet:
  COCO panoptic without ``panopticapi``, :mod:`pvt_mm.panoptic`); :mod:`pvt_mm.testing` adds its
  test hooks the same way;
- :func:`~pvt_mm.fileio.load_from_pvt_mm` (pvt_mm's reader) as mmengine's loader for every
  scheme mmengine has (local files, http(s), ``torchvision://`` and the other named models,
  remote storages) and ``hf-hub:``, so every load in the process (``load_from``, ``--resume``,
  any ``init_cfg``, ``init_detector`` and the inferencers) is weights-only with bounded memory,
  reads safetensors too and reports a bad file by name;
- the file backend ``'atomic_local'`` (:class:`~pvt_mm.fileio.AtomicLocalBackend`), which
  pvt_mm's tools give the CheckpointHook;
- the ``pvt_mm::`` config scope, so ``_base_ = 'pvt_mm::pvt/retinanet_pvt-t_fpn_1x_coco.py'``
  resolves to the configs shipped in ``pvt_mm/.mim/configs``, also from an editable install
  (:func:`~pvt_mm.compat.locate_editable_pvt_mm`, pvt_mm's one process-wide patch).

All of it goes through the libraries' own registration APIs, except that one patch.
"""
from mmengine.config import utils as config_utils
from mmengine.runner.checkpoint import CheckpointLoader

from .compat import locate_editable_pvt_mm
from .datasets import AlignResize
from .engine import CheckpointFitHook, RNGStateHook
from .fileio import MMENGINE_SCHEMES, load_from_pvt_mm, register_atomic_backend
from .models import FAMILIES
from .toolboxes import TOOLBOXES, register


def register_all() -> list:
    """Register everything (see the module docstring); return the names of the toolboxes
    found installed."""
    found = register({
        'MODELS': tuple(family.backbone for family in FAMILIES.values()),
        'TRANSFORMS': (AlignResize, ),
        'HOOKS': (RNGStateHook, CheckpointFitHook),
    })
    for name in found:
        register(TOOLBOXES[name].registrations(), toolboxes=(name, ))
    config_utils.MODULE2PACKAGE.setdefault('pvt_mm', 'pvt_mm')
    locate_editable_pvt_mm()
    CheckpointLoader.register_scheme(
        prefixes=list(MMENGINE_SCHEMES), loader=load_from_pvt_mm, force=True)
    register_atomic_backend()
    return found
