"""The README's setup: tools/install.sh stops at once, saying why, when it would have to build
mmcv without a C++ compiler (before installing anything); after it, mim lists our configs. What
pvt_mm declares: the minimums are the oldest stack CI tests, the Python minimum is the one vermin
finds in the code, and installing pvt_mm into an environment that has the stack keeps its torch,
mmcv and numpy."""
import glob
import importlib.metadata
import os
import os.path as osp
import re
import subprocess
import sys
import sysconfig

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tools_helper import ROOT, TOOLS


def _requirements(name):
    with open(osp.join(ROOT, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [Requirement(line) for line in lines if line]


def test_declared_minimums_are_the_oldest_tested_stack_and_the_pinned_stack_satisfies_them():
    """Every minimum setup.py declares (runtime.txt, optional.txt) is what requirements/oldest.txt
    installs for CI, to the minor release (torch: pip keeps a user's 2.1.0 or 2.1.1; CI tests
    2.1.2, the last 2.1 release), and both tested stacks satisfy every declared range."""
    declared = {
        r.name: r.specifier
        for r in _requirements('runtime.txt') + _requirements('optional.txt')
    }
    stacks = {
        name: {
            r.name: Version(str(r.specifier).lstrip('='))
            for r in _requirements(name) if str(r.specifier).startswith('==')
        }
        for name in ('oldest.txt', 'pinned.txt')
    }
    minimums = {}
    for name, spec in declared.items():
        lower = [Version(s.version) for s in spec if s.operator == '>=']
        if lower:
            minimums[name] = lower[0]
    assert {'torch', 'numpy', 'mmengine', 'mmcv', 'mmdet', 'mmsegmentation'} <= set(minimums)
    for name, minimum in minimums.items():
        oldest = stacks['oldest.txt'][name]
        assert oldest.release[:2] == minimum.release[:2] and oldest >= minimum, (name, oldest)
    for stack, pins in stacks.items():
        for name, spec in declared.items():
            if name in pins:
                assert spec.contains(pins[name]), (stack, name, pins[name], spec)


def test_declared_python_minimum_is_the_one_vermin_finds():
    """vermin (a tool that reads the code's syntax and standard-library use) finds the oldest
    Python pvt_mm, its tools and configs run on; setup.py declares exactly that."""
    proc = subprocess.run([
        osp.join(osp.dirname(sys.executable), 'vermin'), '--no-tips', '--eval-annotations',
        '--no-make-paths-absolute', 'pvt_mm', 'tools', 'configs', 'setup.py'
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = re.search(r'Minimum required versions: (3\.\d+)', proc.stdout)
    assert found, proc.stdout
    with open(osp.join(ROOT, 'setup.py')) as f:
        declared = re.search(r"python_requires='>=(3\.\d+)'", f.read())
    assert declared and declared[1] == found[1], (declared, found[1])


def test_pip_install_into_an_existing_stack_keeps_its_torch_mmcv_and_numpy(tmp_path):
    """The README's command for users who already have mmdet 3.3, `pip install` of the
    repository, run in an environment that holds this stack (on the oldest stack: torch 2.1.2
    with its mmcv build and numpy 1.x): a new virtual environment that sees this one's packages
    as installed, so that pip installs into it alone. It adds pvt_mm and nothing else, and torch,
    mmcv (with its compiled ops) and numpy are still the ones this environment has."""
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], check=True)
    python = str(venv / 'bin' / 'python')
    venv_site = subprocess.run(
        [python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
        capture_output=True,
        text=True,
        check=True).stdout.strip()
    with open(osp.join(venv_site, 'existing-stack.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    probe = ('import torch, mmcv, numpy; from mmcv.ops import nms; '
             'print(torch.__version__, torch.__file__, mmcv.__version__, mmcv.__file__, '
             'numpy.__version__, numpy.__file__)')
    before = subprocess.run([python, '-c', probe], capture_output=True, text=True, check=True)
    proc = subprocess.run([python, '-m', 'pip', 'install', '--disable-pip-version-check', ROOT],
                          cwd=tmp_path,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    added = {
        dist.metadata['Name'].lower().replace('_', '-')
        for dist in importlib.metadata.distributions(path=[venv_site])
    }
    assert added == {'pvt-mm'}, proc.stdout
    after = subprocess.run([python, '-c', probe], capture_output=True, text=True, check=True)
    assert after.stdout == before.stdout
    import torch
    assert after.stdout.split()[0] == torch.__version__
    where = subprocess.run([python, '-c', 'import pvt_mm; print(pvt_mm.__file__)'],
                           cwd=tmp_path,
                           capture_output=True,
                           text=True,
                           check=True)
    assert where.stdout.startswith(venv_site), where.stdout


def test_install_stops_early_without_a_compiler(tmp_path):
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', tmp_path / 'venv'], check=True)
    bin_dir = tmp_path / 'bin'  # what the script needs, and no compiler
    bin_dir.mkdir()
    for tool in ('dirname', 'nproc', 'sed'):
        (bin_dir / tool).symlink_to(f'/usr/bin/{tool}')
    env = dict(
        os.environ,
        PATH=str(bin_dir),
        PYTHON=str(tmp_path / 'venv/bin/python'),
        PVT_MM_WHEELHOUSE=str(tmp_path / 'no_wheelhouse'))
    env.pop('CXX', None)
    proc = subprocess.run(['/bin/bash', osp.join(TOOLS, 'install.sh')],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert 'building mmcv needs a C++ compiler, and none was found' in proc.stderr
    assert 'mmcv 2.1.0 will be built from source' in proc.stdout
    assert 'Collecting' not in proc.stdout  # stopped before pip


def test_mim_search_lists_our_configs():
    """After the README's setup, OpenMMLab's `mim search pvt_mm` reads the model index that
    pvt_mm installs with its configs."""
    if not osp.isdir(osp.join(sysconfig.get_paths()['purelib'], 'pvt_mm')):
        pytest.skip('pvt_mm is installed editable (PVT_MM_EDITABLE=1): mim reads model indexes '
                    'from site-packages only')
    import ast

    import yaml
    mim = osp.join(osp.dirname(sys.executable), 'mim')  # installed next to this Python
    proc = subprocess.run([mim, 'search', 'pvt_mm', '--valid-config'],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = ast.literal_eval(proc.stdout.split('valid config ids:')[1].strip())
    expected = []
    for folder in ('pvt', 'pvtv2'):
        with open(osp.join(osp.dirname(TOOLS), 'configs', folder, 'metafile.yml')) as f:
            expected += [m['Name'] for m in yaml.safe_load(f)['Models']]
    shipped = glob.glob(osp.join(osp.dirname(TOOLS), 'configs', 'pvt*', '*.py'))
    assert sorted(listed) == sorted(expected) and len(listed) == len(shipped)  # every config
