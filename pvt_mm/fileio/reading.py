"""Reading checkpoints: :func:`read_checkpoint`, the one reader of every checkpoint the process
loads after ``import pvt_mm`` (:mod:`pvt_mm.registry` makes :func:`load_from_pvt_mm` mmengine's
loader for every scheme it has). Every failure is a :class:`~pvt_mm.fileio.CheckpointError` that
names the file and the problem.

A file can make the reader allocate about its own size, not more, and run no code:

- PyTorch files go through ``torch.load`` with pvt_mm's weights-only unpickler
  (:mod:`pvt_mm.fileio.unpickler`). A zip checkpoint must hold each record once, uncompressed
  (``torch.save`` never compresses, and a deflated record can expand a thousandfold), under the
  same names for Python's zip reader and torch's, and must not be a TorchScript archive (which
  ``torch.load`` would hand to ``torch.jit.load``); each tensor's record must have its exact size.
  A legacy (torch < 1.6) checkpoint's storages must fit in the file; the tar format of torch < 0.4
  is refused, as torch's own weights-only load does (extracting it would follow its links and
  open its FIFOs).
- safetensors files (recognised by their content, whatever their name) must describe tensors
  inside the file; they hold nothing else.
- Only regular files are opened (a FIFO would block the read forever).
"""
import errno
import json
import os
import os.path as osp
import re
import stat
import struct
import tarfile
import tempfile
import zipfile

import torch

from .errors import CheckpointError, printable, shown
from .fetching import HF_HUB_PREFIX, NAMED_MODEL_PREFIXES, URL_PREFIXES, resolve_checkpoint
from .unpickler import Damaged, Refused, pickle_module

_ZIP_MAGIC = b'PK\x03\x04'  # torch.save's format is a zip archive
_PICKLE_PROTO = b'\x80'  # legacy torch.save files are pickles (protocol >= 2)
# mmengine's remote storages, read through its file backends (its own regular expressions).
BACKEND_PREFIXES = (r'(\S+\:)?s3://', r'(\S+\:)?petrel://')
# A safetensors header (JSON, about 100 bytes per tensor) pvt_mm parses: PVT-b5's is 60 KiB.
MAX_SAFETENSORS_HEADER = 16 << 20
# Every scheme mmengine 0.10's CheckpointLoader has; :mod:`pvt_mm.registry` makes
# :func:`load_from_pvt_mm` the loader of each.
MMENGINE_SCHEMES = ('', HF_HUB_PREFIX, *URL_PREFIXES, *NAMED_MODEL_PREFIXES, *BACKEND_PREFIXES,
                    'pavi://')


def read_checkpoint(filename: str, map_location='cpu', mmap: bool = False):
    """Load a checkpoint: a local file, or a reference :func:`~pvt_mm.fileio.resolve_checkpoint`
    fetches (an http(s) URL, ``hf-hub:``, an mmengine named model); in PyTorch's format (through
    pvt_mm's weights-only unpickler) or safetensors (recognised by its content, whatever its
    name; its dict of tensors). ``mmap``: map a zip-format checkpoint's tensors instead of
    reading them (a cheap completeness check).

    Fails with a :class:`CheckpointError` naming the file and the problem: a directory or other
    non-file, empty, not a checkpoint, truncated, or holding objects a weights-only load refuses.
    """
    filename = resolve_checkpoint(filename)
    try:
        fd = os.open(filename, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0))
    except FileNotFoundError:
        raise FileNotFoundError(f'checkpoint not found: {filename}') from None
    except OSError as err:
        raise CheckpointError(f'{filename}: cannot be read ({err.strerror or err})') from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise CheckpointError(f'{filename}: is a directory, not a checkpoint file')
        raise CheckpointError(f'{filename}: is not a regular file (a FIFO, device or socket), '
                              'not a checkpoint file')
    with os.fdopen(fd, 'rb') as f:
        size = info.st_size
        if size == 0:
            raise CheckpointError(f'{filename}: is empty (0 bytes), not a checkpoint')
        head = f.read(16)
        f.seek(0)
        try:
            if _is_safetensors(head, size):
                return _read_safetensors(f, filename, size, map_location)
            if head.startswith(_ZIP_MAGIC):
                return _read_zip(f, filename, size, map_location, mmap)
            if head.startswith(_PICKLE_PROTO):
                return _read_legacy(f, filename, size, map_location)
        except CheckpointError:
            raise
        except Damaged as err:
            raise CheckpointError(f'{filename}: corrupt ({size} bytes; its tensor records are '
                                  f'damaged: {err.what})') from None
        except Refused as err:
            raise CheckpointError(
                f'{filename}: holds {err.what}, which a weights-only load refuses (loading it '
                'could run code or corrupt memory). Re-save its tensors with torch.save where it '
                'was made, or convert it with tools/model_converters/convert_pvt.py.') from None
        except (EOFError, zipfile.BadZipFile) as err:
            raise _truncated(filename, size) from err
        except OSError as err:
            if err.errno == errno.EINVAL:  # mapping records that point past the end of the file
                raise _truncated(filename, size) from None
            raise CheckpointError(f'{filename}: cannot be read ({err.strerror or err})') from None
        except Exception as err:  # noqa: B902  (anything else a hostile file makes torch raise)
            reason = printable(str(err).strip().splitlines()[0]) if str(err).strip() else ''
            raise CheckpointError(
                f'{filename}: corrupt, or not a checkpoint ({size} bytes; '
                f'{type(err).__name__}{": " if reason else ""}{reason})') from None
    raise CheckpointError(f'{filename}: not a PyTorch or safetensors checkpoint (starts with '
                          f'{head[:4]!r})')


