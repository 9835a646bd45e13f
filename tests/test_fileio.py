"""pvt_mm.fileio: the one checkpoint reader (PyTorch and safetensors files, http(s) URLs,
``hf-hub:`` references, mmengine's named models), its weights-only unpickler, and atomic writes;
every bad input is one error naming the file. tests/hostile_files.py builds the hostile corpus."""
import http.server
import io
import json
import os
import pickle
import re
import struct
import threading
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from safetensors.torch import save_file

from pvt_mm.fileio import CheckpointError, WriteError, atomic_write, read_checkpoint
from pvt_mm.fileio.unpickler import _MMENGINE_CALLS, _MMENGINE_CLASSES, names
from hostile_files import MARKER
from hostile_files import WEIGHTS as REFERENCE
from hostile_files import corpus, mmengine_checkpoint
from tools_helper import hub_cache
from torch_weights_only import torch_own_results

WEIGHTS = OrderedDict(w=torch.arange(6.).reshape(2, 3), b=torch.ones(3, dtype=torch.float16))


def test_the_unpickler_names_only_what_torchs_own_list_has_and_mmengines_classes():
    """Every name the reader resolves is in torch's own weights-only list on this torch, or one
    of the few that mmengine's checkpoints need; none is a module, and calls go to pvt_mm's
    checking wrappers wherever torch's function takes sizes or hooks from the file."""
    from torch import _weights_only_unpickler
    torch_own = _weights_only_unpickler._get_allowed_globals()
    table = names()
    extra = set(table) - set(torch_own)
    assert extra <= set(_MMENGINE_CALLS) | set(_MMENGINE_CLASSES), sorted(extra)
    assert all(
        name.startswith(('numpy.', 'mmengine.',
                         '_codecs.')) or name in ('builtins.getattr', '__builtin__.getattr',
                                                  'collections.Counter')
        for name in extra), sorted(extra)
    assert 'torch._utils._rebuild_tensor_v2' in table
    assert table['torch._utils._rebuild_tensor_v2'] is not torch._utils._rebuild_tensor_v2
    for refused in ('torch._utils._rebuild_sparse_tensor', 'torch._utils._rebuild_qtensor',
                    'torch._utils._rebuild_meta_tensor_no_storage', 'torch.Tensor',
                    'torch._tensor._rebuild_from_type_v2', 'torch.nn.parameter.Parameter',
                    'numpy.dtypes.Float64DType', 'builtins.eval', 'torch.QInt8Storage'):
        assert refused not in table, refused


@pytest.fixture
def good(tmp_path):
    """The same weights as a torch.save zip file, a legacy pickle and safetensors (each under a
    name that says nothing of its format, or the other format's)."""
    paths = dict(
        zip=tmp_path / 'zip.ckpt',
        legacy=tmp_path / 'legacy.ckpt',
        safetensors=tmp_path / 'model.pth',
        zip_named_safetensors=tmp_path / 'zip.safetensors')
    torch.save(WEIGHTS, paths['zip'])
    torch.save(WEIGHTS, paths['zip_named_safetensors'])
    torch.save(WEIGHTS, paths['legacy'], _use_new_zipfile_serialization=False)
    save_file(WEIGHTS, paths['safetensors'], metadata={'format': 'pt'})
    return paths


def test_every_format_is_read_by_its_content(good):
    for kind, path in good.items():
        loaded = read_checkpoint(str(path))
        assert set(loaded) == set(WEIGHTS), kind
        for k, v in WEIGHTS.items():
            assert torch.equal(loaded[k], v) and loaded[k].dtype == v.dtype, (kind, k)


def _safetensors(header: bytes, data: bytes = b'') -> bytes:
    return struct.pack('<Q', len(header)) + header + data


def _rezipped(path, change):
    """A torch.save zip file with each record passed through ``change(name, data)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as dst:
        for name in src.namelist():
            dst.writestr(name, change(name, src.read(name)))
    return out.getvalue()


def _claim_2_40_elements(name, data):
    """data.pkl with the first tensor's size (2, 3) turned into (2, 2**40)."""
    if name.endswith('data.pkl'):
        assert data.count(b'K\x02K\x03\x86') == 1
        return data.replace(b'K\x02K\x03\x86', b'K\x02\x8a\x06\x00\x00\x00\x00\x00\x01\x86')
    return data


