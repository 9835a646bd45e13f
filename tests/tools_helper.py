"""Run pvt_mm's real command-line tools, in a subprocess as a user would, or in the test's
process where the libraries are imported already."""
import json
import os
import os.path as osp
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import torch

from pvt_mm.apis import build_model  # noqa: F401  (what the tests import from here)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(ROOT, 'tools')
CONFIGS = osp.join(ROOT, 'configs')
# A small toy dataset instead of the quickstart's default size.
SMALL_TOY = ['toy_data.num_train=8', 'toy_data.num_val=4', 'toy_data.size=(128,160)']


def run(cmd, cwd, timeout=600, env=None):
    """Run ``cmd`` (a list) in ``cwd``; fail the test with its output when it exits non-zero."""
    cmd = [str(c) for c in cmd]
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    full_env.setdefault('OMP_NUM_THREADS', str(torch.get_num_threads()))
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        env=full_env)
    if proc.returncode != 0:
        raise AssertionError(f'{" ".join(cmd)} exited {proc.returncode}:\n{proc.stdout[-6000:]}')
    return proc.stdout


def tool(name, *args, cwd, **kwargs):
    return run([sys.executable, osp.join(TOOLS, name), *map(str, args)], cwd, **kwargs)


def built_once(tmp_path_factory, name, build):
    """The directory ``name``, filled by ``build(directory)`` once per test session even under
    pytest-xdist: the first worker to ask builds it (under a lock, in the temp folder the
    workers share) and the others wait and reuse it, so no fixture trains twice."""
    import fcntl
    root = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'):
        root = root.parent  # pytest-N/, above each worker's popen-gwN/
    target = root / name
    with open(root / f'{name}.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / '.built').exists():
            shutil.rmtree(target, ignore_errors=True)  # what a failed build left
            target.mkdir()
            build(target)
            (target / '.built').touch()
    return target


def in_process(monkeypatch, cwd, script, *args):
    """Run one of our tools in this process (as ``python tools/<script> args``); return its
    exit message, or None if it finished normally."""
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, 'argv', [script, *map(str, args)])
    try:
        runpy.run_path(osp.join(TOOLS, script), run_name='__main__')
    except SystemExit as exit_:
        return str(exit_.code)
    return None


def tool_in_process(monkeypatch, capsys, cwd, script, *args):
    """Run one of our tools in this process as :func:`in_process` does (the same code path as
    ``python tools/<script> args`` without starting a process and importing torch, mmdet and
    mmseg again: ~7 s a run); return what it logged and printed, as :func:`tool` returns a
    subprocess's output, and fail the test with that output when it exits with an error.

    mmengine's loggers write to the ``sys.stdout`` of the time they were created: a logger made
    here becomes the current one (what the tools' messages before the Runner go to), and the
    Runner makes its own, both writing into ``capsys``. Python warnings are pytest's to record
    and are not in the text. Afterwards the loggers made during the run stop writing to
    ``capsys``'s streams, which close when the test ends (a later test's messages to the current
    logger would meet a closed file)."""
    import logging
    import uuid

    from mmengine.logging import MMLogger
    capsys.readouterr()
    before = set(MMLogger._instance_dict)
    MMLogger.get_instance(f'tool-in-process-{uuid.uuid4().hex}')
    try:
        msg = in_process(monkeypatch, cwd, script, *args)
    finally:
        for name in set(MMLogger._instance_dict) - before:
            logger = MMLogger._instance_dict[name]
            for handler in list(logger.handlers):
                if (type(handler) is logging.StreamHandler
                        and handler.stream in (sys.stdout, sys.stderr)):
                    logger.removeHandler(handler)
    captured = capsys.readouterr()
    out = captured.out + captured.err
    if msg is not None:
        raise AssertionError(f'{script} {" ".join(map(str, args))} exited: {msg}\n{out[-6000:]}')
    return out


def written_metrics(work_dir):
    """The metrics a tools/test.py run wrote into ``work_dir``: the last line of its
    ``<timestamp>/<timestamp>.json`` log."""
    (log, ) = Path(work_dir).glob('*/*.json')
    return json.loads(log.read_text().splitlines()[-1])