def _truncated(filename, size):
    return CheckpointError(
        f'{filename}: truncated or corrupt ({size} bytes; the data ends before the end of the '
        'checkpoint): a save or copy that did not finish')


def _check_torch_load_allowed(filename):
    if os.environ.get('TORCH_FORCE_WEIGHTS_ONLY_LOAD', '0').lower() in ('1', 'y', 'yes', 'true'):
        raise CheckpointError(
            f'{filename}: not read: TORCH_FORCE_WEIGHTS_ONLY_LOAD is set, which makes torch.load '
            "refuse pvt_mm's weights-only unpickler (it is weights-only too, and stricter); "
            'unset it to load checkpoints with pvt_mm')


def _zip_records(f, filename, size):
    """``({KEY: bytes} of a zip checkpoint's ARCHIVE/data/KEY records, bytes of its data.pkl)``,
    after checking the archive as a whole (see the module docstring)."""
    endrec = zipfile._EndRecData(f)
    if endrec is None:
        raise zipfile.BadZipFile
    # Python's zip reader and torch's must see one central directory: the one the end record
    # points at, the record at the very end (torch.save writes no comment, no prefix).
    concat = endrec[zipfile._ECD_LOCATION] - endrec[zipfile._ECD_SIZE] - \
        endrec[zipfile._ECD_OFFSET]
    if endrec[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:
        concat -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    f.seek(endrec[zipfile._ECD_LOCATION] - _ZIP64_LOCATOR.size)
    locator = f.read(_ZIP64_LOCATOR.size)
    zip64_at = None
    if locator[:4] == zipfile.stringEndArchive64Locator:
        zip64_at = _ZIP64_LOCATOR.unpack(locator)[2]
    if concat or endrec[zipfile._ECD_COMMENT] or \
            endrec[zipfile._ECD_LOCATION] + zipfile.sizeEndCentDir != size or (
                zip64_at is not None and zip64_at != endrec[zipfile._ECD_LOCATION] -
                _ZIP64_LOCATOR.size - zipfile.sizeEndCentDir64):
        raise CheckpointError(f'{filename}: a zip archive with data before its records, or '
                              'after its end, where torch.save writes none (its central '
                              'directory could be read two ways), which pvt_mm does not read')
    with zipfile.ZipFile(f) as archive:
        infos = archive.infolist()
        starts = [_data_offset(f, info) for info in infos]
    names = [info.filename for info in infos]
    if not names:
        raise zipfile.BadZipFile
    prefix = names[0].split('/')[0] + '/'  # torch's reader: the first record's folder
    problem = None
    lowered = {name.lower() for name in names}  # torch's reader finds records case-blind
    relative = {name[len(prefix):] for name in names}
    spans = sorted(zip(starts, (info.file_size for info in infos)))
    if any(a + n > b for (a, n), (b, _) in zip(spans, spans[1:])):
        problem = 'records that share bytes'
    elif len(lowered) != len(names):
        problem = 'two records under one name'
    elif any(not name.startswith(prefix) for name in names):
        problem = f'records outside its folder {prefix}'
    elif any(info.compress_type != zipfile.ZIP_STORED for info in infos):
        problem = 'compressed records (torch.save never compresses)'
    elif any(info.header_offset + info.file_size > size for info in infos):
        raise zipfile.BadZipFile
    elif 'constants.pkl' in relative or any(r.startswith('code/') for r in relative):
        problem = 'TorchScript code (torch.jit.save); torch.load would run it with torch.jit.load'
    elif 'data.pkl' not in relative:
        problem = 'no data.pkl: not a torch.save checkpoint'
    else:
        f.seek(0)
        reader = torch._C.PyTorchFileReader(f)
        if set(reader.get_all_records()) != relative or any(
                reader.get_record_offset(info.filename[len(prefix):]) != start
                for info, start in zip(infos, starts)) or (hasattr(
                    reader, 'get_record_size') and any(  # torch >= 2.5
                        reader.get_record_size(info.filename[len(prefix):]) != info.file_size
                        for info in infos)):
            problem = "records Python's zip reader and torch's see differently"
    f.seek(0)
    if problem:
        raise CheckpointError(f'{filename}: a zip archive with {problem}, which pvt_mm does not '
                              'read')
    data = prefix + 'data/'
    sizes = {
        info.filename[len(data):]: info.file_size
        for info in infos if info.filename.startswith(data)
    }
    return sizes, next(i.file_size for i in infos if i.filename == prefix + 'data.pkl')


_ZIP64_LOCATOR = struct.Struct('<4sIQI')  # signature, disk, offset of the zip64 end record, disks
_LOCAL_HEADER = struct.Struct('<4s2B4HL2L2H')  # zipfile's structFileHeader


def _data_offset(f, info) -> int:
    """Where a record's bytes start: after its local header, as torch's reader computes it."""
    f.seek(info.header_offset)
    header = f.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != zipfile.stringFileHeader:
        raise zipfile.BadZipFile
    fields = _LOCAL_HEADER.unpack(header)
    return info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11]


