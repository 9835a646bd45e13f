"""Every file of the hostile corpus (tests/hostile_files.py) through every way a user hands pvt_mm
a checkpoint: one line that names the file, never a traceback, never a run on wrong weights.

The tools run in this process (as ``python tools/X.py ...`` would) on the RetinaNet quickstart
config written out whole (no ``_base_`` to resolve per run); the CheckpointFitHook runs in a real
mmengine Runner. The per-name BUILD files of the corpus (tests/test_fileio.py reads each) are
left out here: through an entry point they take the same path as the other refusals.
"""
import os

import numpy as np
import pytest

from pvt_mm.fileio import CheckpointError
from hostile_files import MARKER, corpus
from tools_helper import config, in_process

TRAIN = [
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
    'train_cfg.max_epochs=1'
]
SMALL_TOY_DATA = dict(num_train=2, num_val=2, size=(128, 160))
ENTRIES = ('init_cfg', 'load_from', 'resume', 'test', 'convert', 'export', 'demo', 'hook')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """The corpus, a flat quickstart config with its toy data written, an image, and a Runner
    with pvt_mm's CheckpointFitHook (what tools/test.py adds)."""
    import cv2
    from mmengine.runner import Runner

    from pvt_mm.apis import load_config, write_toy_data
    root = tmp_path_factory.mktemp('entries')
    (root / 'corpus').mkdir()
    entries = {
        name: e
        for name, e in corpus(root / 'corpus').items()
        if not name.startswith(('build-', 'slotstate-'))
    }
    cfg = load_config(
        config('quickstart/retinanet_pvtv2-b0_fpn_toy.py'),
        dict(work_dir=str(root / 'work'), toy_data=SMALL_TOY_DATA))
    cfg.dump(str(root / 'retinanet.py'))
    cwd = os.getcwd()
    os.chdir(root)  # where the tools run: the config's data root is relative
    try:
        write_toy_data(cfg)
    finally:
        os.chdir(cwd)
    cv2.imwrite(str(root / 'image.png'), np.full((64, 80, 3), 128, np.uint8))
    cfg.custom_hooks = [dict(type='CheckpointFitHook', require='all')]
    runner = Runner.from_cfg(cfg)
    return root, entries, runner


def _run(entry, path, root, runner, monkeypatch):
    """The message ``entry`` ends with for checkpoint ``path`` (None: it ran to the end)."""
    cfg = root / 'retinanet.py'
    work = ['--work-dir', root / 'work' / entry]
    if entry == 'hook':  # the Runner's own loading: load_from, then its hooks
        runner._load_from, runner._has_loaded = path, False
        try:
            runner.load_or_resume()
        except CheckpointError as err:
            return f'error: {err}'
        return None
    if entry == 'init_cfg':
        return in_process(monkeypatch, root, 'train.py', cfg, *work, '--cfg-options', *TRAIN,
                          'model.backbone.init_cfg._delete_=True',
                          'model.backbone.init_cfg.type=Pretrained',
                          f'model.backbone.init_cfg.checkpoint={path}', 'train_cfg.max_epochs=0')
    if entry == 'load_from':
        return in_process(monkeypatch, root, 'train.py', cfg, *work, '--cfg-options', *TRAIN,
                          f'load_from={path}', 'train_cfg.max_epochs=0')
    if entry == 'resume':
        return in_process(monkeypatch, root, 'train.py', cfg, *work, '--resume', path,
                          '--cfg-options', *TRAIN, 'train_cfg.max_epochs=0')
    if entry == 'test':
        return in_process(monkeypatch, root, 'test.py', cfg, path, *work)
    if entry == 'convert':
        return in_process(monkeypatch, root, 'model_converters/convert_pvt.py', path,
                          root / 'converted.pth')
    if entry == 'export':
        return in_process(monkeypatch, root, 'deployment/export_onnx.py', cfg, path,
                          '--backbone-only', '--shape', 64, 64, '--out', root / 'b.onnx')
    return in_process(monkeypatch, root, 'demo.py', root / 'image.png', cfg, path, '--out',
                      root / 'drawn.png')


@pytest.mark.parametrize('entry', ENTRIES)
def test_every_corpus_file_is_one_named_line_through_every_entry_point(entry, setup, monkeypatch):
    """Hostile files: one line, ``error: <file>: <problem>``. The other files (a list, a
    ``state_dict`` of None, weights of no model here, an mmengine checkpoint of another model)
    either run where that is right (demo draws with what it could load) or fail the same way;
    none raises. No marker file appears."""
    root, entries, runner = setup
    problems = []
    for name, e in entries.items():
        try:
            msg = _run(entry, e.path, root, runner, monkeypatch)
        except Exception as err:  # noqa: B902  (what the test is for)
            problems.append(f'{name}: raised {type(err).__name__}: {err}')
            continue
        if (root / MARKER).exists():
            problems.append(f'{name}: left the marker file')
        if msg is None:
            if e.hostile or entry in ('test', 'hook', 'resume', 'convert', 'export'):
                problems.append(f'{name}: ran to the end')
            continue
        if not msg.startswith('error: ') or e.path not in msg or '\n' in msg.strip():
            problems.append(f'{name}: {msg!r}')
    assert not problems, '\n'.join(problems)
