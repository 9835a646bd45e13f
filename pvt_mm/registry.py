"""Everything pvt_mm registers, in one place (run by ``import pvt_mm``).

- ``PVT`` and ``PVTv2`` in MMDetection's and MMSegmentation's MODELS registries (whichever is
  installed; the names do not clash with mmdet's own ``PyramidVisionTransformer(V2)``);
- ``AlignResize`` in both TRANSFORMS registries, ``RNGStateHook`` and ``CheckpointFitHook`` in
  both HOOKS registries (:mod:`pvt_mm.testing` adds its test hooks the same way);
- COCO panoptic without ``panopticapi`` (:mod:`pvt_mm.panoptic`), in MMDetection's registries:
  the transform ``LoadCocoPanopticAnnotations``, the metrics ``HotcocoPanopticMetric`` and
  ``CocoPanopticMetricOrHotcoco`` (what pvt_mm's panoptic configs name), and the id conversion
  handed to ``DetInferencer`` where ``panopticapi`` is absent (so with mmdet installed,
  ``import pvt_mm`` imports mmdet's datasets, evaluation and apis modules, their bases);
- :func:`~pvt_mm.fileio.load_from_pvt_mm` (pvt_mm's reader) as mmengine's loader for every
  scheme mmengine has (local files, http(s), ``torchvision://`` and the other named models,
  remote storages) and ``hf-hub:``, so every load in the process (``load_from``, ``--resume``,
  any ``init_cfg``, ``init_detector`` and the inferencers) is weights-only with bounded memory,
  reads safetensors too and reports a bad file by name;
- the file backend ``'atomic_local'`` (:class:`~pvt_mm.fileio.AtomicLocalBackend`), which
  pvt_mm's tools give the CheckpointHook;
- the ``pvt_mm::`` config scope, so ``_base_ = 'pvt_mm::pvt/retinanet_pvt-t_fpn_1x_coco.py'``
  resolves to the configs shipped in ``pvt_mm/.mim/configs``.
"""
import importlib

from mmengine.config import utils as config_utils
from mmengine.runner.checkpoint import CheckpointLoader

from .datasets import AlignResize
from .engine import CheckpointFitHook, RNGStateHook
from .fileio import MMENGINE_SCHEMES, load_from_pvt_mm, register_atomic_backend
from .models import PVT, PVTv2

TOOLBOXES = ('mmdet', 'mmseg')


def register(modules: dict, toolboxes=TOOLBOXES) -> list:
    """Register ``{'MODELS': (cls, ...), 'HOOKS': ...}`` (classes or functions) in the
    registries of those names of every installed toolbox of ``toolboxes``; return the toolboxes
    found."""
    found = []
    for toolbox in toolboxes:
        try:
            registries = importlib.import_module(f'{toolbox}.registry')
        except ImportError:
            continue
        for registry_name, classes in modules.items():
            registry = getattr(registries, registry_name)
            for cls in classes:
                if registry.module_dict.get(cls.__name__) is not cls:
                    registry.register_module(module=cls)
        found.append(toolbox)
    return found


def register_all() -> list:
    found = register({
        'MODELS': (PVT, PVTv2),
        'TRANSFORMS': (AlignResize, ),
        'HOOKS': (RNGStateHook, CheckpointFitHook),
    })
    if 'mmdet' in found:
        from . import panoptic
        register({
            'TRANSFORMS': (panoptic.LoadCocoPanopticAnnotations, ),
            'METRICS': (panoptic.HotcocoPanopticMetric, panoptic.CocoPanopticMetricOrHotcoco),
        }, toolboxes=('mmdet', ))
        panoptic.fill_det_inferencer()
    config_utils.MODULE2PACKAGE.setdefault('pvt_mm', 'pvt_mm')
    CheckpointLoader.register_scheme(prefixes=list(MMENGINE_SCHEMES),
                                     loader=load_from_pvt_mm, force=True)
    register_atomic_backend()
    return found


TOOLBOXES_FOUND = register_all()
