"""Faults a long run meets: bad or unreachable checkpoints wherever one is taken, checkpoints that
leave weights unset, a job killed mid-training, a newest checkpoint cut short, DDP gradient
layouts, multi-node and slurm launches, an evaluation split that does not divide by the world
size, an unwritable work dir and a write that fails mid-run. Real tools, real mmengine / mmdet /
mmseg."""
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from pvt_mm.fileio import download_cache_path, read_checkpoint
from tools_helper import (ROOT, SMALL_TOY, TOOLS, built_once, config, hub_cache, in_process,
                          load_weights, run, tool_in_process)

RETINANET = config('quickstart/retinanet_pvtv2-b0_fpn_toy.py')
FPN = config('quickstart/fpn_pvtv2-b0_toy-192x192.py')
NO_WORKERS = [
    f'{split}_dataloader.{k}' for split in ('train', 'val', 'test')
    for k in ('num_workers=0', 'persistent_workers=False')
]
DET = [
    *SMALL_TOY, *NO_WORKERS, 'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1',
    'train_cfg.val_begin=100', 'default_hooks.logger.interval=1',
    'default_hooks.checkpoint.interval=1'
]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A real checkpoint: RetinaNet PVTv2-b0 trained one epoch on the toy data by tools/train.py
    in this process (once for both xdist workers; the tests only read it)."""

    def build(root):
        with pytest.MonkeyPatch.context() as monkeypatch:
            msg = in_process(monkeypatch, root, 'train.py', RETINANET, '--work-dir', root / 'work',
                             '--cfg-options', *DET)
        assert msg is None, msg

    root = built_once(tmp_path_factory, 'faults_trained', build)
    return root, root / 'work' / 'epoch_1.pth'


@pytest.fixture(scope='module')
def files(trained, tmp_path_factory):
    """The trained checkpoint cut in half, and saved as safetensors (whole model, and in a
    Hugging Face Hub cache as ``hf-hub:someone/toy-retinanet``)."""
    from safetensors.torch import save_file
    root = tmp_path_factory.mktemp('files')
    data = trained[1].read_bytes()
    (root / 'truncated.pth').write_bytes(data[:len(data) // 2])
    weights = {k: v.contiguous() for k, v in load_weights(trained[1]).items()}
    save_file(weights, root / 'model.safetensors')
    hub_cache(root / 'hub', 'someone/toy-retinanet',
              {'model.safetensors': root / 'model.safetensors'})
    return root


@pytest.mark.parametrize('entry', ['init_cfg', 'load_from', 'resume', 'test', 'convert', 'export'])
def test_every_entry_point_reads_through_the_one_reader(entry, files, trained, tmp_path,
                                                        monkeypatch):
    """Each tool argument or config key that takes a checkpoint reads it with pvt_mm's reader:
    a bad file is one error line naming it and the problem (tests/test_fileio.py has every bad
    file), a safetensors file loads like a .pth, URLs and hf-hub: references work where a path
    does (offline: a failed download is one line too)."""
    cwd, ckpt = trained
    work = ['--work-dir', tmp_path / 'work']
    truncated = files / 'truncated.pth'

    def run_entry(path, *extra):
        if entry == 'init_cfg':
            return in_process(monkeypatch, cwd, 'train.py', RETINANET, *work, '--cfg-options', *DET,
                              'model.backbone.init_cfg._delete_=True',
                              'model.backbone.init_cfg.type=Pretrained',
                              f'model.backbone.init_cfg.checkpoint={path}', *extra)
        if entry == 'load_from':
            return in_process(monkeypatch, cwd, 'train.py', RETINANET, *work, '--cfg-options', *DET,
                              f'load_from={path}', *extra)
        if entry == 'resume':
            return in_process(monkeypatch, cwd, 'train.py', RETINANET, *work, '--resume', path,
                              '--cfg-options', *DET, *extra)
        if entry == 'test':
            return in_process(monkeypatch, cwd, 'test.py', RETINANET, path, *work, '--cfg-options',
                              *DET, 'model.test_cfg.score_thr=0.0', *extra)
        if entry == 'convert':
            return in_process(monkeypatch, cwd, 'model_converters/convert_pvt.py', path,
                              tmp_path / 'out.pth')
        return in_process(monkeypatch, cwd, 'deployment/export_onnx.py', RETINANET, path,
                          '--backbone-only', '--shape', 64, 64, '--out', tmp_path / 'b.onnx')

    msg = run_entry(truncated)
    assert msg is not None and msg.startswith(f'error: {truncated}: truncated'), msg
    assert 'weights_only' not in msg
    if entry == 'init_cfg':  # an offline node: the release URL cannot be reached
        url = 'https://pvt-mm-test.invalid/pvt_v2_b0.pth'
        monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
        msg = run_entry(url)
        assert msg.startswith(f'error: {url}: could not be downloaded (') and '\n' not in msg
        cached = download_cache_path(url)
        assert cached.startswith(str(tmp_path / 'torch' / 'hub' / 'checkpoints')) and cached in msg
        assert '--cfg-options model.backbone.init_cfg.checkpoint=' in msg
    if entry in ('load_from', 'test', 'convert'):  # the whole model as safetensors
        assert run_entry(files / 'model.safetensors') is None
    if entry == 'test':  # and from the Hugging Face Hub's cache, offline
        import huggingface_hub
        monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_CACHE', str(files / 'hub'))
        monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)
        assert run_entry('hf-hub:someone/toy-retinanet') is None
        msg = run_entry('hf-hub:someone/missing')
        assert msg.startswith('error: hf-hub:someone/missing: could not be fetched')


def test_test_py_refuses_a_checkpoint_that_leaves_weights_unset(trained, tmp_path, monkeypatch,
                                                                capsys):
    cwd, ckpt = trained
    partial = read_checkpoint(str(ckpt))
    partial['state_dict'] = {
        k: v
        for k, v in partial['state_dict'].items() if not k.startswith('bbox_head.')
    }
    torch.save(partial, tmp_path / 'no_head.pth')
    msg = in_process(monkeypatch, cwd, 'test.py', RETINANET, tmp_path / 'no_head.pth', '--work-dir',
                     tmp_path / 'w', '--cfg-options', *DET)
    assert msg.startswith(f'error: {tmp_path / "no_head.pth"}: fits ')
    fitted, total = map(int, re.search(r'fits (\d+) of the model\'s (\d+) tensors', msg).groups())
    assert 0 < fitted < total and 'missing (first: bbox_head.' in msg
    assert '--allow-partial-checkpoint' in msg
    out = tool_in_process(monkeypatch, capsys, cwd, 'test.py', RETINANET, tmp_path / 'no_head.pth',
                          '--allow-partial-checkpoint', '--work-dir', tmp_path / 'w2',
                          '--cfg-options', *DET, 'model.test_cfg.score_thr=0.0')
    assert f'fits {fitted} of the model\'s {total} tensors' in out and 'coco/bbox_mAP' in out


def test_killed_run_resumes_to_the_same_weights(tmp_path, monkeypatch, capsys):
    """SIGKILL after the second checkpoint, then --resume from that checkpoint's path: the
    final weights equal an uninterrupted run's, bit for bit; with the newest checkpoint cut in
    half (a kill while saving, with a tool that does not save atomically), --resume without a
    path says so and starts from the one before, with the same result. The killed run is a
    process of its own; the uninterrupted run and the resumed ones run train.py in this one."""
    opts = [
        '--cfg-options', *DET, 'toy_data.num_train=4', 'train_cfg.max_epochs=4',
        'default_hooks.checkpoint.interval=1', 'model.backbone.drop_path_rate=0.1'
    ]
    tool_in_process(monkeypatch, capsys, tmp_path, 'train.py', RETINANET, '--work-dir',
                    tmp_path / 'full', *opts)
    work = tmp_path / 'killed'
    proc = subprocess.Popen(
        [sys.executable,
         osp.join(TOOLS, 'train.py'), RETINANET, '--work-dir', work, *opts],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, OMP_NUM_THREADS=str(torch.get_num_threads())))
    last = work / 'last_checkpoint'
    deadline = time.time() + 300
    while not (last.is_file() and last.read_text().endswith('epoch_2.pth')):
        assert proc.poll() is None and time.time() < deadline, 'training ended early'
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (work / 'epoch_4.pth').exists() and (work / 'epoch_2.pth').is_file()
    damaged = tmp_path / 'damaged'
    shutil.copytree(work, damaged)
    out = tool_in_process(monkeypatch, capsys, tmp_path, 'train.py', RETINANET, '--work-dir', work,
                          '--resume', work / 'epoch_2.pth', *opts)
    assert 'resumed epoch: 2' in out
    newest = (damaged / 'epoch_2.pth').read_bytes()
    (damaged / 'epoch_2.pth').write_bytes(newest[:len(newest) // 2])
    (damaged / 'last_checkpoint').write_text(str(damaged / 'epoch_2.pth'))
    out = tool_in_process(monkeypatch, capsys, tmp_path, 'train.py', RETINANET, '--work-dir',
                          damaged, '--resume', *opts)
    assert f'{damaged / "epoch_2.pth"}: truncated' in out
    assert f'resuming from {damaged / "epoch_1.pth"} instead' in out
    assert 'resumed epoch: 1' in out
    full = load_weights(tmp_path / 'full/epoch_4.pth')
    for resumed in (work, damaged):
        weights = load_weights(resumed / 'epoch_4.pth')
        assert weights.keys() == full.keys()
        for k in full:
            assert torch.equal(full[k], weights[k]), (resumed, k)


def test_checkpoint_write_failure_stops_and_keeps_the_previous_one(tmp_path):
    """A write that fails mid-run (a file size limit, as a full disk): the run stops with one
    line naming the checkpoint; epoch_1.pth and last_checkpoint are intact, no partial file."""
    child = tmp_path / 'limited.py'
    child.write_text(f"""_base_ = '{RETINANET}'
