"""pvt_mm.compat: mmengine checkpoints load with torch's weights_only=True, and nothing else."""
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from pvt_mm import compat


def test_weights_only_is_still_the_default():
    import inspect
    src = inspect.getsource(torch.serialization.load)
    assert 'weights_only' in src
    assert compat.checkpoint_safe_globals()


def test_mmengine_checkpoint_contents_load_weights_only(tmp_path):
    hub = MessageHub.get_instance('pvt_mm_compat')
    for i in range(3):
        hub.update_scalar('train/loss', 1.0 / (i + 1))
    hub.update_info('iter', 3)
    ckpt = {
        'meta': {'epoch': 1, 'iter': 3, 'seed': np.int64(7), 'lr': np.float64(1e-4),
                 'dataset_meta': {'classes': ('a', 'b'), 'palette': [(1, 2, 3)]},
                 'dtype': np.dtype('float32')},
        'state_dict': {'w': torch.ones(2)},
        'message_hub': hub.state_dict(),
    }
    path = tmp_path / 'epoch_1.pth'
    torch.save(ckpt, path)
    loaded = torch.load(path, weights_only=True)
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.mean() == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert buf.statistics('max') == 1.0  # the statistics methods survived
    assert loaded['meta']['seed'] == 7 and loaded['meta']['dtype'] == np.dtype('float32')


class _RunsCode:

    def __reduce__(self):
        return (os.system, ('echo pwned',))


class _GetattrEscape:

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


class _Foreign:
    pass


@pytest.mark.parametrize('payload', [_RunsCode(), _GetattrEscape(), _Foreign()],
                         ids=['os.system', 'getattr-private', 'foreign-class'])
def test_foreign_pickled_objects_are_refused(tmp_path, payload):
    path = tmp_path / 'evil.pth'
    torch.save({'meta': payload}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


def test_restricted_getattr():
    assert compat._history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        compat._history_buffer_getattr(os, 'system')


def test_known_warnings_silenced_others_shown(tmp_path):
    """setuptools' pkg_resources deprecation (five times at every tool's start) is gone; any
    other warning still shows."""
    import subprocess
    import sys

    from tools_helper import TOOLS
    proc = subprocess.run([sys.executable, f'{TOOLS}/train.py', 'missing.py'], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.stderr.strip() == 'error: config file not found: missing.py'
    proc = subprocess.run([sys.executable, '-c', 'import pvt_mm, warnings; '
                           'warnings.warn("a real warning", UserWarning)'],
                          capture_output=True, text=True)
    assert 'a real warning' in proc.stderr and 'pkg_resources' not in proc.stderr