def _bad_files(tmp_path, good):
    noise = np.random.default_rng(0).bytes(4096)
    assert noise[:1] != b'\x80' and noise[:4] != b'PK\x03\x04'
    files = {}
    for name, data, problem in [
        ('random.pth', noise, 'not a PyTorch or safetensors checkpoint'),
        ('empty.pth', b'', 'is empty'),
        ('cut.pth', good['zip'].read_bytes()[:300],
         'truncated or corrupt (300 bytes; the data ends before the end of the checkpoint)'),
        ('cut_legacy.pth', good['legacy'].read_bytes()[:300],
         'truncated or corrupt (300 bytes; the data ends before the end of the checkpoint)'),
        ('cut.safetensors', good['safetensors'].read_bytes()[:-8],
         'truncated or corrupt ({size} bytes; the safetensors header describes {whole})'),
        ('bad_header.safetensors', good['safetensors'].read_bytes().replace(b'"', b'!', 1),
         'header is not valid JSON'),
        ('nested.safetensors', _safetensors(b'{"a":' * 100_000 + b'1' + b'}' * 100_000),
         'header is not valid JSON'),
        ('string_offsets.safetensors',
         _safetensors(
             json.dumps({
                 'w': {
                     'dtype': 'F32',
                     'shape': [1],
                     'data_offsets': ['0', '4']
                 }
             }).encode(), b'\0' * 4), 'header does not describe tensors'),
        ('header_past_the_end.safetensors', struct.pack('<Q', 10**6) + b'{"a": 1}',
         'truncated or corrupt (16 bytes; the safetensors header alone is 1000000 bytes)'),
        ('short_record.pth',
         _rezipped(good['zip'], lambda name, data: data[:8] if name.endswith('/data/0') else data),
         'corrupt ({size} bytes; its tensor records are damaged: storage 0 of 24 bytes, '
         'whose record holds 8 bytes'),
        ('huge_tensor.pth', _rezipped(good['zip'], _claim_2_40_elements),
         'holds a tensor of size (2, 1099511627776) and stride (3, 1) over a storage of 6 '
         'elements')
    ]:
        (tmp_path / name).write_bytes(data)
        files[tmp_path / name] = problem.format(size=len(data), whole=len(data) + 8)
    (tmp_path / 'directory.pth').mkdir()
    files[tmp_path / 'directory.pth'] = 'is a directory'
    return files


def test_bad_files_get_one_named_error(tmp_path, good):
    for path, problem in _bad_files(tmp_path, good).items():
        with pytest.raises(CheckpointError) as err:
            read_checkpoint(str(path))
        assert str(err.value).startswith(f'{path}: ') and problem in str(err.value), path
    with pytest.raises(FileNotFoundError, match='checkpoint not found: .*missing.pth'):
        read_checkpoint(str(tmp_path / 'missing.pth'))


def test_mmengine_checkpoints_load_weights_only_and_the_allowance_stays_inside(tmp_path):
    """mmengine's own checkpoints (HistoryBuffers of numpy arrays, numpy scalars and dtypes, the
    RNG states) load through read_checkpoint, as real mmengine and numpy objects, and only there:
    torch.load elsewhere in the process still refuses them (pvt_mm changes nothing of torch's)."""
    hub = MessageHub.get_instance('pvt_mm_fileio')
    for i in range(3):
        hub.update_scalar('train/loss', 1.0 / (i + 1))
    ckpt = mmengine_checkpoint()
    ckpt['message_hub'] = hub.state_dict()
    path = tmp_path / 'epoch_1.pth'
    for legacy in (False, True):
        torch.save(ckpt, path, _use_new_zipfile_serialization=not legacy)
        loaded = read_checkpoint(str(path))
        buf = loaded['message_hub']['log_scalars']['train/loss']
        assert type(buf) is HistoryBuffer and buf.mean() == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
        assert buf.statistics('max') == 1.0  # the statistics methods work
        assert loaded['meta']['seed'] == 7 and type(loaded['meta']['seed']) is np.int64
        assert loaded['meta']['dtype'] == np.dtype('float32') and loaded['meta']['text'] == 'a'
        state = loaded['rng_state']['numpy']
        assert type(state[1]) is np.ndarray and state[1].dtype == np.uint32
        np.testing.assert_array_equal(state[1], ckpt['rng_state']['numpy'][1])
        assert state[1].flags.writeable  # a copy, not a view of the file's (read-only) bytes
        with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer|numpy'):
            torch.load(path, weights_only=True)  # after pvt_mm's load too


