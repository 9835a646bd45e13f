"""The pre-commit linters (.pre-commit-config.yaml: flake8, isort and yapf, OpenMMLab's, with
setup.cfg's settings) pass over every Python file of the repository, in the versions the
configuration pins."""
import re
import subprocess
import sys
from importlib.metadata import version

import pytest

from tools_helper import ROOT


def _python_files():
    out = subprocess.run(['git', 'ls-files', '*.py'], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip('not a git checkout: the tracked files are unknown')
    return out.stdout.split()


def test_pre_commit_pins_the_tested_versions():
    text = open(f'{ROOT}/.pre-commit-config.yaml').read()
    pins = dict(re.findall(r'repo: https://github.com/\w+/(\w+)\n\s+rev: v?([\d.]+)', text))
    assert pins == {name: version(name) for name in ('flake8', 'isort', 'yapf')}


@pytest.mark.parametrize(
    'cmd', [['flake8'], ['isort', '--check-only', '--diff'], ['yapf', '--diff']],
    ids=['flake8', 'isort', 'yapf'])
def test_linters_pass(cmd):
    files = _python_files()
    out = subprocess.run([sys.executable, '-m', *cmd, *files],
                         cwd=ROOT,
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, (out.stdout + out.stderr)[-6000:]
