"""The toolboxes pvt_mm plugs into, one :class:`Toolbox` entry each (:data:`TOOLBOXES`): what pvt_mm
registers in it, how its models are built, where its test results and drawn outputs go, how it
infers on an image, the toy batch the benchmark feeds it, which of its models export whole, and
its input sizes. Everything that differs between detection and segmentation asks the config's
entry (:func:`toolbox`, from ``default_scope``); a config of any other toolbox is a named error.
"""
import importlib
import os.path as osp
from typing import Optional, Tuple

import torch
from mmengine.config import Config

from .utils import iter_dicts


class Toolbox:
    """One toolbox (an OpenMMLab package with its own registries and ``default_scope``)."""
    name: str = ''
    # The input the benchmark measures at (what users train at) and the FLOPs count's default.
    train_shape: Tuple[int, int] = (512, 512)
    flops_shape: Tuple[int, int] = (512, 512)
    # Model classes (by name, anywhere in the model's MRO) whose raw outputs export to ONNX
    # whole, and whether those export at a fixed input size only.
    exports_whole: Tuple[str, ...] = ()
    exports_whole_text: str = ''
    export_fixed_size: bool = False

    def registries(self):
        """The toolbox's ``registry`` module, or None if the toolbox is not installed."""
        try:
            return importlib.import_module(f'{self.name}.registry')
        except ImportError:
            return None

    def registrations(self) -> dict:
        """What pvt_mm registers in this toolbox only (beyond what every toolbox gets)."""
        return {}

    def model_registry(self):
        """The MODELS registry, with the default scope set and the toolbox's models registered:
        what builds ``cfg.model`` outside a Runner."""
        from mmengine.registry import init_default_scope
        init_default_scope(self.name)
        importlib.import_module(f'{self.name}.models')
        return self.registries().MODELS

    def set_output(self, cfg: Config, out: str) -> None:
        """``tools/test.py --out``: where the test predictions are written."""
        raise NotImplementedError

    def set_show_dir(self, cfg: Config, show_dir: str) -> None:
        """``tools/test.py --show-dir``: where the drawn test predictions are written."""
        raise NotImplementedError

    def predict(self, cfg: Config, checkpoint: str, image: str, device: str):
        """``(model, prediction)``: the config's model with ``checkpoint`` on ``device``, and its
        prediction for one image file."""
        raise NotImplementedError

    def draw_args(self, cfg: Config, score_thr: float, opacity: float) -> dict:
        """The visualizer's ``add_datasample`` arguments for a prediction (``cfg.visualizer``
        may be set too)."""
        raise NotImplementedError

    def visualizers(self):
        return self.registries().VISUALIZERS

    def inferencer(self,
                   model: Config,
                   weights: Optional[str] = None,
                   device: Optional[str] = None):
        """The toolbox's mmengine inferencer of a loaded config and its weights."""
        raise NotImplementedError

    def toy_sample(self, cfg: Config, shape: Tuple[int, int], meta: dict, gen: torch.Generator):
        """A data sample with annotations for one ``shape`` image, as the config's training
        pipeline would give it (the benchmark's batch)."""
        raise NotImplementedError

    def dense_outputs(self, model, image: torch.Tensor):
        """What the model computes for one image batch, without post-processing (FLOPs)."""
        return model._forward(image)

    def check_exports_whole(self, model) -> None:
        """Refuse, naming the model, a whole-model ONNX export this toolbox's model cannot do."""
        kinds = {cls.__name__ for cls in type(model).__mro__}
        if not kinds & set(self.exports_whole):
            kinds = ' and '.join(t.exports_whole_text for t in TOOLBOXES.values()
                                 if t.exports_whole_text)
            raise ValueError(
                f'{type(model).__name__}: only {kinds} export whole (two-stage and query-based '
                'detectors need RoI / NMS operators and image metadata in the graph). Export '
                '--backbone-only, or the whole model with mmdeploy.')

    def __eq__(self, other):
        """An entry equals its name (``toolbox(cfg) == 'mmdet'``) and itself."""
        if isinstance(other, str):
            return other == self.name
        return other is self

    def __hash__(self):
        return hash(self.name)

    def __str__(self):
        return self.name

    def __repr__(self):
        return f'<toolbox {self.name}>'


