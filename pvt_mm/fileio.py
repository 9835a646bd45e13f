"""Checkpoint files in and out: the one reader (local files, http(s) URLs, ``hf-hub:`` references;
PyTorch and safetensors formats) and atomic writes. Every failure is a :class:`CheckpointError`
or :class:`WriteError` whose message names the file and the problem.

Reading never runs code from a file: ``torch.load`` runs weights-only, allowing only torch's own
weights-only globals and the few classes mmengine's own checkpoints hold
(:func:`mmengine_checkpoint_globals`), and safetensors files hold tensors only. On torch >= 2.5
that is torch's ``weights_only=True`` with ``safe_globals``; older torch cannot extend its list
for one load, so there :func:`allow_list_load` reads with an unpickler that resolves exactly the
same list of globals and refuses every other (:data:`weights_only_load` is the one in use).
"""
import _compat_pickle
import codecs
import collections
import errno
import hashlib
import http.client
import json
import os
import os.path as osp
import pickle
import re
import secrets
import shutil
import struct
import tempfile
import types
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import HistoryBuffer, print_log


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; the message names the file and says what is wrong."""


class WriteError(OSError):
    """A file (a checkpoint, a log) that could not be written; the message names it."""


_ZIP_MAGIC = b'PK\x03\x04'  # torch.save's format is a zip archive
_PICKLE_PROTO = b'\x80'  # legacy torch.save files are pickles (protocol >= 2)
HF_HUB_PREFIX = 'hf-hub:'
# How a config names a backbone's weights, for the hint in download errors.
LOCAL_COPY_HINT = ('--cfg-options model.backbone.init_cfg.checkpoint=/path/to/file for a '
                   "backbone's weights, or pass the local file in place of the URL")


# The statistics HistoryBuffer registers itself and pickles by name (custom statistics are
# functions of the user's modules, which a weights-only load refuses anyway).
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(owner, name):
    """``getattr`` as HistoryBuffer pickles its statistics methods, limited to exactly those.

    ``HistoryBuffer.__getstate__`` stores ``{'min': HistoryBuffer.min, ...}``, which pickle
    writes as ``builtins.getattr(HistoryBuffer, 'min')``. A general ``getattr`` must never be
    allowed in a weights-only load, so this one resolves HistoryBuffer's own statistics only.
    """
    if owner is HistoryBuffer and name in _HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}) in a weights-only checkpoint load')


def mmengine_checkpoint_globals():
    """What mmengine 0.10's own checkpoints pickle beyond tensors (``message_hub`` holds
    ``HistoryBuffer`` objects with numpy arrays; ``meta`` may hold numpy scalars): the only
    globals :func:`read_checkpoint` allows beyond torch's own weights-only list (which refuses
    them, breaking ``--resume`` and ``tools/test.py``)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    found = [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'), np.ndarray, np.dtype]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        found += [(multiarray._reconstruct, f'{module}._reconstruct'),
                  (multiarray.scalar, f'{module}.scalar')]
    # numpy >= 1.25 pickles some dtypes through their classes (numpy.dtypes.Float64DType ...).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        found += [cls for name, cls in vars(dtypes).items()
                  if name.endswith('DType') and isinstance(cls, type)]
    return found


# The plain Python objects torch >= 2.6's weights-only list admits besides torch's own (older
# torch's list lacks them; numpy 1.x pickles its scalars' bytes with ``_codecs.encode``).
_PYTHON_GLOBALS = [(codecs.encode, '_codecs.encode'), bytearray, set, complex,
                   collections.Counter]


def allowed_globals() -> dict:
    """Every global a weights-only load may resolve, by pickled name: torch's own weights-only
    list, the plain Python objects newer torch adds to it, and
    :func:`mmengine_checkpoint_globals`; nothing else."""
    from torch import _weights_only_unpickler
    allowed = dict(_weights_only_unpickler._get_allowed_globals())
    for entry in _PYTHON_GLOBALS + mmengine_checkpoint_globals():
        obj, name = entry if isinstance(entry, tuple) else (
            entry, f'{entry.__module__}.{entry.__qualname__}')
        allowed[name] = obj
    return allowed