def test_hostile_history_buffers_are_refused_and_change_no_class_state(tmp_path):
    """HistoryBuffer.__setstate__ merges a file's statistics table into the class-wide one: a
    file mapping 'mean' to the max would change every buffer in the process. pvt_mm makes a
    HistoryBuffer through its constructor and refuses any table but the built-in one."""
    crafted = HistoryBuffer([1.0, 3.0], [1, 1])
    table = dict(HistoryBuffer._statistics_methods)
    HistoryBuffer._statistics_methods['mean'] = HistoryBuffer.max  # pickled as the file's table
    try:
        torch.save({'message_hub': {'log_scalars': {'loss': crafted}}}, tmp_path / 'crafted.pth')
    finally:
        HistoryBuffer._statistics_methods.update(table)
    with pytest.raises(CheckpointError, match='statistics other than its built-in ones'):
        read_checkpoint(str(tmp_path / 'crafted.pth'))
    assert HistoryBuffer._statistics_methods == table
    assert HistoryBuffer([1.0, 3.0], [1, 1]).statistics('mean') == 2.0


class _RunsCode:
    """Creates the marker file in the working directory when unpickled."""

    def __reduce__(self):
        return (os.system, (f'touch {MARKER}', ))


class _GetattrEscape:

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


class _Foreign:
    pass


@pytest.mark.parametrize(
    'payload', [_RunsCode(), _GetattrEscape(), _Foreign()],
    ids=['os.system', 'getattr-private', 'foreign-class'])
@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_pickled_objects_are_refused_by_name(tmp_path, payload, legacy, monkeypatch):
    path = tmp_path / 'evil.pth'
    torch.save({'meta': payload}, path, _use_new_zipfile_serialization=not legacy)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')  # no way around the reader
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(str(path))
    assert not (tmp_path / MARKER).exists()
    msg = str(err.value)
    assert re.match(rf'{re.escape(str(path))}: holds (a pickled |getattr\()', msg), msg
    assert 'weights-only load refuses' in msg and 'weights_only=False' not in msg


@pytest.fixture(scope='module')
def hostile(tmp_path_factory):
    """The corpus (tests/hostile_files.py), and what torch's own weights-only load of this torch
    does with each file (tests/torch_weights_only.py: in a process of its own, its memory and time
    bounded)."""
    folder = tmp_path_factory.mktemp('hostile')
    entries = corpus(folder)
    torch_says = torch_own_results([e.path for e in entries.values()], folder)
    return entries, {name: torch_says[e.path] for name, e in entries.items()}


def test_the_reader_refuses_whatever_torchs_own_refuses_and_every_hostile_file(
        hostile, tmp_path, monkeypatch):
    """The rule, on this torch: pvt_mm's reader refuses every file that torch's own
    weights_only=True refuses, except files holding only what mmengine's checkpoints hold; it
    refuses every hostile file, with one error naming the file (and, where the corpus says, the
    reason), before any harm: no marker file appears, and a tensor file read after each one (by
    pvt_mm and by torch's own load) has its values. Messages are short and printable, whatever
    the file holds (names with terminal escapes, huge or self-sharing values)."""
    entries, torch_says = hostile
    monkeypatch.chdir(tmp_path)
    reference = tmp_path / 'reference.pth'
    torch.save(REFERENCE, reference)
    problems = []
    for name, entry in entries.items():
        try:
            read_checkpoint(entry.path)
            result = None
        except CheckpointError as err:
            result = str(err)
        torch_refused = torch_says[name] != 'loaded'
        if entry.hostile and result is None:
            problems.append(f'{name}: hostile, and read (torch: {torch_says[name]})')
        if torch_refused and result is None and not entry.mmengine:
            problems.append(f'{name}: torch refuses it ({torch_says[name]}), pvt_mm reads it')
        if not entry.hostile and not torch_refused and result is not None:
            problems.append(f'{name}: benign, read by torch, refused: {result}')
        if result is not None and not result.startswith(f'{entry.path}: '):
            problems.append(f'{name}: the error does not name the file: {result}')
        if result is not None and (len(result) > len(entry.path) + 500 or not result.isprintable()):
            problems.append(f'{name}: a message of {len(result)} characters, or unprintable')
        if result is not None and entry.refusal and not any(r in result for r in entry.refusal):
            problems.append(f'{name}: expected {entry.refusal}, got {result}')
        if os.path.exists(MARKER):
            problems.append(f'{name}: left the marker file')
            os.remove(MARKER)
        for loaded in (read_checkpoint(str(reference)), torch.load(reference, weights_only=True)):
            if not all(torch.equal(loaded[k], v) for k, v in REFERENCE.items()):
                problems.append(f'{name}: a tensor file read after it has other values')
    assert not problems, '\n'.join(problems)
    assert sum(e.hostile for e in entries.values()) > 100