def _read_zip(f, filename, size, map_location, mmap):
    record_sizes, pickle_bytes = _zip_records(f, filename, size)
    _check_torch_load_allowed(filename)
    # Mapping needs a path: the checked file's own (its descriptor's), not its name, which
    # another process could point at another file meanwhile. Where there is none, it is read.
    mapped = f'/proc/self/fd/{f.fileno()}'
    mmap = mmap and osp.exists(mapped)
    return torch.load(
        mapped if mmap else f,
        map_location=map_location,
        weights_only=False,
        mmap=mmap,
        pickle_module=pickle_module(size, record_sizes, pickle_bytes))


def _read_legacy(f, filename, size, map_location):
    try:
        with tarfile.open(fileobj=f, mode='r:'):
            raise CheckpointError(f'{filename}: a tar archive (the checkpoint format of torch < '
                                  '0.4), which a weights-only load refuses')
    except tarfile.TarError:
        pass
    f.seek(0)
    _check_torch_load_allowed(filename)
    return torch.load(
        f, map_location=map_location, weights_only=False, pickle_module=pickle_module(size))


def _is_safetensors(head: bytes, size: int) -> bool:
    """safetensors: an 8-byte little-endian header length, then that many bytes of JSON (a
    torch file starts with a zip or pickle signature, whose next bytes are never '{')."""
    return size >= 10 and head[8:9] == b'{'


def _read_safetensors(f, filename: str, size: int, map_location):
    from safetensors import SafetensorError
    from safetensors.torch import load
    data = f.read()  # tensors in memory, not backed by the file (which may be rewritten)
    (header_len, ) = struct.unpack('<Q', data[:8])
    if 8 + header_len > size:
        raise CheckpointError(
            f'{filename}: truncated or corrupt ({size} bytes; the safetensors header alone is '
            f'{header_len} bytes): a download or copy that did not finish')
    if header_len > MAX_SAFETENSORS_HEADER:  # parsed, a header takes up to 30x its bytes
        raise CheckpointError(f'{filename}: a safetensors header of {header_len} bytes; pvt_mm '
                              f'reads headers of up to {MAX_SAFETENSORS_HEADER >> 20} MiB (a '
                              'model of a million tensors has one of about 100 MiB)')
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
    dtypes = {v.get('dtype') for k, v in header.items() if k != '__metadata__'}
    known = {name for name in dtypes if _safetensors_dtype(name) is not None}
    if dtypes - known:
        raise CheckpointError(f'{filename}: holds tensors of dtype '
                              f'{", ".join(sorted(shown(d) for d in dtypes - known))}, which this '
                              f'torch {torch.__version__} cannot hold')
    device = map_location if isinstance(map_location, (str, torch.device)) else 'cpu'
    try:
        return {k: v.to(device) for k, v in load(data).items()}
    except SafetensorError as err:
        raise CheckpointError(f'{filename}: not a valid safetensors file '
                              f'({printable(err)})') from None