class _AllowListUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :func:`allowed_globals` (Python's documented way to
    restrict unpickling: every global, class or function a pickle names goes through
    ``find_class``); storages are resolved by torch's own wrapper before this is asked.

    ``record_sizes`` (a zip checkpoint's ``data/KEY`` record sizes) are checked against the
    sizes the pickle claims before torch reads a record: torch < 2.5 does not check, and reads
    past the end of a record that is too short."""

    record_sizes: Optional[Dict[str, int]] = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._allowed = allowed_globals()

    def find_class(self, module, name):
        # Python 2 names, as pickle itself maps them (torch.save writes protocol 2 pickles).
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        found = self._allowed.get(f'{module}.{name}')
        if found is None:
            raise pickle.UnpicklingError(f'Unsupported global: GLOBAL {module}.{name}')
        return found

    def persistent_load(self, pid):
        """Check a storage's record, then call torch's loader (which torch assigns to the
        instance after creating it, so that it lands in the instance's ``__dict__``)."""
        if self.record_sizes is not None and isinstance(pid, tuple) and len(pid) >= 5:
            storage_type, key, numel = pid[1], str(pid[2]), pid[4]
            dtype = getattr(storage_type, 'dtype', None)  # UntypedStorage: numel is bytes
            dtype = dtype if isinstance(dtype, torch.dtype) else torch.uint8
            expected = numel * torch.empty((), dtype=dtype).element_size()
            if key in self.record_sizes and self.record_sizes[key] != expected:
                raise RuntimeError(f'record size ({self.record_sizes[key]} bytes) does not match '
                                   f'expected size ({expected} bytes) of storage {key}')
        return self.__dict__['persistent_load'](pid)


def _zip_record_sizes(file) -> Optional[Dict[str, int]]:
    """``{KEY: size}`` of a zip checkpoint's ``ARCHIVE/data/KEY`` records (None for another
    format); the file's position is left at its start."""
    try:
        with zipfile.ZipFile(file) as archive:
            return {info.filename.rsplit('/data/', 1)[1]: info.file_size
                    for info in archive.infolist() if '/data/' in info.filename}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        if hasattr(file, 'seek'):
            file.seek(0)


def allow_list_load(file, map_location, mmap: bool):
    """``torch.load`` through :class:`_AllowListUnpickler`: a weights-only load on any torch."""
    unpickler = type('Unpickler', (_AllowListUnpickler, ),
                     {'record_sizes': _zip_record_sizes(file)})
    module = types.ModuleType('pvt_mm_allow_list_pickle')  # what torch.load uses of a module
    module.Unpickler = unpickler
    module.load = lambda f, **kwargs: unpickler(f, **kwargs).load()
    return torch.load(file, map_location=map_location, weights_only=False, mmap=mmap,
                      pickle_module=module)


def safe_globals_load(file, map_location, mmap: bool):
    """torch's own weights-only load, with mmengine's classes allowed for this load only."""
    with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
        return torch.load(file, map_location=map_location, weights_only=True, mmap=mmap)


# The weights-only load :func:`read_checkpoint` uses: torch's own where torch can allow more
# globals for one load (``torch.serialization.safe_globals``, torch >= 2.5), else pvt_mm's.
weights_only_load = (safe_globals_load if hasattr(torch.serialization, 'safe_globals') else
                     allow_list_load)


def _is_safetensors(filename: str, size: int) -> bool:
    """safetensors: an 8-byte little-endian header length, then that many bytes of JSON (a
    torch file starts with a zip or pickle signature, whose next bytes are never '{')."""
    if size < 10:
        return False
    with open(filename, 'rb') as f:
        return f.read(9)[8:] == b'{'


def _read_safetensors(filename: str, size: int, map_location):
    from safetensors import SafetensorError
    from safetensors.torch import load
    with open(filename, 'rb') as f:
        data = f.read()  # tensors in memory, not backed by the file (which may be rewritten)
    (header_len, ) = struct.unpack('<Q', data[:8])
    if 8 + header_len > size:
        raise CheckpointError(
            f'{filename}: truncated or corrupt ({size} bytes; the safetensors header alone is '
            f'{header_len} bytes): a download or copy that did not finish')
    try:
        header = json.loads(data[8:8 + header_len])
    except (ValueError, RecursionError):  # RecursionError: a header nested thousands deep
        raise CheckpointError(f'{filename}: not a safetensors file, or corrupt (its header '
                              'is not valid JSON)') from None
    try:
        ends = [v['data_offsets'][1] for k, v in header.items() if k != '__metadata__']
        if not all(type(e) is int and e >= 0 for e in ends):
            raise TypeError
    except (AttributeError, KeyError, IndexError, TypeError):
        raise CheckpointError(f'{filename}: not a safetensors file, or corrupt (its header '
                              'does not describe tensors)') from None
    end = max(ends, default=0)
    if 8 + header_len + end > size:
        raise CheckpointError(
            f'{filename}: truncated or corrupt ({size} bytes; the safetensors header describes '
            f'{8 + header_len + end}): a download or copy that did not finish')
    device = map_location if isinstance(map_location, str) else 'cpu'
    try:
        return {k: v.to(device) for k, v in load(data).items()}
    except SafetensorError as err:
        raise CheckpointError(f'{filename}: not a valid safetensors file ({err})') from None


def read_checkpoint(filename: str, map_location='cpu', mmap: bool = False):
    """Load a checkpoint: a local file, an http(s) URL or an ``hf-hub:`` reference (fetched by
    :func:`resolve_checkpoint`), in PyTorch's format (read with ``weights_only=True``) or as
    safetensors (recognised by its content, whatever its name; returns its dict of tensors).

    Fails with a :class:`CheckpointError` naming the file and the problem: a directory, empty,
    not a checkpoint, truncated, or holding objects a weights-only load refuses. ``mmap``: map a
    zip-format checkpoint's tensors instead of reading them (a cheap completeness check).
    """
    filename = resolve_checkpoint(filename)
    if osp.isdir(filename):
        raise CheckpointError(f'{filename}: is a directory, not a checkpoint file')
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    size = osp.getsize(filename)
    if size == 0:
        raise CheckpointError(f'{filename}: is empty (0 bytes), not a checkpoint')
    if _is_safetensors(filename, size):
        return _read_safetensors(filename, size, map_location)
    with open(filename, 'rb') as f:
        head = f.read(4)
    if head != _ZIP_MAGIC and head[:1] != _PICKLE_PROTO:
        raise CheckpointError(f'{filename}: not a PyTorch or safetensors checkpoint (starts '
                              f'with {head!r})')
    truncated = CheckpointError(
        f'{filename}: truncated or corrupt ({size} bytes; the data ends before the end of the '
        'checkpoint): a save or copy that did not finish')
    # torch 2.13 reads any path ending in .safetensors as safetensors, whatever it holds: an
    # open file is read by its content. Mapping a file needs its path.
    mmap = mmap and head == _ZIP_MAGIC and not filename.endswith('.safetensors')
    # HistoryBuffer.__setstate__ merges a file's statistics table into the class-wide one: a
    # file could make every buffer's ``mean`` return the max. The class's table is put back.
    statistics = dict(HistoryBuffer._statistics_methods)
    try:
        with open(filename, 'rb') as f:
            return weights_only_load(filename if mmap else f, map_location, mmap)
    except pickle.UnpicklingError as err:
        refused = (re.search(r'[Uu]nsupported (?:global: )?GLOBAL ([\w.]+)', str(err)) or
                   re.search(r'refusing (getattr\(.*?\))', str(err)))
        if refused:
            raise CheckpointError(
                f'{filename}: holds a pickled {refused[1]}, which a weights-only load refuses '
                '(loading it could run arbitrary code). Re-save its tensors with torch.save '
                'where it was made, or convert it with tools/model_converters/convert_pvt.py.'
            ) from None
        if 'pickle data was truncated' in str(err):  # Python's own unpickler
            raise truncated from None
        raise CheckpointError(f'{filename}: not a PyTorch checkpoint, or corrupt ({size} bytes; '
                              'the unpickler failed at the start)') from None
    except (RuntimeError, EOFError, IndexError, struct.error, OSError) as err:
        if isinstance(err, OSError) and err.errno != errno.EINVAL:
            raise CheckpointError(f'{filename}: cannot be read ({err.strerror or err})') from None
        if isinstance(err, RuntimeError) and not re.search('zip archive|EOF', str(err)):
            # The checks of the tensor records (sizes, storages): the file is damaged.
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CheckpointError(f'{filename}: corrupt ({size} bytes; its tensor records are '
                                  f'damaged: {reason})') from None
        # EINVAL: mapping a zip checkpoint whose records point past the end of the file.
        raise truncated from None
    finally:
        HistoryBuffer._statistics_methods.clear()
        HistoryBuffer._statistics_methods.update(statistics)


def resolve_checkpoint(ref: str) -> str:
    """A local file for a checkpoint reference: a path as it is; an http(s) URL downloaded once
    into torch's hub cache (:func:`download_cache_path`); ``hf-hub:ORG/NAME[@REVISION][/FILE]``
    fetched through huggingface_hub into its cache (``model.safetensors``, else
    ``pytorch_model.bin``, unless FILE is given). A failed download is a
    :class:`CheckpointError` naming the reference, the reason, the cache and how to use a local
    copy."""
    ref = osp.expanduser(str(ref))
    if ref.startswith(HF_HUB_PREFIX):
        return _from_hf_hub(ref)
    if ref.startswith(('http://', 'https://')):
        return _download(ref)
    return ref


def redact_url(url: str) -> str:
    """``url`` as logs and errors show it: without a query string, fragment or user info, which
    may carry credentials (signed URLs' ``?token=...``)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition('@')[2]
    hidden = '?...' if parts.query or parts.fragment else ''
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, '', '')) + hidden


def download_cache_path(url: str) -> str:
    """Where a downloaded URL is cached: torch's hub cache (``$TORCH_HOME/hub/checkpoints``, where
    mmengine keeps downloaded weights too), under the file's name prefixed with a hash of the
    whole URL, so that two URLs never share a cached file."""
    name = osp.basename(urllib.parse.urlsplit(url).path) or 'checkpoint'
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return osp.join(torch.hub.get_dir(), 'checkpoints', f'{digest}-{name}')


def _download(url: str) -> str:
    target = download_cache_path(url)
    if osp.isfile(target):
        return target
    shown = redact_url(url)
    tmp = None
    try:
        os.makedirs(osp.dirname(target), exist_ok=True)
        print_log(f'Downloading {shown} to {target}', logger='current')
        with tempfile.NamedTemporaryFile(dir=osp.dirname(target), prefix='.download-',
                                         delete=False) as tmp, \
                urllib.request.urlopen(url, timeout=60) as response:
            expected = response.headers.get('Content-Length')
            shutil.copyfileobj(response, tmp, 1 << 20)
            got = tmp.tell()
        if expected is not None and (not expected.isdigit() or got != int(expected)):
            raise OSError(f'the download was cut short ({got} of {expected} bytes)'
                          if expected.isdigit() else
                          f'the server sent an invalid Content-Length {expected[:40]!r}')
        os.replace(tmp.name, target)
    except (OSError, http.client.HTTPException, ValueError) as err:
        reason = getattr(err, 'reason', None) or err
        if isinstance(err, urllib.error.HTTPError):
            reason = f'HTTP {err.code} {err.reason}'
        elif isinstance(err, http.client.HTTPException):
            reason = f'the connection broke off ({type(err).__name__})'
        raise CheckpointError(
            f'{shown}: could not be downloaded ({reason}). Once downloaded it is cached as '
            f'{target}; to use a copy made elsewhere, put it there or use the local file '
            f'({LOCAL_COPY_HINT})') from None
    finally:
        if tmp is not None and osp.exists(tmp.name):
            os.remove(tmp.name)
    return target


def _from_hf_hub(ref: str) -> str:
    spec = ref[len(HF_HUB_PREFIX):]
    parts = spec.split('/')
    if len(parts) < 2 or not all(parts[:2]):
        raise CheckpointError(f'{ref}: not a Hub reference; write hf-hub:ORG/NAME[@REVISION]'
                              '[/FILE], e.g. hf-hub:timm/pvt_v2_b2.in1k')
    repo, filename = '/'.join(parts[:2]), '/'.join(parts[2:]) or None
    repo, _, revision = repo.partition('@')
    try:
        import huggingface_hub
        from huggingface_hub.errors import (EntryNotFoundError, LocalEntryNotFoundError,
                                            RepositoryNotFoundError, RevisionNotFoundError)
    except ImportError:
        raise CheckpointError(f'{ref}: Hub references need the huggingface_hub package (pip '
                              'install huggingface_hub, or pip install pvt_mm[all])') from None
    cache = huggingface_hub.constants.HF_HUB_CACHE
    problems = []
    for name in ([filename] if filename else ['model.safetensors', 'pytorch_model.bin']):
        try:
            return huggingface_hub.hf_hub_download(repo, name, revision=revision or None)
        except (EntryNotFoundError, LocalEntryNotFoundError) as err:
            offline = isinstance(err, LocalEntryNotFoundError)
            problems.append(f'{name}: ' + ('not in the local cache and the Hub cannot be '
                                           'reached' if offline else 'not in the repository'))
        except (RepositoryNotFoundError, RevisionNotFoundError) as err:
            problems.append(type(err).__name__.replace('NotFoundError', ' not found'))
            break
        except OSError as err:  # a network failure huggingface_hub does not classify
            problems.append(f'{name}: {err}')
        except ValueError as err:  # huggingface_hub's validation of names ('..', '--')
            first = str(err).strip().splitlines()[0]
            raise CheckpointError(f'{ref}: not a valid Hub reference ({first})') from None
    offline = ' (HF_HUB_OFFLINE is set)' if huggingface_hub.constants.HF_HUB_OFFLINE else ''
    raise CheckpointError(
        f'{ref}: could not be fetched{offline}: {"; ".join(problems)}. Files fetched from the '
        f'Hub are cached in {cache}; to use a copy made elsewhere, download the repository '
        f'there with huggingface_hub, or use the local file ({LOCAL_COPY_HINT})')


def atomic_write(data: bytes, filepath) -> None:
    """Write ``data`` to a new temporary file next to ``filepath``, then rename it into place:
    the file is whole or absent, never half-written. The temporary file has an unpredictable
    name and is created exclusively (never through an existing file or link), and the rename
    replaces a link at ``filepath`` rather than writing through it. A failure names the file
    and leaves what was there before untouched."""
    filepath = str(filepath)
    folder, name = osp.split(osp.abspath(filepath))
    tmp = None
    try:
        os.makedirs(folder, exist_ok=True)
        candidate = osp.join(folder, f'.{name}.tmp-{secrets.token_hex(8)}')
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                     getattr(os, 'O_NOFOLLOW', 0), 0o666)
        tmp = candidate  # ours to remove: created by this call, never a file that was there
        with open(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except OSError as err:
        if tmp is not None and osp.lexists(tmp):
            os.remove(tmp)
        raise WriteError(err.errno, f'{filepath}: could not be written ({err.strerror}); the '
                         'file under that name, if any, is unchanged') from None


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, with ``put``/``put_text`` written atomically. Registered
    as the file backend ``'atomic_local'``, which pvt_mm's tools give the CheckpointHook
    (``backend_args``), so that a kill or a full disk never leaves a half-written checkpoint
    under its final name."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), filepath)


ATOMIC_BACKEND = 'atomic_local'


def register_atomic_backend() -> None:
    """Register :class:`AtomicLocalBackend` as mmengine's file backend ``'atomic_local'`` (a new
    name: mmengine's own ``'local'`` backend is left as it is)."""
    register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)