def test_rule_counterexamples_are_caught(hostile):
    """The rule's test can fail: a reader that read every file torch refuses would be caught (a
    file torch refuses and pvt_mm does not admit exists in the corpus), and so would a reader
    that refused benign files (some benign file torch reads exists)."""
    entries, torch_says = hostile
    assert any(torch_says[n] != 'loaded' and not e.mmengine for n, e in entries.items())
    assert any(torch_says[n] == 'loaded' and not e.hostile for n, e in entries.items())
    # And files torch's own load reads that pvt_mm refuses: it is stricter where torch's is not
    # safe enough (a tensor's backward hooks from the file; a record a thousandfold inflated).
    assert torch_says['tensor-backward-hook'] == 'loaded'
    assert torch_says['zip-deflate-bomb'] == 'loaded'


class _Server(http.server.ThreadingHTTPServer):
    """A local HTTP server: ``/a/model.pth`` and ``/b/model.pth`` serve two checkpoints (whatever
    the query string; more files may be given), ``/short.pth`` announces more bytes than it sends,
    ``/chunked.pth`` breaks off inside a chunk, ``/bad-length.pth`` sends an invalid
    Content-Length, ``/two-lengths.pth`` two that disagree (the first one true), anything else
    is a 404."""

    def __init__(self, payloads):

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_GET(self):
                path = self.path.split('?')[0]
                data = payloads.get(path, payloads['/a/model.pth'])
                if path not in payloads and path not in ('/short.pth', '/chunked.pth',
                                                         '/bad-length.pth', '/two-lengths.pth'):
                    self.send_error(404)
                    return
                self.send_response(200)
                if path == '/chunked.pth':
                    self.send_header('Transfer-Encoding', 'chunked')
                    self.end_headers()
                    self.wfile.write(b'%x\r\n' % len(data) + data[:100])
                else:
                    length = {'/short.pth': str(len(data)), '/bad-length.pth': '12abc'}
                    self.send_header('Content-Length', length.get(path, str(len(data))))
                    if path == '/two-lengths.pth':
                        self.send_header('Content-Length', str(len(data) + 100))
                    self.send_header('Connection', 'close')
                    self.end_headers()
                    self.wfile.write(data[:100] if path == '/short.pth' else data)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        super().__init__(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.server_address[1]}'
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_urls_are_downloaded_once_and_failures_are_one_named_error(tmp_path, good, monkeypatch,
                                                                   capsys):
    """Each URL has its own cached file (two files named model.pth on one server are two
    checkpoints); a query string's token is never printed; every failed download (HTTP error,
    cut short, broken off inside a chunk, an invalid length) is one error naming the URL, and
    leaves nothing in the cache."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    cache = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    other = dict(WEIGHTS, extra=torch.zeros(2))
    torch.save(other, tmp_path / 'other.pth')
    payloads = {
        '/a/model.pth': good['zip'].read_bytes(),
        '/b/model.pth': (tmp_path / 'other.pth').read_bytes()
    }
    server = _Server(payloads)
    secret = 'token=s3cr3t-value'
    try:
        a_url, b_url = f'{server.url}/a/model.pth?{secret}', f'{server.url}/b/model.pth'
        assert set(read_checkpoint(a_url)) == set(WEIGHTS)
        assert set(read_checkpoint(b_url)) == set(other)
        assert sorted(p.name.split('-', 1)[1] for p in cache.iterdir()) == ['model.pth'] * 2
        server.shutdown()
        assert set(read_checkpoint(a_url)) == set(WEIGHTS)  # cached: the server is gone
        server = _Server(payloads)
        for name, reason in [('missing.pth', 'HTTP 404'), ('short.pth', 'cut short'),
                             ('chunked.pth', 'broke off'),
                             ('bad-length.pth', "invalid Content-Length '12abc'"),
                             ('two-lengths.pth', 'conflicting Content-Length headers')]:
            url = f'{server.url}/{name}?{secret}'
            with pytest.raises(CheckpointError) as err:
                read_checkpoint(url)
            msg = str(err.value)
            assert msg.startswith(f'{server.url}/{name}?...: could not be downloaded'), msg
            assert reason in msg and f'-{name}' in msg, msg
            assert 'model.backbone.init_cfg.checkpoint=' in msg
            assert secret not in msg
            assert len(os.listdir(cache)) == 2  # no partial file, no temporary file
    finally:
        server.shutdown()
    assert secret not in capsys.readouterr().out
    with pytest.raises(CheckpointError, match='could not be downloaded .*(not known|resolution)'):
        read_checkpoint('https://pvt-mm-test.invalid/pvt_v2_b0.pth')


def test_every_checkpoint_scheme_of_mmengine_reads_through_pvt_mm():
    """After ``import pvt_mm`` every scheme of mmengine's CheckpointLoader (local files, http(s),
    torchvision:// and the other named models, s3:// ..., pavi://) is pvt_mm's reader: no other
    loader is left that unpickles whatever a file holds."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from pvt_mm.fileio import load_from_pvt_mm
    assert CheckpointLoader._schemes and all(
        loader is load_from_pvt_mm for loader in CheckpointLoader._schemes.values()), {
            prefix: loader.__name__
            for prefix, loader in CheckpointLoader._schemes.items()
        }
    for ref in ('model.pth', 'https://host/m.pth', 'torchvision://resnet50', 'mmcls://x',
                'open-mmlab://resnet50_caffe', 's3://bucket/m.pth', 'ceph:s3://b/m.pth'):
        assert CheckpointLoader._get_checkpoint_loader(ref) is load_from_pvt_mm, ref
    with pytest.raises(CheckpointError, match='^open-mmlab://nonet: mmengine knows no model'):
        load_from_pvt_mm('open-mmlab://nonet')
    with pytest.raises(CheckpointError, match='^pavi://m: pvt_mm reads no pavi://'):
        load_from_pvt_mm('pavi://m')


