"""pvt_mm's Python entry points: load a config of either toolbox, build its model, write the toy
dataset a quickstart config names, and get the toolbox's inferencer for a config. The
command-line tools (:mod:`pvt_mm.cli`) use the same functions.

    from pvt_mm.apis import build_model, load_config
    cfg = load_config('configs/pvtv2/retinanet_pvtv2-b2_fpn_1x_coco.py')
    model = build_model(cfg)
"""
from typing import Optional

from . import compat  # noqa: F401  (refuses to run from a clone's shadowing folder)
from .datasets import write_toy_data
from .toolboxes import build_model, load_config, toolbox


def inferencer(config: str,
               weights: Optional[str] = None,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None):
    """The mmengine inferencer of the config's toolbox (mmdet's ``DetInferencer``, mmseg's
    ``MMSegInferencer``) for ``config`` (a file) and ``weights``; mmdet's can then save and draw
    panoptic predictions without ``panopticapi``."""
    cfg = load_config(config, cfg_options)
    return toolbox(cfg).inferencer(cfg, weights=weights, device=device)


__all__ = ['build_model', 'inferencer', 'load_config', 'toolbox', 'write_toy_data']