class MMDetection(Toolbox):
    name = 'mmdet'
    train_shape = (800, 1333)
    flops_shape = (800, 1280)  # mmdet's get_flops default
    exports_whole = ('SingleStageDetector', )
    exports_whole_text = 'single-stage detectors'

    def registrations(self) -> dict:
        from . import panoptic
        return {
            'TRANSFORMS': (panoptic.LoadCocoPanopticAnnotations, ),
            'METRICS': (panoptic.HotcocoPanopticMetric, panoptic.CocoPanopticMetricOrHotcoco),
        }

    def set_output(self, cfg, out):
        if not out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out for detection must be a .pkl file, got {out}')
        evaluators = cfg.test_evaluator
        evaluators = list(evaluators) if isinstance(evaluators, (list, tuple)) else [evaluators]
        cfg.test_evaluator = evaluators + [dict(type='DumpDetResults', out_file_path=out)]

    def set_show_dir(self, cfg, show_dir):
        cfg.default_hooks.visualization.test_out_dir = show_dir

    def predict(self, cfg, checkpoint, image, device):
        from mmdet.apis import inference_detector, init_detector
        model = init_detector(cfg, checkpoint, device=device)
        return model, inference_detector(model, image)

    def draw_args(self, cfg, score_thr, opacity):
        return dict(pred_score_thr=score_thr)

    def inferencer(self, model, weights=None, device=None):
        """mmdet's ``DetInferencer``. For a panoptic model, where ``panopticapi`` is absent,
        mmdet's inferencer module is first given the id conversion it takes from there
        (:func:`~pvt_mm.panoptic.fill_det_inferencer`), so that panoptic predictions are saved
        and drawn."""
        from mmdet.apis import DetInferencer
        if 'panoptic_fusion_head' in model.get('model', {}):
            from .panoptic import fill_det_inferencer
            fill_det_inferencer()
        return DetInferencer(model=model, weights=weights, device=device)

    def toy_sample(self, cfg, shape, meta, gen):
        import numpy as np
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        h, w = shape
        sample = DetDataSample(metainfo=meta)
        boxes = torch.tensor([[0.05, 0.1, 0.3, 0.45], [0.5, 0.2, 0.9, 0.7], [0.2, 0.6, 0.45, 0.95]])
        boxes = boxes * torch.tensor([w, h, w, h])
        sample.gt_instances = InstanceData(bboxes=boxes, labels=torch.tensor([0, 1, 2]))
        if any(
                d.get('type') == 'LoadAnnotations' and d.get('with_mask')
                for d in iter_dicts(cfg.get('train_dataloader'))):
            from mmdet.structures.mask import BitmapMasks
            masks = np.zeros((3, h, w), np.uint8)
            for m, (x0, y0, x1, y1) in zip(masks, boxes.int().tolist()):
                m[y0:y1, x0:x1] = 1
            sample.gt_instances.masks = BitmapMasks(masks, h, w)
        return sample


class MMSegmentation(Toolbox):
    name = 'mmseg'
    exports_whole = ('BaseSegmentor', )
    exports_whole_text = 'segmentors'
    # mmseg's decode heads compute their upsampling sizes as Python integers, which both ONNX
    # exporters record as constants.
    export_fixed_size = True

    def set_output(self, cfg, out):
        cfg.test_evaluator.output_dir = out

    def set_show_dir(self, cfg, show_dir):
        cfg.visualizer.save_dir = show_dir

    def predict(self, cfg, checkpoint, image, device):
        from mmseg.apis import inference_model, init_model
        model = init_model(cfg, checkpoint, device=device)
        return model, inference_model(model, image)

    def draw_args(self, cfg, score_thr, opacity):
        cfg.visualizer.alpha = opacity
        return dict(with_labels=True)

    def inferencer(self, model, weights=None, device=None):
        """mmseg's ``MMSegInferencer``."""
        from mmseg.apis import MMSegInferencer
        return MMSegInferencer(model=model, weights=weights, device=device)

    def toy_sample(self, cfg, shape, meta, gen):
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        sample = SegDataSample(metainfo=meta)
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, cfg.model.decode_head.num_classes, (1, *shape), generator=gen))
        return sample

    def dense_outputs(self, model, image):
        """The logits resized to the input (``encode_decode``)."""
        meta = dict(img_shape=image.shape[2:], pad_shape=image.shape[2:], ori_shape=image.shape[2:])
        return model.encode_decode(image, [meta])


TOOLBOXES = {t.name: t for t in (MMDetection(), MMSegmentation())}


def toolbox(cfg: Config) -> Toolbox:
    """The entry of the config's toolbox (its ``default_scope``); any other scope is a
    ValueError that names it."""
    scope = cfg.get('default_scope')
    if scope not in TOOLBOXES:
        raise ValueError(f'config default_scope must be one of {tuple(TOOLBOXES)}, got {scope!r}')
    return TOOLBOXES[scope]


def register(modules: dict, toolboxes=tuple(TOOLBOXES)) -> list:
    """Register ``{'MODELS': (cls, ...), 'HOOKS': ...}`` (classes or functions) in the
    registries of those names of every installed toolbox of ``toolboxes``; return the names of
    the toolboxes found."""
    found = []
    for name in toolboxes:
        registries = TOOLBOXES[name].registries()
        if registries is None:
            continue
        for registry_name, classes in modules.items():
            registry = getattr(registries, registry_name)
            for cls in classes:
                if registry.module_dict.get(cls.__name__) is not cls:
                    registry.register_module(module=cls)
        found.append(name)
    return found


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Parse ``path`` (``pvt_mm::`` and ``mmdet::``/``mmseg::`` bases resolve) and apply
    ``cfg_options`` (``--cfg-options``); the config must be one of a toolbox of
    :data:`TOOLBOXES` (its ``default_scope``). Nothing is written to disk."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    # Not yapf-formatted: mmengine's Runner prints the config four times per start (log, two
    # dumps, message hub) and yapf takes about a second each for a detector's; the text is the
    # same Python, a key per line. (mmengine 0.10's fromfile drops its own format_python_code.)
    cfg = Config(
        cfg._cfg_dict,
        cfg_text=cfg.text,
        filename=cfg.filename,
        env_variables=cfg.env_variables,
        format_python_code=False)
    # pvt_mm has no registries of its own (its modules live in mmdet's and mmseg's), so the
    # parts inherited through ``pvt_mm::`` build in the config's default_scope.
    for node in iter_dicts(cfg._cfg_dict):
        if node.get('_scope_') == 'pvt_mm':
            del node['_scope_']
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    toolbox(cfg)
    return cfg


def build_model(cfg: Config):
    """``cfg.model`` built in its toolbox."""
    return toolbox(cfg).model_registry().build(cfg.model)


__all__ = [
    'MMDetection', 'MMSegmentation', 'TOOLBOXES', 'Toolbox', 'build_model', 'load_config',
    'register', 'toolbox'
]
