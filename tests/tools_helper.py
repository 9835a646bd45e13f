"""Run pvt_mm's real command-line tools in a subprocess, as a user would."""
import os
import os.path as osp
import subprocess
import sys

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(ROOT, 'tools')
CONFIGS = osp.join(ROOT, 'configs')
# A small toy dataset instead of the quickstart's default size.
SMALL_TOY = ['toy_data.num_train=8', 'toy_data.num_val=4', 'toy_data.size=(128,160)']


def run(cmd, cwd, timeout=600, env=None):
    """Run ``cmd`` (a list) in ``cwd``; fail the test with its output when it exits non-zero."""
    cmd = [str(c) for c in cmd]
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2', **(env or {}))
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, env=full_env)
    if proc.returncode != 0:
        raise AssertionError(f'{" ".join(cmd)} exited {proc.returncode}:\n{proc.stdout[-6000:]}')
    return proc.stdout


def tool(name, *args, cwd, **kwargs):
    return run([sys.executable, osp.join(TOOLS, name), *map(str, args)], cwd, **kwargs)


def config(rel):
    return osp.join(CONFIGS, rel)


def load_weights(path):
    ckpt = torch.load(path, map_location='cpu')
    return ckpt.get('state_dict', ckpt)