def test_scheme_references_that_cannot_be_read_are_named(tmp_path, monkeypatch):
    """A remote storage whose client is not installed, a malformed URL, and a named model whose
    cached file is no checkpoint (a list: mmengine's mmcls:// conversion would raise on it) are
    each one CheckpointError naming the reference."""
    from mmengine.runner.checkpoint import get_mmcls_models

    from pvt_mm.fileio import download_cache_path, load_from_pvt_mm
    with pytest.raises(CheckpointError, match='^s3://bucket/m.pth: cannot be read: '):
        load_from_pvt_mm('s3://bucket/m.pth')
    with pytest.raises(CheckpointError, match=r'^https://\[::1/x: not a valid URL'):
        load_from_pvt_mm('https://[::1/x')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    name, url = next(iter(get_mmcls_models().items()))
    cached = download_cache_path(url)
    os.makedirs(os.path.dirname(cached))
    torch.save([torch.ones(1)], cached)
    with pytest.raises(CheckpointError, match=f'^mmcls://{name}: holds a list, not a checkpoint'):
        load_from_pvt_mm(f'mmcls://{name}')


def test_a_hostile_url_is_refused_by_every_loader_in_the_process(tmp_path, good, monkeypatch):
    """A hostile checkpoint served over http is read by pvt_mm's reader wherever the process
    loads a URL: mmengine's load_checkpoint, mmdet's init_detector, a Runner's load_checkpoint
    and resume, any module's init_cfg (here a neck's, not a PVT); each refuses it by name and
    no code runs. A good file at a URL loads the same way."""
    from mmdet.apis import init_detector
    from mmengine.runner import Runner, load_checkpoint

    from pvt_mm.apis import build_model, load_config
    from tools_helper import config as config_path
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.chdir(tmp_path)
    torch.save({'state_dict': {'w': _RunsCode()}}, tmp_path / 'evil.pth')
    server = _Server({
        '/a/model.pth': good['zip'].read_bytes(),
        '/evil.pth': (tmp_path / 'evil.pth').read_bytes()
    })
    evil = f'{server.url}/evil.pth'
    cfg = load_config(
        config_path('quickstart/retinanet_pvtv2-b0_fpn_toy.py'),
        {'work_dir': str(tmp_path / 'work')})
    try:
        linear = torch.nn.Linear(3, 2)
        load_checkpoint(linear, f'{server.url}/a/model.pth', strict=False)  # a good one loads
        runner = Runner.from_cfg(cfg)
        neck_cfg = cfg.copy()
        neck_cfg.model.neck.init_cfg = dict(type='Pretrained', checkpoint=evil)
        loaders = {
            'load_checkpoint': lambda: load_checkpoint(linear, evil),
            'init_detector': lambda: init_detector(cfg, evil, device='cpu'),
            'Runner.load_checkpoint': lambda: runner.load_checkpoint(evil),
            'Runner.resume': lambda: runner.resume(evil),
            'init_cfg': lambda: build_model(neck_cfg).init_weights(),
        }
        for name, load in loaders.items():
            with pytest.raises(CheckpointError) as err:
                load()
            assert 'holds a pickled posix.system' in str(err.value) or \
                'holds a pickled os.system' in str(err.value), (name, str(err.value))
            assert not (tmp_path / MARKER).exists(), name
    finally:
        server.shutdown()


