import os.path as osp
import subprocess

import pytest
import torch

import pvt_mm  # noqa: F401  (registers the backbones, applies the compat fixes)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    """Every test runs in its own temporary directory: whatever a tool writes to its working
    directory (toy data, work_dirs) never lands in the checkout."""
    monkeypatch.chdir(tmp_path)


def _untracked():
    """Untracked and ignored files of the checkout, caches aside (None without git)."""
    try:
        out = subprocess.run(['git', 'status', '--porcelain', '--ignored', '--untracked-files=all'],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    caches = ('__pycache__', '.pytest_cache', '.egg-info')
    return {line[3:] for line in out.splitlines() if not any(c in line for c in caches)}


def pytest_sessionstart(session):
    session.config._checkout_before = _untracked()


def pytest_sessionfinish(session, exitstatus):
    before = session.config._checkout_before
    after = _untracked()
    if before is None or after is None:
        return
    new = sorted(after - before)
    if new:
        session.config.pluginmanager.get_plugin('terminalreporter').write_line(
            f'tests wrote into the checkout: {", ".join(new)}', red=True)
        session.exitstatus = 1