def hub_cache(root, repo, files):
    """``files`` ({name: path or bytes}) in huggingface_hub's cache layout under ``root``, as the
    main branch of ``repo`` (what ``hf_hub_download`` leaves after fetching them)."""
    commit = 'a' * 40
    repo_dir = Path(root) / f'models--{repo.replace("/", "--")}'
    (repo_dir / 'refs').mkdir(parents=True)
    (repo_dir / 'refs' / 'main').write_text(commit)
    snapshot = repo_dir / 'snapshots' / commit
    snapshot.mkdir(parents=True)
    for name, data in files.items():
        (snapshot / name).write_bytes(data if isinstance(data, bytes) else Path(data).read_bytes())


def config(rel):
    return osp.join(CONFIGS, rel)


def load_weights(path):
    """A checkpoint's weights, read as pvt_mm reads checkpoints (weights-only, mmengine's own
    checkpoint contents allowed)."""
    from pvt_mm.fileio import read_checkpoint
    ckpt = read_checkpoint(str(path))
    return ckpt.get('state_dict', ckpt)


def _set_everywhere(node, key, value, only_lists=False):
    """Set ``key`` to ``value`` in every dict of a nested config that has it (``only_lists``:
    where its value is a list)."""
    from pvt_mm.utils import iter_dicts
    for d in iter_dicts(node):
        if key in d and (not only_lists or isinstance(d[key], list)):
            d[key] = value


def _toy_classes(model, num_classes, num_stuff=0):
    """Set every class count of a model config to ``num_classes`` things and ``num_stuff`` stuff
    classes (Mask2Former also weighs each class plus "no object")."""
    _set_everywhere(model, 'num_classes', num_classes)
    _set_everywhere(model, 'num_things_classes', num_classes)
    _set_everywhere(model, 'num_stuff_classes', num_stuff)
    _set_everywhere(
        model, 'class_weight', [1.0] * (num_classes + num_stuff) + [0.1], only_lists=True)


def toy_coco_config(src, tmp_path, num_train=2, num_val=2, size=(128, 160), batch_size=1):
    """A shipped detection config pointed at the toy COCO dataset (3 classes), written as one
    self-contained config file in ``tmp_path``. Only the data, the class count, random init, a
    zero score threshold (so an untrained detector's boxes reach COCO eval), 20 detections per
    image, 100 test-time proposals and the test-time resize (CPU time) change: the model, the
    train pipeline, the schedule and the optimizer stay as shipped."""
    from mmengine.config import Config

    import pvt_mm  # noqa: F401  (the pvt_mm:: scope)
    cfg = Config.fromfile(src)
    cfg.toy_data = dict(root='data/toy', num_train=num_train, num_val=num_val, size=size, seed=0)
    root = 'data/toy/coco/'
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
        loader.dataset.update(
            data_root=root, metainfo=dict(classes=('square', 'circle', 'triangle')))
    for split in ('val', 'test'):
        cfg[f'{split}_evaluator'].ann_file = root + 'annotations/instances_val2017.json'
    _toy_classes(cfg.model, 3)
    _set_everywhere(cfg.model.get('test_cfg'), 'score_thr', 0.0)
    _set_everywhere(cfg.model.get('test_cfg'), 'max_per_image', 20)
    test_cfg = cfg.model.test_cfg.get('rcnn', cfg.model.test_cfg)
    test_cfg.max_per_img = 20
    if cfg.model.test_cfg.get('rpn'):  # 100 proposals instead of 1000 through the RoI heads
        cfg.model.test_cfg.rpn.update(nms_pre=100, max_per_img=100)
    return _dump_toy(cfg, src, tmp_path)


