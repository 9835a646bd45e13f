"""A corpus of checkpoint files an attacker could hand a user, and of the files they must still
be able to load, built in the real formats (torch.save's zip and legacy formats, tar,
safetensors) with pickles assembled opcode by opcode.

``corpus(folder)`` writes every file and returns ``{name: Entry}``. An entry says whether the file
is ``hostile`` (pvt_mm must refuse it, and say ``refusal`` in its message where given) and, for a
benign file torch's own weights-only load refuses, whether pvt_mm admits it because it holds only
what mmengine's checkpoints hold (``mmengine``). Every hostile file tries to leave a file named
:data:`MARKER` in the working directory or to change process state; the tests check neither
happens.
"""
import io
import os
import pickle
import struct
import tarfile
import zipfile
from dataclasses import dataclass
from typing import Tuple

import numpy as np
import torch

MARKER = 'pvt_mm_was_here'
WEIGHTS = {'w': torch.arange(6.).reshape(2, 3), 'b': torch.ones(3)}


@dataclass
class Entry:
    path: str
    hostile: bool
    refusal: Tuple[str, ...] = ()  # pvt_mm's message holds one of these
    mmengine: bool = False  # benign: pvt_mm reads it, as mmengine's checkpoints hold the same


# --- a small pickle assembler (protocol 2, what torch.save writes) ---------------------------


def glob(module, name):
    return pickle.GLOBAL + f'{module}\n{name}\n'.encode()


def text(value: str):
    data = value.encode('utf-8', 'surrogatepass')
    return pickle.BINUNICODE + struct.pack('<I', len(data)) + data


def num(value: int):
    if 0 <= value < 256:
        return pickle.BININT1 + bytes([value])
    if -2**31 <= value < 2**31:
        return pickle.BININT + struct.pack('<i', value)
    data = pickle.encode_long(value)
    return pickle.LONG1 + bytes([len(data)]) + data


def tup(*items):
    return pickle.MARK + b''.join(items) + pickle.TUPLE


def dct(*pairs):
    return pickle.EMPTY_DICT + (
        pickle.MARK + b''.join(k + v for k, v in pairs) + pickle.SETITEMS if pairs else b'')


def call(func, *args):
    return func + tup(*args) + pickle.REDUCE


def odict():
    return call(glob('collections', 'OrderedDict'))


def pkl(*body):
    return pickle.PROTO + b'\x02' + b''.join(body) + pickle.STOP


def storage_pid(key='0', numel=6, location='cpu', storage='FloatStorage', extra=()):
    return tup(
        text('storage'), glob('torch', storage), text(key), text(location), num(numel), *
        extra) + pickle.BINPERSID


def tensor(pid=None, offset=0, size=(2, 3), stride=(3, 1), hooks=None, metadata=None):
    args = [
        pid or storage_pid(),
        num(offset),
        tup(*map(num, size)),
        tup(*map(num, stride)), pickle.NEWFALSE, hooks or odict()
    ]
    if metadata is not None:
        args.append(metadata)
    return call(glob('torch._utils', '_rebuild_tensor_v2'), *args)


def state_dict(value):
    return pkl(odict(), text('w'), value, pickle.SETITEM)


def system(command=f'touch {MARKER}', module='os', name='system'):
    return call(glob(module, name), text(command))


# --- containers ---------------------------------------------------------------------------------


def torch_zip(data_pkl: bytes, data=None, compress=zipfile.ZIP_STORED, extra=None):
    """A torch.save zip archive whose data.pkl is ``data_pkl``, with ``data/0`` (24 bytes: six
    floats) unless ``data`` gives the ``data/KEY`` records."""
    records = {
        'archive/data.pkl': data_pkl,
        'archive/byteorder': b'little',
        'archive/version': b'3\n'
    }
    for key, value in (data if data is not None else {'0': b'\0' * 24}).items():
        records[f'archive/data/{key}'] = value
    records.update(extra or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', compress) as archive:
        for name, value in records.items():
            archive.writestr(name, value)
    return out.getvalue()


MAGIC = 0x1950a86a20f9469cfc6c


def legacy(main_pkl: bytes, keys=(), storages=b''):
    """A legacy (torch < 1.6) checkpoint: magic number, protocol, system info, the main pickle,
    its storage keys, then the storages' bytes."""
    head = b''.join(
        pickle.dumps(v, protocol=2) for v in
        (MAGIC, 1001,
         dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4))))
    return head + main_pkl + pickle.dumps(list(keys), protocol=2) + storages


def saved(obj, **kwargs) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def safetensors(header: dict, data: bytes = b'') -> bytes:
    import json
    raw = json.dumps(header).encode()
    return struct.pack('<Q', len(raw)) + raw + data