custom_imports = dict(imports=['pvt_mm', 'pvt_mm.testing'], allow_failed_imports=False)
custom_hooks = [dict(type='RNGStateHook'), dict(type='CheckpointFitHook'),
                dict(type='FileSizeLimitHook', after_epoch=1, limit_bytes=1 << 20)]
""")
    work = tmp_path / 'work'
    proc = subprocess.run([
        sys.executable,
        osp.join(TOOLS, 'train.py'), child, '--work-dir', work, '--cfg-options', *DET,
        'train_cfg.max_epochs=2'
    ],
                          cwd=tmp_path,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f'error: {work / "epoch_2.pth"}: could not be written (File too large); the file under '
        'that name, if any, is unchanged')
    assert sorted(p.name for p in work.glob('*.pth*')) == ['epoch_1.pth']
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_1.pth')
    read_checkpoint(str(work / 'epoch_1.pth'))


@pytest.mark.parametrize('tool_name', ['train.py', 'test.py'])
def test_unusable_work_dir_fails_at_start(tool_name, trained, tmp_path, monkeypatch):
    (tmp_path / 'a_file').write_text('')
    args = [trained[1]] if tool_name == 'test.py' else []
    for work in (tmp_path / 'a_file' / 'work', tmp_path / 'a_file', '/proc/pvt_mm_work'):
        msg = in_process(monkeypatch, tmp_path, tool_name, RETINANET, *args, '--work-dir', work,
                         '--cfg-options', *DET)
        assert msg.startswith(f'error: work dir {work}: cannot be created or written ('), msg


def test_ddp_gradients_keep_parameter_layout_and_equal_single_process(tmp_path):
    """2-process CPU DDP of a PVTv2 backbone: no 'Grad strides do not match bucket view strides'
    warning (every gradient in its parameter's layout), gradients equal to one process's."""
    out = run([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29521',
        osp.join(ROOT, 'tests', 'dist_grad_check.py')
    ],
              cwd=tmp_path)
    assert out.count('CHECKED') == 2
    assert 'Grad strides do not match' not in out


def test_multi_node_launch_trains_identically_on_both_nodes(tmp_path):
    """tools/dist_train.sh with NNODES=2 and NODE_RANK=0/1 (two 'nodes' of one CPU process each,
    gloo): both end with the same weights; without CUDA the decode head's SyncBN is built as BN,
    so only its running statistics are per process."""
    dump = tmp_path / 'ranks'
    child = tmp_path / 'dist_cfg.py'
    child.write_text(f"""_base_ = '{FPN}'
custom_imports = dict(imports=['pvt_mm', 'pvt_mm.testing'], allow_failed_imports=False)
custom_hooks = [dict(type='RNGStateHook'), dict(type='DumpRankWeightsHook', out_dir='{dump}')]
""")
    env = dict(
        os.environ,
        NNODES='2',
        MASTER_ADDR='127.0.0.1',
        PORT='29522',
        OMP_NUM_THREADS='1',
        PYTHONUNBUFFERED='1')
    cmd = [
        'bash',
        osp.join(TOOLS, 'dist_train.sh'), child, '1', '--work-dir', tmp_path / 'work',
        '--cfg-options', *SMALL_TOY, *NO_WORKERS, 'train_cfg.max_iters=4',
        'train_cfg.val_interval=100', 'train_dataloader.batch_size=2'
    ]
    nodes = [
        subprocess.Popen(
            list(map(str, cmd)),
            cwd=tmp_path,
            env=dict(env, NODE_RANK=str(r)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True) for r in (0, 1)
    ]
    outs = [n.communicate(timeout=600)[0] for n in nodes]
    assert [n.returncode for n in nodes] == [0, 0], outs[0][-3000:] + outs[1][-3000:]
    assert 'Distributed training: True' in outs[0]
    assert 'SyncBN layers are built as BN' in outs[0]
    before = torch.load(dump / 'before_rank0.pth')['params']
    after = [torch.load(dump / f'after_rank{r}.pth') for r in (0, 1)]
    for k, v in after[0]['params'].items():
        assert torch.equal(v, after[1]['params'][k]), k
    assert sum(not torch.equal(after[0]['params'][k], v)
               for k, v in before.items()) > len(before) // 2
    differ = [
        k for k, v in after[0]['buffers'].items() if not torch.equal(v, after[1]['buffers'][k])
    ]
    assert differ and all('.bn.running_' in k for k in differ)


def test_slurm_scripts_build_the_srun_command(tmp_path):
    env = {'SRUN': 'echo', 'GPUS': '16', 'GPUS_PER_NODE': '8', 'CPUS_PER_TASK': '4'}
    out = run(
        ['bash', osp.join(TOOLS, 'slurm_train.sh'), 'gpu', 'pvt', 'cfg.py', 'work', '--amp'],
        cwd=tmp_path,
        env=env).strip().splitlines()[-1]
    assert out == (f'-p gpu --job-name=pvt --gres=gpu:8 --ntasks=16 --ntasks-per-node=8 '
                   f'--cpus-per-task=4 --kill-on-bad-exit=1 python -u {TOOLS}/train.py cfg.py '
                   '--work-dir=work --launcher=slurm --amp')
    out = run(['bash', osp.join(TOOLS, 'slurm_test.sh'), 'gpu', 'pvt', 'cfg.py', 'ckpt.pth'],
              cwd=tmp_path,
              env=env).strip().splitlines()[-1]
    assert out.endswith(f'python -u {TOOLS}/test.py cfg.py ckpt.pth --launcher=slurm')


def test_uneven_evaluation_split_gives_single_process_metrics(tmp_path, monkeypatch, capsys):
    """5 validation images on 2 processes: mmengine's sampler pads the last batch with a
    repeated image and its result collection drops it again, so the COCO metrics equal one
    process's (handled by mmengine for every metric, shown here; the one process is
    tools/test.py in this one)."""
    cfg, metric, port = RETINANET, 'coco/bbox_mAP', 29523
    from mmengine.config import Config

    from tools_helper import build_model
    opts = [
        *SMALL_TOY, *NO_WORKERS, 'toy_data.num_val=5', 'test_dataloader.batch_size=1',
        'model.test_cfg.score_thr=0.0'
    ]
    torch.manual_seed(0)
    model = build_model(Config.fromfile(cfg))
    torch.save({'state_dict': model.state_dict()}, tmp_path / 'init.pth')
    single = tool_in_process(monkeypatch, capsys, tmp_path, 'test.py', cfg, tmp_path / 'init.pth',
                             '--work-dir', tmp_path / 'one', '--cfg-options', *opts)
    dist = run([
        'bash',
        osp.join(TOOLS, 'dist_test.sh'), cfg, tmp_path / 'init.pth', '2', '--work-dir',
        tmp_path / 'two', '--cfg-options', *opts
    ],
               cwd=tmp_path,
               env={'PORT': str(port)})

    def metrics(out):
        found = re.findall(r'(?:coco/\w+|aAcc|mIoU|mAcc): (-?\d+\.\d+)', out)
        assert found, out[-2000:]
        return found

    assert re.search(r'\(test\) +\[5/5\]', single) and re.search(r'\(test\) +\[3/3\]', dist)
    assert metrics(single) == metrics(dist) and metric in single


def test_resume_falls_back_from_a_newest_checkpoint_cut_anywhere(trained, tmp_path):
    """A newest checkpoint cut at any length (a fuzz over cut sizes of a real checkpoint: every
    997 bytes of the first 80 kB, where the zip records start, then 40 sizes over the rest) is
    passed over for the previous one."""
    from pvt_mm.cli import find_resumable_checkpoint
    data = trained[1].read_bytes()
    work = tmp_path / 'work'
    work.mkdir()
    shutil.copy(trained[1], work / 'epoch_1.pth')
    (work / 'last_checkpoint').write_text(str(work / 'epoch_2.pth'))
    cuts = sorted(set(range(0, 80_000, 997)) | set(range(1, len(data), len(data) // 40)))
    for cut in cuts:
        (work / 'epoch_2.pth').write_bytes(data[:cut])
        assert find_resumable_checkpoint(str(work)) == str(work / 'epoch_1.pth'), cut


def test_converter_converts_in_place_and_a_failed_write_keeps_the_file(
        files, tmp_path, monkeypatch, capsys):
    """convert_pvt.py SRC SRC (a safetensors file, whose reader could map it) rewrites SRC whole,
    as safetensors (what its name says) and with its permissions (0600 stays 0600); a write that
    fails (a file-size limit, as a full disk) leaves the file as it was. The converter runs in
    this process but for the write that fails, which needs a process of its own (the limit)."""
    import resource

    from safetensors.torch import load_file
    src = tmp_path / 'model.safetensors'
    shutil.copy(files / 'model.safetensors', src)
    os.chmod(src, 0o600)
    before = read_checkpoint(str(src))
    tool_in_process(monkeypatch, capsys, tmp_path, 'model_converters/convert_pvt.py', src, src)
    after = load_file(src)  # safetensors' own reader
    assert set(after) == set(before) and all(torch.equal(after[k], v) for k, v in before.items())
    assert os.stat(src).st_mode & 0o777 == 0o600
    tool_in_process(monkeypatch, capsys, tmp_path, 'model_converters/convert_pvt.py', src,
                    tmp_path / 'out.pth')
    assert set(read_checkpoint(str(tmp_path / 'out.pth'))['state_dict']) == set(before)
    os.remove(tmp_path / 'out.pth')
    data = src.read_bytes()
    limit = len(data) // 2

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    proc = subprocess.run(
        [sys.executable, f'{TOOLS}/model_converters/convert_pvt.py',
         str(src), str(src)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        preexec_fn=small_files)
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith(f'error: {src}: could not be written (File too large); '
                                        'the file under that name, if any, is unchanged')
    assert src.read_bytes() == data and os.listdir(tmp_path) == ['model.safetensors']
