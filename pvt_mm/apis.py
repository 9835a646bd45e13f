"""pvt_mm's Python entry points: load a config of either toolbox, build its model, and write the
toy dataset a quickstart config names. The command-line tools (:mod:`pvt_mm.cli`) are built on
these.

    from pvt_mm.apis import build_model, load_config
    cfg = load_config('configs/pvtv2/retinanet_pvtv2-b2_fpn_1x_coco.py')
    model = build_model(cfg)
"""
import importlib
import os.path as osp
from typing import Optional

from mmengine.config import Config

from . import compat  # noqa: F401  (refuses to run from a clone's shadowing folder)
from .registry import TOOLBOXES
from .utils import iter_dicts


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Parse ``path`` (``pvt_mm::`` and ``mmdet::``/``mmseg::`` bases resolve) and apply
    ``cfg_options`` (``--cfg-options``); the config must be a detection or segmentation one
    (``default_scope`` mmdet or mmseg). Nothing is written to disk."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    # Not yapf-formatted: mmengine's Runner prints the config four times per start (log, two
    # dumps, message hub) and yapf takes about a second each for a detector's; the text is the
    # same Python, a key per line. (mmengine 0.10's fromfile drops its own format_python_code.)
    cfg = Config(cfg._cfg_dict, cfg_text=cfg.text, filename=cfg.filename,
                 env_variables=cfg.env_variables, format_python_code=False)
    # pvt_mm has no registries of its own (its modules live in mmdet's and mmseg's), so the
    # parts inherited through ``pvt_mm::`` build in the config's default_scope.
    for node in iter_dicts(cfg._cfg_dict):
        if node.get('_scope_') == 'pvt_mm':
            del node['_scope_']
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    toolbox(cfg)
    return cfg


def toolbox(cfg: Config) -> str:
    """'mmdet' or 'mmseg', from the config's ``default_scope``."""
    scope = cfg.get('default_scope')
    if scope not in TOOLBOXES:
        raise ValueError(f'config default_scope must be one of {TOOLBOXES}, got {scope!r}')
    return scope


def model_registry(cfg: Config):
    """The MODELS registry of the config's toolbox, with its default scope set and its models
    registered: what builds ``cfg.model`` outside a Runner."""
    from mmengine.registry import init_default_scope
    scope = toolbox(cfg)
    init_default_scope(scope)
    importlib.import_module(f'{scope}.models')
    return importlib.import_module(f'{scope}.registry').MODELS


def build_model(cfg: Config):
    """``cfg.model`` built in its toolbox."""
    return model_registry(cfg).build(cfg.model)


def write_toy_data(cfg: Config) -> Optional[str]:
    """Write the toy dataset a quickstart config names in ``toy_data``
    (:func:`~pvt_mm.datasets.generate_toy_data`; nothing when it is there already); return its
    root, or None for a config without one."""
    if not cfg.get('toy_data'):
        return None
    from .datasets import generate_toy_data
    return generate_toy_data(**cfg.toy_data)


__all__ = ['build_model', 'load_config', 'model_registry', 'toolbox',
           'write_toy_data']