def two_views(records, python_view, deflate=()):
    """A zip archive that Python's zip reader and torch's read differently: its records as
    torch's reader sees them, then a second central directory, with the stored sizes
    ``python_view`` ({name: bytes}), where Python's reader looks (it shifts the central
    directory's offset by the bytes it finds before it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as archive:
        for name, value in records.items():
            archive.writestr(name, value,
                             zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED)
    data = out.getvalue()
    end = data[-22:]
    size, offset = struct.unpack('<II', end[12:20])
    first, second, pos = data[offset:offset + size], bytearray(), 0
    while pos < len(first):
        n, m, k = struct.unpack('<HHH', first[pos + 28:pos + 34])
        entry = bytearray(first[pos:pos + 46 + n + m + k])
        name = entry[46:46 + n].decode()
        if name in python_view:
            entry[10:12] = b'\0\0'  # stored
            entry[20:28] = struct.pack('<II', python_view[name], python_view[name])
        second += entry
        pos += len(entry)
    return data[:-22] + bytes(second) + end


def zip64_two_views(records, python_sizes):
    """A zip archive whose zip64 locator points torch's reader at one central directory, while
    Python's reads the zip64 end record just before the locator, and with it another (where
    ``python_sizes`` ({name: bytes}) replace the stored sizes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as archive:
        for name, value in records.items():
            archive.writestr(name, value)
    data = out.getvalue()
    end = data.rfind(b'PK\x05\x06')
    count, size, offset = struct.unpack('<HII', data[end + 10:end + 20])
    body, torch_view = data[:offset], data[offset:offset + size]
    python_view, pos = bytearray(), 0
    while pos < len(torch_view):
        n, m, k = struct.unpack('<HHH', torch_view[pos + 28:pos + 34])
        entry = bytearray(torch_view[pos:pos + 46 + n + m + k])
        name = entry[46:46 + n].decode()
        if name in python_sizes:
            entry[20:28] = struct.pack('<II', python_sizes[name], python_sizes[name])
        python_view += entry
        pos += len(entry)

    def end64(length, at):
        return struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, count, count, length, at)

    torch_end64 = offset + len(torch_view)
    python_at = torch_end64 + 56
    data = (
        body + torch_view + end64(len(torch_view), offset) + bytes(python_view) +
        end64(len(python_view), python_at))
    locator = struct.pack('<IIQI', 0x07064b50, 0, torch_end64, 1)
    return data + locator + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                                        0xFFFFFFFF, 0)