def test_hf_hub_references_read_the_cache_offline_and_misses_are_named(tmp_path, good, monkeypatch):
    """huggingface_hub's own cache and offline mode (no network here): a cached file loads, a
    missing repository or file is one error naming the reference, the reason and the cache."""
    import huggingface_hub
    cache = tmp_path / 'hub'
    hub_cache(cache, 'timm/pvt_v2_b0.in1k', {'model.safetensors': good['safetensors']})
    hub_cache(cache, 'someone/only_bin', {'pytorch_model.bin': good['zip']})
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_CACHE', str(cache))
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)
    assert set(read_checkpoint('hf-hub:timm/pvt_v2_b0.in1k')) == set(WEIGHTS)
    assert set(read_checkpoint('hf-hub:someone/only_bin')) == set(WEIGHTS)
    assert set(read_checkpoint('hf-hub:timm/pvt_v2_b0.in1k/model.safetensors')) == set(WEIGHTS)
    for ref in ('hf-hub:timm/pvt_v2_b9.in1k', 'hf-hub:timm/pvt_v2_b0.in1k/other.bin'):
        with pytest.raises(CheckpointError) as err:
            read_checkpoint(ref)
        msg = str(err.value)
        assert msg.startswith(f'{ref}: could not be fetched (HF_HUB_OFFLINE is set)'), msg
        assert 'not in the local cache' in msg and str(cache) in msg
    with pytest.raises(CheckpointError, match='not a Hub reference'):
        read_checkpoint('hf-hub:pvt_v2_b0')
    for ref in ('hf-hub:timm/../pvt_v2_b0', 'hf-hub:timm/pvt..b0'):
        with pytest.raises(CheckpointError, match=f'^{re.escape(ref)}: not a valid Hub reference'):
            read_checkpoint(ref)


def test_atomic_write_never_writes_through_a_planted_link(tmp_path):
    """In a shared work dir, links planted at the destination or at a guessable temporary name
    (``NAME.tmp-PID``) never get their targets overwritten: the temporary file is new, created
    exclusively under an unpredictable name, and the rename replaces a link, not its target."""
    victim = tmp_path / 'victim'
    victim.write_bytes(b'precious')
    (tmp_path / 'epoch_1.pth').symlink_to(victim)
    (tmp_path / f'latest.pth.tmp-{os.getpid()}').symlink_to(victim)
    atomic_write(b'new', tmp_path / 'epoch_1.pth')
    atomic_write(b'new', tmp_path / 'latest.pth')
    assert victim.read_bytes() == b'precious'
    for name in ('epoch_1.pth', 'latest.pth'):
        assert not (tmp_path / name).is_symlink() and (tmp_path / name).read_bytes() == b'new'
    assert sorted(os.listdir(tmp_path)) == sorted(
        ['victim', 'epoch_1.pth', 'latest.pth', f'latest.pth.tmp-{os.getpid()}'])


def test_atomic_write_leaves_the_old_file_when_a_write_fails(tmp_path):
    """A write that fails half-way (a file-size limit: EFBIG, as on a full disk, even for root)
    names the file and leaves the previous file and no temporary one."""
    import resource
    path = tmp_path / 'epoch_1.pth'
    atomic_write(b'old', path)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, limits[1]))  # Python ignores SIGXFSZ
    try:
        with pytest.raises(WriteError, match=f'{path}: could not be written'):
            atomic_write(b'new' * (1 << 20), path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
    assert path.read_bytes() == b'old' and os.listdir(tmp_path) == ['epoch_1.pth']