def toy_coco_panoptic_config(src, tmp_path, num_train=2, num_val=2, size=(128, 160), batch_size=1):
    """A shipped panoptic config pointed at the toy COCO panoptic dataset (3 thing classes, the
    shapes; 1 stuff class, the background), as :func:`toy_coco_config` does for detection: the
    model, the train pipeline, the schedule and the optimizer stay as shipped."""
    from mmengine.config import Config

    import pvt_mm  # noqa: F401  (the pvt_mm:: scope)
    from pvt_mm.datasets.toy import CLASSES, PANOPTIC_STUFF
    cfg = Config.fromfile(src)
    cfg.toy_data = dict(root='data/toy', num_train=num_train, num_val=num_val, size=size, seed=0)
    root = 'data/toy/coco/'
    for split in ('train', 'val', 'test'):
        coco_split = 'train' if split == 'train' else 'val'
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
        loader.dataset.update(
            data_root=root,
            ann_file=f'annotations/panoptic_{coco_split}2017.json',
            data_prefix=dict(
                img=f'{coco_split}2017/', seg=f'annotations/panoptic_{coco_split}2017/'),
            metainfo=dict(
                classes=CLASSES + PANOPTIC_STUFF,
                thing_classes=CLASSES,
                stuff_classes=PANOPTIC_STUFF))
    for split in ('val', 'test'):
        evaluators = cfg[f'{split}_evaluator']
        for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
            if evaluator.type == 'CocoMetric':
                evaluator.ann_file = root + 'annotations/instances_val2017.json'
            else:
                evaluator.update(
                    ann_file=root + 'annotations/panoptic_val2017.json',
                    seg_prefix=root + 'annotations/panoptic_val2017/')
    _toy_classes(cfg.model, len(CLASSES), len(PANOPTIC_STUFF))
    _set_everywhere(cfg.model.get('test_cfg'), 'score_thr', 0.0)
    _set_everywhere(cfg.model.get('test_cfg'), 'max_per_image', 20)
    # An untrained Panoptic FPN's stuff segments reach PQ and the drawings: above 64 pixels
    # instead of 4096.
    _set_everywhere(cfg.model.get('test_cfg'), 'stuff_area_limit', 64)
    if cfg.model.test_cfg.get('rpn'):
        cfg.model.test_cfg.rpn.update(nms_pre=100, max_per_img=100)
        cfg.model.test_cfg.rcnn.max_per_img = 20
    return _dump_toy(cfg, src, tmp_path)


def toy_ade_config(src, tmp_path, num_train=2, num_val=2, size=(128, 160), batch_size=1):
    """A shipped segmentation config pointed at the toy ADE20K-layout dataset, read as the
    quickstart reads it (mmseg's BaseSegDataset, 4 classes, ``reduce_zero_label``), written as
    one self-contained config file in ``tmp_path``; the model, the train pipeline, the schedule
    and the optimizer stay as shipped."""
    from mmengine.config import Config

    import pvt_mm  # noqa: F401  (the pvt_mm:: scope)
    from pvt_mm.datasets.toy import SEG_CLASSES
    cfg = Config.fromfile(src)
    cfg.toy_data = dict(root='data/toy', num_train=num_train, num_val=num_val, size=size, seed=0)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
        loader.dataset.update(
            type='BaseSegDataset',
            data_root='data/toy/ade/ADEChallengeData2016',
            metainfo=dict(classes=SEG_CLASSES),
            reduce_zero_label=True)
    _toy_classes(cfg.model, len(SEG_CLASSES))
    return _dump_toy(cfg, src, tmp_path)


def _dump_toy(cfg, src, tmp_path):
    # Testing resizes to twice the toy images' size (DINO's 900 queries need as many encoder
    # tokens) instead of the config's 1333x800 and the like: CPU time. The train pipeline stays
    # as shipped.
    h, w = cfg.toy_data['size']
    for split in ('val', 'test'):
        for step in cfg[f'{split}_dataloader'].dataset.pipeline:
            if step.type in ('Resize', 'AlignResize'):
                step.scale = (2 * w, 2 * h)
    cfg.model.backbone.init_cfg = None
    cfg.default_hooks.logger.interval = 1
    cfg.randomness = dict(seed=0)  # the same multi-scale draws, and so the same CPU time, each run
    path = tmp_path / ('toy_' + osp.basename(src))
    cfg.dump(str(path))
    return path