def shared_records(count: int, nbytes: int) -> bytes:
    """A torch.save archive of ``count`` tensors whose central directory entries all point at
    one record of ``nbytes``: ``count`` times the memory from one record's bytes."""
    body = b''.join(
        text(str(i)) +
        tensor(pid=storage_pid(key=str(i), numel=nbytes // 4), size=(nbytes // 4, ), stride=(1, ))
        for i in range(count))
    data = torch_zip(
        pkl(pickle.EMPTY_DICT, pickle.MARK, body, pickle.SETITEMS), data={'0': b'\0' * nbytes})
    end = data.rfind(b'PK\x05\x06')
    _, size, offset = struct.unpack('<HII', data[end + 10:end + 20])
    directory = data[offset:offset + size]
    pos, last = 0, None
    while pos < len(directory):
        n, m, k = struct.unpack('<HHH', directory[pos + 28:pos + 34])
        entry = directory[pos:pos + 46 + n + m + k]
        if entry[46:46 + n] == b'archive/data/0':
            last = entry
        pos += 46 + n + m + k
    extra = b''
    for i in range(1, count):
        name = f'archive/data/{i}'.encode()
        entry = bytearray(last[:46]) + name
        entry[28:30], entry[30:32] = struct.pack('<H', len(name)), b'\0\0'
        extra += bytes(entry)
    entries = directory.count(b'PK\x01\x02') + count - 1
    return data[:offset] + directory + extra + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, entries,
                                                           entries,
                                                           len(directory) + len(extra), offset, 0)


def _tar(members):
    out = io.BytesIO()
    with tarfile.open(
            fileobj=out, mode='w', format=tarfile.USTAR_FORMAT, encoding='latin-1') as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


# --- the corpus --------------------------------------------------------------------------------


def _allowed_names():
    """Every name torch's own weights-only list admits on this torch, and pvt_mm's."""
    from torch import _weights_only_unpickler

    from pvt_mm.fileio.unpickler import names
    return sorted(set(_weights_only_unpickler._get_allowed_globals()) | set(names()))


def _hostile_pickles():
    """{name: (pickle bytes, refusal fragment)} for the zip container."""
    files = {}
    # Code by name, and names that are not one global (dotted names, blocked modules).
    for module, name in [('os', 'system'), ('posix', 'system'), ('builtins', 'eval'),
                         ('builtins', 'exec'), ('subprocess', 'call'), ('torch', 'save'),
                         ('numpy', 'save'), ('__builtin__', 'open')]:
        files[f'global-{module}.{name}'] = (pkl(
            system(module=module,
                   name=name)), (f'a pickled {module}.{name}',
                                 f'a pickled {module}.{name}'.replace('__builtin__', 'builtins')))
    for module, name in [('torch._utils', '_rebuild_tensor_v2.__globals__'),
                         ('collections', 'OrderedDict.fromkeys'), ('torch', 'nn.Module'),
                         ('torch.serialization', 'StorageType.__init__'),
                         ('numpy.core.multiarray', '_reconstruct.__call__')]:
        files[f'dotted-{module}.{name}'] = (pkl(glob(module, name)), 'a pickled ')
    files['getattr-load'] = (pkl(
        call(glob('builtins', 'getattr'), glob('torch', 'Size'), text('__init__'))), 'getattr(')
    files['getattr-history-update'] = (pkl(
        call(
            glob('builtins', 'getattr'), glob('mmengine.logging.history_buffer', 'HistoryBuffer'),
            text('update'))), "getattr(_HistoryBuffer, 'update')")
    files['stack-global'] = (pickle.PROTO + b'\x04' + text('os') + text('system') +
                             pickle.STACK_GLOBAL + pickle.STOP, 'opcode')
    files['inst-opcode'] = (pickle.PROTO + b'\x02' + pickle.MARK + pickle.INST + b'os\nsystem\n' +
                            pickle.STOP, 'opcode')
    files['obj-opcode'] = (pkl(pickle.MARK + glob('collections', 'OrderedDict') + pickle.OBJ),
                           'opcode')
    # BUILD and setstate onto every allowed global: attributes, slot state, the defaults of a
    # function (the negated-tensors attack: _rebuild_tensor_v2's metadata default).
    for i, name in enumerate(_allowed_names()):
        module, _, attr = name.rpartition('.')
        refused = ('setting the state of', f'a pickled {name}')  # by name, if pvt_mm lacks it
        files[f'build-{i:03d}-{name}'] = (pkl(
            glob(module, attr), dct((text('pvt_mm_attr'), num(1))), pickle.BUILD), refused)
        files[f'slotstate-{i:03d}-{name}'] = (pkl(
            glob(module, attr), _neg_defaults(), pickle.BUILD), refused)
    files['negate-defaults'] = (pkl(
        glob('torch._utils', '_rebuild_tensor_v2'), _neg_defaults(),
        pickle.BUILD), 'setting the state of')
    files['dump-patches'] = (pkl(
        glob('torch.nn.parameter', 'Parameter'), dct((text('dump_patches'), pickle.NEWTRUE)),
        pickle.BUILD), ('setting the state of', 'a pickled torch.nn.parameter.Parameter'))
    # Instances of allowed classes given state, or new objects of them.
    files['ordereddict-method'] = (pkl(odict(), dct((text('items'), glob('torch', 'Size'))),
                                       pickle.BUILD), 'setting the state of')
    files['counter-build'] = (pkl(
        call(glob('collections', 'Counter')), dct((text('x'), num(1))), pickle.BUILD), '')
    files['newobj-parameter'] = (pkl(
        glob('torch.nn.parameter', 'Parameter'), pickle.EMPTY_TUPLE, pickle.NEWOBJ), '')
    files['newobj-ordereddict'] = (pkl(
        glob('collections', 'OrderedDict'), pickle.EMPTY_TUPLE, pickle.NEWOBJ), '')
    files['newobj-history-args'] = (pkl(
        glob('mmengine.logging.history_buffer', 'HistoryBuffer'), tup(num(1)),
        pickle.NEWOBJ), 'a new _HistoryBuffer')
    history = glob('mmengine.logging.history_buffer', 'HistoryBuffer') + pickle.EMPTY_TUPLE + \
        pickle.NEWOBJ
    getattr_max = call(
        glob('builtins', 'getattr'), glob('mmengine.logging.history_buffer', 'HistoryBuffer'),
        text('max'))
    files['history-mean-is-max'] = (pkl(
        history,
        dct((text('max_length'), num(10)), (text('_log_history'), _np_array(np.ones(2))),
            (text('_count_history'), _np_array(np.ones(2))),
            (text('statistics_methods'), dct((text('mean'), getattr_max)))),
        pickle.BUILD), 'statistics other than its built-in ones')
    files['history-other-fields'] = (pkl(history, dct((text('__class__'), num(1))),
                                         pickle.BUILD), 'other fields')
    files['history-used-unbuilt'] = (pkl(pickle.EMPTY_LIST, history,
                                         pickle.APPEND), 'used in a list before its state was set')
    # Calls with hostile arguments: bytes from a number, a string doubled per call, a tensor
    # beyond its storage (set_ would grow the storage: 8 GiB from a tiny file), hooks, metadata.
    files['bytearray-8gib'] = (pkl(call(glob('builtins', 'bytearray'), num(2**33))),
                               ('bytearray made from something other than its bytes',
                                'a pickled builtins.bytearray'))
    chain = call(glob('_codecs', 'encode'), text('ab'), text('latin1'))  # bytes, then doubled
    for _ in range(40):
        chain = call(glob('_codecs', 'encode'), chain, text('hex'))
    files['encode-hex-chain'] = (pkl(chain), '_codecs.encode with')
    files['encode-bytes-zlib'] = (pkl(
        call(glob('_codecs', 'encode'), text('a' * 100), text('zlib'))), '_codecs.encode with')
    files['tensor-beyond-storage'] = (state_dict(tensor(size=(2**31, ), stride=(1, ))),
                                      'over a storage of 6 elements')
    files['tensor-offset-beyond'] = (state_dict(tensor(offset=5, size=(2, ), stride=(1, ))),
                                     'over a storage of 6 elements')
    files['tensor-repeats-elements'] = (state_dict(tensor(size=(2**40, ), stride=(0, ))),
                                        'over a storage of 6 elements')
    files['tensor-negative-stride'] = (state_dict(tensor(size=(2, ),
                                                         stride=(-1, ))), 'a tensor of size')
    files['tensor-65-dims'] = (state_dict(tensor(size=(1, ) * 65,
                                                 stride=(1, ) * 65)), 'a tensor of size')
    files['tensor-of-a-tensor'] = (state_dict(
        call(
            glob('torch._utils', '_rebuild_tensor_v2'), tensor(), num(0), tup(num(2)), tup(num(1)),
            pickle.NEWFALSE, odict())), 'a tensor without a storage of the file')
    hook = odict() + num(0) + glob('torch', 'Size') + pickle.SETITEM
    files['tensor-backward-hook'] = (state_dict(tensor(hooks=hook)), 'backward hooks')
    files['tensor-neg-metadata'] = (state_dict(tensor(metadata=dct((text('neg'), pickle.NEWTRUE)))),
                                    'conj/neg metadata')
    files['parameter-hook'] = (state_dict(
        call(glob('torch._utils', '_rebuild_parameter'), tensor(), pickle.NEWTRUE,
             hook)), 'backward hooks')
    files['reduce-a-value'] = (pkl(call(glob('torch', 'float32'))), 'a call of')
    files['reduce-history-class'] = (pkl(
        call(glob('mmengine.logging.history_buffer', 'HistoryBuffer'))), 'a call of')
    # Persistent ids: other kinds, wrong shapes, sizes and places.
    files['pid-module'] = (pkl(
        tup(text('module'), glob('torch', 'float32'), text('a.py'), text('src')) +
        pickle.BINPERSID), 'a persistent id')
    files['pid-int'] = (pkl(num(3) + pickle.BINPERSID), 'a persistent id')
    files['pid-short'] = (
        pkl(tup(text('storage'), glob('torch', 'FloatStorage'), text('0')) + pickle.BINPERSID),
        'a storage id of 3 fields')
    files['pid-long'] = (state_dict(tensor(pid=storage_pid(extra=(pickle.NONE, )))),
                         'a storage id of 6 fields')
    files['pid-not-a-storage-type'] = (pkl(
        tup(text('storage'), glob('torch', 'float32'), text('0'), text('cpu'), num(6)) +
        pickle.BINPERSID), 'a storage of type')
    files['pid-negative-numel'] = (state_dict(tensor(pid=storage_pid(numel=-1))), 'a storage id')
    files['pid-huge-numel'] = (state_dict(tensor(pid=storage_pid(numel=2**40))),
                               'whose record holds 24 bytes')
    files['pid-other-record'] = (state_dict(tensor(pid=storage_pid(key='../data.pkl'))),
                                 'whose record holds no bytes')
    files['pid-meta-location'] = (state_dict(tensor(pid=storage_pid(location='meta'))),
                                  'meta device')
    files['pid-odd-location'] = (state_dict(tensor(pid=storage_pid(location='cpu;rm -rf'))),
                                 'a storage id')
    # numpy: object arrays, a dtype whose state sets the object flag on bytes, odd dtypes.
    files['numpy-object-dtype'] = (pkl(_np_dtype('O8')), 'a numpy dtype of dtype')
    files['numpy-dtype-flags'] = (pkl(
        _np_dtype('V8', state=(3, '|', None, None, None, 8, 1, 0x3f))), 'numpy dtype')
    files['numpy-f8-flags'] = (pkl(_np_dtype('f8', state=(3, '<', None, None, None, -1, -1, 0x3f))),
                               'altered state')
    files['numpy-pointer-array'] = (pkl(
        _np_array(
            None,
            dtype=_np_dtype('V8', state=(3, '|', None, None, None, 8, 1, 0x3f)),
            data=b'\x41' * 8,
            shape=(1, ))), 'numpy dtype')
    files['numpy-structured'] = (pkl(_np_dtype('f8,O')), 'numpy dtype')
    files['numpy-short-data'] = (pkl(_np_array(None, data=b'\0' * 8,
                                               shape=(2**20, ))), 'over 8 bytes of data')
    files['numpy-object-scalar'] = (pkl(
        call(glob('numpy.core.multiarray', 'scalar'), _np_dtype('O8'), system())), '')
    files['numpy-huge-itemsize'] = (pkl(
        _np_dtype('S2147483648',
                  state=(3, '|', None, None, None, 2147483648, 1, 0))), 'numpy dtype')
    files['numpy-bad-codepoints'] = (pkl(
        _np_array(
            None,
            dtype=_np_dtype('U1', state=(3, '<', None, None, None, 4, 4, 8)),
            data=b'\xff' * 8,
            shape=(2, ))), 'not valid unicode')

    # Keys whose hashing is slow or collides; deep or self-sharing tuples (t = (t, t), 64 times:
    # hashing or showing it visits 2**64 nodes).

    def shared(levels):
        return pickle.NONE + (pickle.BINPUT + b'\0' + pickle.BINGET + b'\0' +
                              pickle.TUPLE2) * levels

    files['shared-tuple-64'] = (pkl(pickle.EMPTY_DICT, shared(64), pickle.NONE,
                                    pickle.SETITEM), 'tuples nested 33 deep')
    files['key-shared-tuple'] = (pkl(pickle.EMPTY_DICT, shared(24), pickle.NONE,
                                     pickle.SETITEM), 'a dict key')
    files['key-deep-tuple'] = (pkl(pickle.EMPTY_DICT, pickle.NONE, pickle.TUPLE1 * 300_000,
                                   pickle.NONE, pickle.SETITEM), 'tuples nested 33 deep')
    files['key-colliding-ints'] = (pkl(
        pickle.EMPTY_DICT, pickle.MARK,
        b''.join(num(i * (2**61 - 1)) + pickle.NONE for i in range(1, 2000)),
        pickle.SETITEMS), 'a dict key')
    files['set-of-shared-tuples'] = (pkl(
        call(glob('builtins', 'set'), pickle.EMPTY_LIST + shared(24) + pickle.APPEND)),
                                     ('a set key', 'a pickled builtins.set'))
    files['pid-shared-tuple'] = (pkl(pickle.MARK, text('module'), shared(24), pickle.TUPLE,
                                     pickle.BINPERSID), 'a persistent id')
    # More objects than bytes: a 1 MiB string re-encoded 400 times; a million empty sets.
    big = text('A' * 2**20)
    files['memo-reencoded'] = (pkl(
        glob('_codecs',
             'encode'), pickle.BINPUT + b'\1', tup(big, text('latin1')), pickle.BINPUT + b'\2',
        pickle.REDUCE, (pickle.BINGET + b'\1' + pickle.BINGET + b'\2' + pickle.REDUCE) * 400,
        pickle.EMPTY_DICT), 'more objects than its size can account for')
    files['million-sets'] = (pkl(pickle.EMPTY_SET * 2**20,
                                 pickle.EMPTY_DICT), 'more objects than its size can account for')
    # Names and values that are pvt_mm's or torch's machinery, not data.
    files['metadata-internals'] = (pkl(
        odict(), text('w'), tensor(size=(6, ), stride=(1, )), pickle.SETITEM,
        dct((text('_metadata'), dct((text(''), dct((text('version'), glob('numpy', 'dtype'))))))),
        pickle.BUILD), 'setting the state of')
    files['key-colliding-int-tuples'] = (pkl(pickle.EMPTY_DICT, tup(num(9), num(-2**60)),
                                             pickle.NONE, pickle.SETITEM), 'a dict key')
    files['bare-numpy-dtype'] = (pkl(dct((text('x'), glob('numpy', 'dtype')))), 'a bare _Dtype')
    files['bare-history-method'] = (pkl(
        dct((text('x'),
             call(
                 glob('builtins', 'getattr'),
                 glob('mmengine.logging.history_buffer', 'HistoryBuffer'),
                 text('mean'))))), 'a bare mean')
    files['storage-name-any-module'] = (state_dict(
        tensor(
            pid=tup(
                text('storage'), glob('builtins', 'FloatStorage'), text('0'), text('cpu'), num(6)) +
            pickle.BINPERSID)), 'a pickled builtins.FloatStorage')
    files['quantized-storage'] = (state_dict(
        tensor(
            pid=tup(
                text('storage'), glob('torch', 'QInt8Storage'), text('0'), text('cpu'), num(24)) +
            pickle.BINPERSID,
            size=(24, ),
            stride=(1, ))), 'a pickled torch.QInt8Storage')
    files['empty-tensor-far-offset'] = (state_dict(
        tensor(offset=2**63 - 1, size=(0, ), stride=(1, ))), 'a tensor of size')
    files['empty-tensor-huge-dim'] = (state_dict(tensor(size=(0, 2**63 - 1),
                                                        stride=(1, 1))), 'a tensor of size')
    files['numpy-reconstruct-other'] = (pkl(
        call(
            glob('numpy._core.multiarray', '_reconstruct'), glob('collections', 'OrderedDict'),
            tup(num(0)), text('b'))), '_reconstruct of anything but a plain ndarray')
    return files


def _neg_defaults():
    """Slot state ``(None, {'__defaults__': ({'neg': True},)})``: BUILD would setattr it."""
    neg = dct((text('neg'), pickle.NEWTRUE))
    return tup(pickle.NONE, dct((text('__defaults__'), tup(neg))))


def _np_dtype(name, state=None):
    state = state if state is not None else (3, '<', None, None, None, -1, -1, 0)
    return call(glob('numpy', 'dtype'), text(name), pickle.NEWFALSE, pickle.NEWTRUE) + \
        tup(*(_literal(v) for v in state)) + pickle.BUILD


def _np_array(values, dtype=None, data=None, shape=None):
    if values is None:
        dtype = dtype or _np_dtype('f8')
    else:
        dtype = dtype or _np_dtype(values.dtype.str[1:],
                                   (3, values.dtype.str[0], None, None, None, -1, -1, 0))
        data, shape = values.tobytes(), values.shape
    raw = call(glob('_codecs', 'encode'), text(data.decode('latin1')), text('latin1'))
    return call(glob('numpy._core.multiarray', '_reconstruct'), glob('numpy', 'ndarray'),
                tup(num(0)), call(glob('_codecs', 'encode'), text('b'), text('latin1'))) + \
        tup(num(1), tup(*map(num, shape)), dtype, pickle.NEWFALSE, raw) + pickle.BUILD


def _literal(value):
    if value is None:
        return pickle.NONE
    if isinstance(value, str):
        return text(value)
    return num(value)


def corpus(folder) -> dict:
    """Write the corpus into ``folder``; ``{name: Entry}``."""
    folder = str(folder)
    entries = {}

    def add(name, data, hostile=True, refusal=None, mmengine=False):
        path = os.path.join(folder, name + ('' if '.' in name[-12:] else '.pth'))
        with open(path, 'wb') as f:
            f.write(data)
        refusal = (refusal, ) if isinstance(refusal, str) else tuple(refusal or ())
        entries[name] = Entry(path, hostile, refusal, mmengine)

    for name, (data_pkl, refusal) in _hostile_pickles().items():
        add(name, torch_zip(data_pkl), refusal=refusal)
    # The same attacks in the legacy format, where the storages follow the pickles.
    add('legacy-system', legacy(pkl(system())), refusal='a pickled os.system')
    add('legacy-module-pid',
        legacy(
            pkl(
                tup(text('module'), glob('torch', 'float32'), text('a.py'), text('src')) +
                pickle.BINPERSID)),
        refusal='a persistent id')
    add('legacy-huge-storage',
        legacy(
            state_dict(
                tensor(
                    pid=storage_pid(numel=2**31, extra=(pickle.NONE, )),
                    size=(2**31, ),
                    stride=(1, ))),
            keys=['0']),
        refusal='truncated')
    dag_list = pickle.EMPTY_LIST + pickle.BINPUT + b'\0' + (
        pickle.EMPTY_LIST + pickle.MARK + pickle.BINGET + b'\0' + pickle.BINGET + b'\0' +
        pickle.APPENDS + pickle.BINPUT + b'\0') * 40
    add('legacy-protocol-dag',
        pickle.dumps(MAGIC, protocol=2) + pkl(dag_list) + pickle.dumps({}, protocol=2) +
        pkl(pickle.EMPTY_DICT) + pickle.dumps([], protocol=2),
        refusal='header pickle 2')
    dag_tuple = pickle.NONE + (pickle.BINPUT + b'\0' + pickle.BINGET + b'\0' + pickle.BINGET +
                               b'\0' + pickle.TUPLE3) * 30
    head = legacy(b'')[:-len(pickle.dumps([], protocol=2))]
    add('legacy-keys-dag',
        head + pkl(pickle.EMPTY_DICT) + pkl(pickle.EMPTY_LIST, dag_tuple, pickle.APPEND),
        refusal='storage keys do not match')
    unfilled = tup(
        text('storage'), glob('torch', 'ByteStorage'), text('0'), text('cpu'), num(4096),
        pickle.NONE) + pickle.BINPERSID
    add('legacy-storage-never-filled',
        legacy(
            state_dict(
                call(
                    glob('torch._utils', '_rebuild_tensor_v2'), unfilled, num(0), tup(num(4096)),
                    tup(num(1)), pickle.NEWFALSE, odict())),
            keys=[],
            storages=bytes(4200)),
        refusal='storage keys do not match')
    add('legacy-view-outside',
        legacy(
            state_dict(
                tensor(
                    pid=storage_pid(numel=6, extra=(tup(text('1'), num(4), num(100)), )),
                    size=(2, ),
                    stride=(1, ))),
            keys=['0'],
            storages=struct.pack('<q', 6) + b'\0' * 24),
        refusal='outside its storage')
    # tar: the checkpoint format of torch < 0.4, whose members torch extracts to a folder.
    fifo = tarfile.TarInfo('storages')
    fifo.type = tarfile.FIFOTYPE
    link = tarfile.TarInfo('tensors')
    link.type, link.linkname = tarfile.SYMTYPE, '/etc/passwd'
    add('tar-fifo', _tar([(fifo, None), (link, None)]), refusal='not a PyTorch or safetensors')
    named = tarfile.TarInfo('\x80pickle-like')  # starts like a pickle: the tar check sees it
    named.size = 4
    add('tar-named-like-a-pickle', _tar([(named, b'abcd'), (fifo, None)]), refusal='a tar archive')
    # Tensors the reader refuses by kind: sparse (an index of 2**40 in a tensor of 2), meta,
    # quantized, nested, subclasses and tensors with attributes.
    bad_sparse = torch.sparse_coo_tensor(
        torch.tensor([[2**40]]), torch.ones(1), (2, ), check_invariants=False)
    add('sparse-out-of-range', saved({'w': bad_sparse}), refusal='a pickled torch._utils.')
    add('meta-state-dict',
        saved({
            k: torch.empty_like(v, device='meta')
            for k, v in WEIGHTS.items()
        }),
        refusal='a pickled torch._utils._rebuild_meta_tensor_no_storage')
    add('quantized',
        saved({'w': torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.qint8)}),
        refusal='a pickled torch._utils._rebuild_qtensor')
    tagged = torch.ones(2)
    tagged.note = 'attribute'
    add('tensor-with-attribute',
        saved({'w': tagged}),
        refusal='a pickled torch._tensor._rebuild_from_type_v2')
    # Zip archives that are not what they seem: decoy records (the size check keyed by the last
    # '/data/'), two records of one name, case twins, TorchScript, compression bombs.
    data_pkl = state_dict(tensor(size=(2**14, ), stride=(1, )))
    add('zip-decoy-record',
        torch_zip(data_pkl, data={'0': b'\0' * 4}, extra={'archive/pad/data/0': b'\0' * 2**16}),
        refusal='whose record holds 4 bytes')
    dup = io.BytesIO()
    with zipfile.ZipFile(dup, 'w') as archive:
        for name, value in [('archive/data.pkl', state_dict(tensor())),
                            ('archive/data/0', b'\0' * 24), ('archive/data/0', b'\0' * 4)]:
            archive.writestr(name, value)
    add('zip-duplicate-record', dup.getvalue(), refusal='two records under one name')
    add('zip-case-twin',
        torch_zip(state_dict(tensor()), extra={'archive/DATA/0': b'\0'}),
        refusal='two records under one name')
    add('zip-outside-folder',
        torch_zip(state_dict(tensor()), extra={'other/data/1': b'\0'}),
        refusal='records outside its folder')
    add('zip-deflate-bomb',
        torch_zip(
            state_dict(tensor(pid=storage_pid(numel=2**24), size=(2**24, ), stride=(1, ))),
            data={'0': b'\0' * 2**26},
            compress=zipfile.ZIP_DEFLATED),
        refusal='compressed records')  # 64 MiB from 64 KiB
    add('zip-two-central-directories',
        two_views(
            {
                'archive/data.pkl':
                state_dict(tensor(pid=storage_pid(numel=2**18), size=(2**18, ), stride=(1, ))),
                'archive/byteorder':
                b'little',
                'archive/version':
                b'3\n',
                'archive/data/0':
                b'\x11\x22\x33\x44'
            }, {'archive/data/0': 2**20}),
        refusal='data before its records')
    add('zip-two-views-deflated',
        two_views(
            {
                'archive/data.pkl': state_dict(tensor()),
                'archive/byteorder': b'little',
                'archive/version': b'3\n',
                'archive/data/0': b'\0' * 2**22
            }, {'archive/data/0': 24},
            deflate=('archive/data/0', )),
        refusal='data before its records')
    add('zip64-two-views',
        zip64_two_views(
            {
                'archive/data.pkl':
                state_dict(tensor(pid=storage_pid(numel=2**18), size=(2**18, ), stride=(1, ))),
                'archive/byteorder':
                b'big',
                'archive/version':
                b'3\n',
                'archive/data/0':
                b'\x11\x22\x33\x44'
            }, {'archive/data/0': 2**20}),
        refusal='could be read two ways')
    add('zip-shared-records', shared_records(200, 1 << 16), refusal='records that share bytes')
    add('zip-trailing-bytes',
        torch_zip(state_dict(tensor())) + b'\0' * 100,
        refusal=('data before its records', 'truncated or corrupt'))
    add('zip-torchscript',
        torch_zip(
            pkl(pickle.NONE),
            extra={
                'archive/constants.pkl': pkl(pickle.EMPTY_TUPLE),
                'archive/code/__torch__.py': b'import os\nos.system("touch pvt_mm_was_here")\n'
            }),
        refusal='TorchScript')
    script = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), script)
    add('torchscript-module',
        script.getvalue(),
        refusal=('TorchScript', 'compressed records', 'records that share bytes'))
    add('zip-no-data-pkl',
        torch_zip(b'', extra={}).replace(b'data.pkl', b'other.pk'),
        refusal='no data.pkl')
    # safetensors: a dtype this torch lacks, offsets past the end.
    add('f8-e8m0.safetensors',
        safetensors({'w': {
            'dtype': 'F8_E8M0',
            'shape': [4],
            'data_offsets': [0, 4]
        }}, b'\0' * 4),
        refusal="dtype 'F8_E8M0'")
    header = b'{"w": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}'
    add('header-17mib.safetensors',
        struct.pack('<Q', 17 << 20) + header + b' ' * ((17 << 20) - len(header)),
        refusal='a safetensors header of')
    add('escapes-in-names.safetensors',
        safetensors(
            {'\x1b]0;owned\x07' + 'Y' * 5000: dict(dtype='F32', shape=[1], data_offsets=[4, 8])},
            b'\0' * 8),
        refusal='not a valid safetensors file')
    add('offsets-past-end.safetensors',
        safetensors({'w': {
            'dtype': 'F32',
            'shape': [2**20],
            'data_offsets': [0, 2**22]
        }}),
        refusal='truncated or corrupt')
    # Files the reader reads; some are not what mmengine's loading expects (tests/test_fileio.py
    # checks that every entry point names them too).
    add('plain-state-dict', saved(WEIGHTS), hostile=False)
    add('plain-legacy', saved(WEIGHTS, _use_new_zipfile_serialization=False), hostile=False)
    add('list-checkpoint', saved([WEIGHTS['w']]), hostile=False)
    add('state-dict-none', saved({'state_dict': None}), hostile=False)
    add('bytes', saved({'w': WEIGHTS['w'], 'raw': b'\x00\xff'}), hostile=False, mmengine=True)
    add('bytearray', saved({'w': WEIGHTS['w'], 'buf': bytearray(b'ab')}), hostile=False)
    add('python2-module-name', torch_zip(pkl(call(glob('UserDict', 'OrderedDict')))),
        hostile=False)  # torch >= 2.4 maps the name, as pvt_mm then does; older torch refuses
    add('set-and-complex', saved({'w': WEIGHTS['w'], 'tags': {1, 2}, 'z': 1 + 2j}), hostile=False)
    add('mmengine-checkpoint', saved(mmengine_checkpoint()), hostile=False, mmengine=True)
    # Read, but not resumed from: a seed that mmengine's resume would format, 3**30 elements.
    add('resume-seed-dag',
        torch_zip(
            pkl(
                dct((text('meta'),
                     dct((text('epoch'), num(1)), (text('iter'), num(1)),
                         (text('seed'), dag_tuple))), (text('state_dict'), dct()),
                    (text('message_hub'), dct())))),
        hostile=False)
    add('mmengine-legacy',
        saved(mmengine_checkpoint(), _use_new_zipfile_serialization=False),
        hostile=False,
        mmengine=True)
    return entries


def mmengine_checkpoint() -> dict:
    """What an mmengine Runner's checkpoint holds beyond tensors: HistoryBuffers of numpy arrays,
    numpy scalars and dtypes, the random generators' states (pvt_mm's RNGStateHook), a step
    schedule's milestones (a Counter, MultiStepLR's)."""
    from collections import Counter

    from mmengine.logging import HistoryBuffer
    return {
        'meta': {
            'epoch': 1,
            'iter': 4,
            'seed': np.int64(7),
            'lr': np.float64(1e-4),
            'dtype': np.dtype('float32'),
            'text': np.str_('a')
        },
        'state_dict':
        dict(WEIGHTS),
        'message_hub': {
            'log_scalars': {
                'train/loss': HistoryBuffer([1.0, 0.5], [1, 1])
            },
            'runtime_info': {
                'epoch': 1
            },
            'resumed_keys': {}
        },
        'rng_state': {
            'numpy': np.random.RandomState(0).get_state()
        },
        'param_schedulers': [{
            'milestones': Counter({
                8: 1,
                11: 1
            }),
            'gamma': 0.1,
            'last_epoch': 1,
            'by_epoch': True
        }]
    }