def _safetensors_dtype(name):
    """The torch dtype of a safetensors dtype name, as safetensors' torch loader maps it (None:
    not one this torch has)."""
    from safetensors import torch as st_torch
    return st_torch._TYPES.get(name)


def load_from_pvt_mm(filename, map_location=None):
    """mmengine's checkpoint loader signature, for every scheme (:data:`MMENGINE_SCHEMES`):
    pvt_mm's reader, and a check that the file holds what mmengine's loading expects (a dict
    of tensors by name, or one with a ``state_dict`` that is)."""
    from mmengine.runner import checkpoint as mm
    filename = str(filename)
    if filename.startswith('pavi://'):
        raise CheckpointError(f'{filename}: pvt_mm reads no pavi:// checkpoints (their loader '
                              'unpickles whatever the file holds); download the file and pass '
                              'its path')
    if any(re.match(prefix, filename) for prefix in BACKEND_PREFIXES):
        checkpoint = _read_from_backend(filename, map_location)
    else:
        checkpoint = read_checkpoint(filename, map_location)
    check_structure(checkpoint, filename)
    if filename.startswith('mmcls://'):
        checkpoint = mm._process_mmcls_checkpoint(checkpoint)
    return checkpoint


def _read_from_backend(ref, map_location):
    """A checkpoint in a remote storage mmengine's file backends reach (``s3://``,
    ``petrel://``), copied to a temporary file and read from there."""
    from mmengine.fileio import get_file_backend
    try:
        data = get_file_backend(ref, backend_args={'backend': 'petrel'}).get(ref)
    except ImportError as err:  # petrel_client, the storage's own package
        raise CheckpointError(f'{ref}: cannot be read: {err}') from None
    with tempfile.TemporaryDirectory() as folder:
        path = osp.join(folder, osp.basename(ref) or 'checkpoint')
        with open(path, 'wb') as f:
            f.write(data)
        try:
            return read_checkpoint(path, map_location)
        except CheckpointError as err:
            raise CheckpointError(str(err).replace(path, ref)) from None


def check_structure(checkpoint, filename, resumable: bool = False) -> None:
    """A checkpoint as mmengine loads it: a dict whose ``state_dict`` (or, without one, itself)
    maps names to values; with ``resumable``, also what ``Runner.resume`` reads, of the types it
    expects, and no ``meta['config']`` (Python that the resume would run: mmcv 1.x wrote it,
    mmengine never does). Anything else is an error naming the file."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{filename}: holds a {type(checkpoint).__name__}, not a '
                              'checkpoint (a dict of tensors by name, or a dict with a '
                              'state_dict)')
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict) or not all(isinstance(k, str) for k in state_dict):
        raise CheckpointError(f'{filename}: its state_dict is {type(state_dict).__name__}, not '
                              'a dict of tensors by name')
    if not resumable:
        return
    meta = checkpoint.get('meta')
    problem = None
    if not isinstance(meta, dict) or not all(type(meta.get(k)) is int for k in ('epoch', 'iter')):
        problem = "no meta with the epoch and iteration (not a training run's checkpoint?)"
    elif type(meta.get('seed')) not in (int, type(None)):
        problem = f"a meta['seed'] of type {type(meta['seed']).__name__} (mmengine writes an int)"
    elif not isinstance(checkpoint.get('message_hub'), dict):
        problem = 'no message_hub'
    elif 'config' in meta:
        problem = ("a meta['config'], Python that mmengine's resume would run; mmengine's "
                   'checkpoints never hold one')
    elif not isinstance(checkpoint.get('optimizer', {}), dict) or not isinstance(
            checkpoint.get('param_schedulers', []), (list, dict)):
        problem = 'an optimizer or param_schedulers state of another type than mmengine saves'
    if problem:
        raise CheckpointError(f'{filename}: cannot be resumed from: it holds {problem}')
