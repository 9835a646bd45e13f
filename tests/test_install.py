"""The README's setup: tools/install.sh stops at once, saying why, when it would have to build
mmcv without a C++ compiler (before installing anything); after it, mim lists our configs."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from tools_helper import TOOLS


def test_install_stops_early_without_a_compiler(tmp_path):
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', tmp_path / 'venv'],
                   check=True)
    bin_dir = tmp_path / 'bin'  # what the script needs, and no compiler
    bin_dir.mkdir()
    for tool in ('dirname', 'nproc'):
        (bin_dir / tool).symlink_to(f'/usr/bin/{tool}')
    env = dict(os.environ, PATH=str(bin_dir), PYTHON=str(tmp_path / 'venv/bin/python'),
               PVT_MM_WHEELHOUSE=str(tmp_path / 'no_wheelhouse'))
    env.pop('CXX', None)
    proc = subprocess.run(['/bin/bash', osp.join(TOOLS, 'install.sh')], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert 'building mmcv needs a C++ compiler, and none was found' in proc.stderr
    assert 'mmcv 2.1.0 will be built from source' in proc.stdout
    assert 'Collecting' not in proc.stdout  # stopped before pip


def test_mim_search_lists_our_configs():
    """After the README's setup, OpenMMLab's `mim search pvt_mm` reads the model index that
    pvt_mm installs with its configs."""
    import importlib.metadata
    import json
    direct = importlib.metadata.distribution('pvt_mm').read_text('direct_url.json') or '{}'
    if json.loads(direct).get('dir_info', {}).get('editable'):
        pytest.skip('pvt_mm is installed editable (PVT_MM_EDITABLE=1): mim reads model indexes '
                    'from site-packages only')
    import ast

    import yaml
    mim = osp.join(osp.dirname(sys.executable), 'mim')  # installed next to this Python
    proc = subprocess.run([mim, 'search', 'pvt_mm', '--valid-config'], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = ast.literal_eval(proc.stdout.split('valid config ids:')[1].strip())
    expected = []
    for folder in ('pvt', 'pvtv2'):
        with open(osp.join(osp.dirname(TOOLS), 'configs', folder, 'metafile.yml')) as f:
            expected += [m['Name'] for m in yaml.safe_load(f)['Models']]
    assert sorted(listed) == sorted(expected) and len(listed) == 112
