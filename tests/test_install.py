"""tools/install.sh stops at once, saying why, when it would have to build mmcv without a C++
compiler (before installing anything)."""
import os
import os.path as osp
import subprocess
import sys

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
