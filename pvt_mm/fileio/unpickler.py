"""The weights-only unpickler every checkpoint pickle goes through (:mod:`pvt_mm.fileio.reading`
hands it to ``torch.load`` as its ``pickle_module``), on every supported torch.

It is never more permissive than torch's own ``weights_only=True`` on the running torch, except
for the exact classes mmengine's checkpoints hold (``HistoryBuffer``, plain numpy arrays, scalars
and dtypes), and it is stricter where torch's is not safe enough:

- **Opcodes**: exactly those torch's weights-only unpickler runs (:data:`OPCODES`); anything else
  is refused.
- **Names**: a pickle names only entries of :data:`NAMES`: the few that ``torch.save`` writes
  (tensor rebuilds, storage types, dtypes, containers), each also in torch's own list on this
  torch, and the mmengine / numpy names. Nothing is imported and no attribute is looked up.
- **Calls**: REDUCE calls only pvt_mm's wrappers, which check their arguments before calling the
  real function: a tensor must lie inside its storage (``set_`` would grow the storage, so a
  tiny file could claim gigabytes), carry no backward hooks or conj/neg metadata; no call makes
  bytes from a number (``bytearray(n)``) or re-encodes a string with any codec but latin-1 (a
  chain of ``_codecs.encode(x, 'hex')`` doubles a string per call). torch's own list admits all
  three.
- **State**: BUILD only sets an ``OrderedDict``'s ``_metadata`` and fills pvt_mm's own pending
  objects (:class:`_Pending`), which make the real ``HistoryBuffer``, array or dtype from
  validated state and take their place. Never an attribute of a class, module or function,
  never a class's own ``__setstate__`` (numpy's dtype takes its flags from the file, which lets
  an array of bytes become an array of object pointers; ``HistoryBuffer.__setstate__`` writes
  its class's statistics table).
- **Storages** (persistent ids): ``('storage', type, key, location, numel)`` of a zip checkpoint
  must match its record's size exactly; a legacy checkpoint's storages must fit in the bytes left
  in the file. Storages on the meta device (no data) are refused.

torch's own unpickler cannot do this on any version: torch < 2.5 cannot extend its list, and
refuses the NEWOBJ and BUILD that mmengine's classes need; on newer torch an extension
(``safe_globals``) admits a class together with its own ``__setstate__``, and the default list
itself admits the unbounded calls above.
"""
import math
import pickle
import re
import struct
import sys
from collections import Counter, OrderedDict
from functools import lru_cache

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from .errors import named, shown


class Refused(pickle.UnpicklingError):
    """Something a weights-only load refuses; ``what`` says what, for the reader's message."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class Damaged(Refused):
    """Tensor data that does not match what the pickle says of it: a damaged file."""


# The opcodes of torch's weights-only unpickler (the same on torch 2.1 and 2.13): protocol 2
# without the ones that look up attributes or run code (INST, OBJ, EXT*, STACK_GLOBAL, ...).
OPCODES = frozenset(
    op[0] for op in (pickle.APPEND, pickle.APPENDS, pickle.BINFLOAT, pickle.BINGET, pickle.BININT,
                     pickle.BININT1, pickle.BININT2, pickle.BINPERSID, pickle.BINPUT,
                     pickle.BINUNICODE, pickle.BUILD, pickle.EMPTY_DICT, pickle.EMPTY_LIST,
                     pickle.EMPTY_SET, pickle.EMPTY_TUPLE, pickle.GLOBAL, pickle.LONG1,
                     pickle.LONG_BINGET, pickle.LONG_BINPUT, pickle.MARK, pickle.NEWFALSE,
                     pickle.NEWOBJ, pickle.NEWTRUE, pickle.NONE, pickle.PROTO, pickle.REDUCE,
                     pickle.SETITEM, pickle.SETITEMS, pickle.SHORT_BINSTRING, pickle.STOP,
                     pickle.TUPLE, pickle.TUPLE1, pickle.TUPLE2, pickle.TUPLE3))

MAX_DIMS = 64  # tensors and arrays; torch itself allows 64 dimensions at most
MAX_SIZE = 1 << 48  # any one dimension of a tensor or array
# The memory a pickle's objects may take (tensor data aside, which is the file's own records):
# 64 MiB plus 32 bytes per byte of pickle. An empty set takes 216 bytes from one opcode byte.
_BASE_ALLOWANCE, _PER_PICKLE_BYTE = 64 << 20, 32
_MAX_TUPLE_DEPTH = 32
_MAX_NAME = 200  # characters of a pickled global's name
_QUANTIZED = {
    getattr(torch, n)
    for n in ('qint8', 'quint8', 'qint32', 'quint4x2', 'quint2x4') if hasattr(torch, n)
}
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')
_LATIN1 = ('latin1', 'latin-1', 'iso-8859-1')
_LOCATION = re.compile(r'[a-z_]+(:\d+)?')


class _Pending:
    """An object a pickle makes in two steps, a call (REDUCE / NEWOBJ) and then BUILD with its
    state: :meth:`build` makes the real object from the checked state, and the unpickler puts it
    where this one was (stack and memo). Used anywhere else before that, it is refused."""
    __hash__ = None

    def build(self, state):
        raise NotImplementedError


def _refuse_pending(items, where: str):
    for item in items:
        if isinstance(item, _Pending):
            raise Refused(f'a {type(item).__name__} used in {where} before its state was set')


_KEY_ATOMS = (str, bytes, bool, type(None))  # hashes randomized (str, bytes) or fixed


def _check_keys(keys, where: str):
    """Dict keys and set items: strings, bytes, booleans, None, ints below 2**61 - 1, or short
    tuples of strings, bytes, booleans and None. Their hashes are then cheap, and a file cannot
    make many keys share one: ints below 2**61 - 1 hash to themselves, and the hashes of strings
    are keyed per process (CPython's tuple hash of ints, like int hashes modulo 2**61 - 1, can be
    made to collide at will)."""
    for key in keys:
        if type(key) in _KEY_ATOMS or type(key) is int and abs(key) < (1 << 61) - 1:
            continue
        if type(key) is tuple and len(key) <= 16 and all(type(i) in _KEY_ATOMS for i in key):
            continue
        raise Refused(f'a {where} key {shown(key)} (keys are strings, ints below 2**61 or short '
                      'tuples of strings)')


def _is_int(value) -> bool:
    return type(value) is int


# --- mmengine's classes and numpy ------------------------------------------------------------


class _HistoryBuffer(_Pending):
    """``mmengine.logging.HistoryBuffer``: made through its constructor from its two arrays and
    ``max_length``; the file's statistics table is checked to be the built-in one and not used
    (it is HistoryBuffer's class-wide table)."""
    _KEYS = {'max_length', '_log_history', '_count_history'}

    def build(self, state):
        if type(state) is not dict or not self._KEYS <= set(
                state) <= self._KEYS | {'statistics_methods'}:
            raise Refused('a HistoryBuffer with other fields than mmengine writes')
        statistics = state.get('statistics_methods', {})
        if type(statistics) is not dict or any(
                name not in _HISTORY_BUFFER_STATISTICS
                or method is not getattr(HistoryBuffer, name)
                for name, method in statistics.items()):
            raise Refused('a HistoryBuffer with statistics other than its built-in ones')
        log, count, max_length = (state['_log_history'], state['_count_history'],
                                  state['max_length'])
        if not (_is_int(max_length) and max_length > 0 and all(
                isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in 'biuf'
                for a in (log, count)) and len(log) == len(count) <= max_length):
            raise Refused('a HistoryBuffer whose histories are not two numeric arrays of one '
                          'length within max_length')
        return HistoryBuffer(log, count, max_length)


def _history_buffer_getattr(owner, name):
    """``getattr`` as HistoryBuffer pickles its statistics (``getattr(HistoryBuffer, 'mean')``),
    limited to exactly those."""
    if owner is _HistoryBuffer and name in _HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise Refused(f'getattr({named(owner)}, {shown(name)})')


_NUMPY_KINDS = 'biufcSU'  # booleans, numbers, fixed-size bytes and text: no object pointers


def _plain_dtype(dtype, what: str):
    if not (isinstance(dtype, np.dtype) and dtype.kind in _NUMPY_KINDS and not dtype.hasobject
            and dtype.fields is None and dtype.subdtype is None and 0 < dtype.itemsize <= 1 << 16):
        raise Refused(f'a numpy {what} of dtype {shown(dtype)} (only plain numbers and strings)')
    return dtype


def _from_bytes(data: bytes, dtype: np.dtype) -> np.ndarray:
    """A flat array of ``dtype`` made from ``data`` (a copy), checked: text of valid code points,
    booleans of 0 and 1."""
    if dtype.kind == 'U':
        try:
            data.decode('utf-32-be' if dtype.byteorder == '>' else 'utf-32-le')
        except UnicodeDecodeError:
            raise Refused('numpy text that is not valid unicode') from None
    array = np.frombuffer(data, dtype=dtype).copy()
    if dtype.kind == 'b':
        array = array.view(np.uint8) != 0
    return array


class _Dtype(_Pending):
    """``numpy.dtype(name, align, copy)`` then its state: the dtype numpy makes from ``name``,
    accepted only where the file's state is exactly the state numpy gives that dtype."""

    def __init__(self, name, align=False, copy=True):
        if type(name) is not str or len(name) > 16:
            raise Refused(f'a numpy dtype named {shown(name)}')
        try:
            self.dtype = _plain_dtype(np.dtype(name), 'dtype')
        except (TypeError, ValueError):
            raise Refused(f'a numpy dtype named {shown(name)}') from None

    def build(self, state):
        endian = state[1] if type(state) is tuple and len(state) > 1 else None
        dtype = self.dtype.newbyteorder(endian) if endian in ('<', '>') else self.dtype
        if state != dtype.__reduce__()[2]:
            raise Refused(f'a numpy dtype {self.dtype} with altered state {shown(state)}')
        return dtype


class _Array(_Pending):
    """``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')`` then its state ``(1, shape,
    dtype, fortran, bytes)``: an array of a plain dtype, made from exactly its bytes."""

    def build(self, state):
        if type(state) is not tuple or len(state) != 5:
            raise Refused('a numpy array with a state numpy does not write')
        version, shape, dtype, fortran, data = state
        if not (version == 1 and type(shape) is tuple and len(shape) <= MAX_DIMS
                and all(_is_int(n) and n >= 0
                        for n in shape) and type(fortran) is bool and type(data) is bytes):
            raise Refused('a numpy array with a state numpy does not write')
        dtype = _plain_dtype(dtype, 'array')
        if any(n > MAX_SIZE for n in shape) or len(data) != math.prod(shape) * dtype.itemsize:
            raise Refused(f'a numpy array of shape {shown(shape)} over {len(data)} bytes of data')
        return _from_bytes(data, dtype).reshape(shape, order='F' if fortran else 'C')


def _reconstruct(subtype, shape, typecode):
    if subtype is not _Array or shape != (0, ) or typecode != b'b':
        raise Refused('numpy _reconstruct of anything but a plain ndarray')
    return _Array()


def _scalar(dtype, data):
    dtype = _plain_dtype(dtype, 'scalar')
    if type(data) is not bytes or len(data) != dtype.itemsize:
        raise Refused(f'a numpy {dtype} scalar made from something other than its '
                      f'{dtype.itemsize} bytes')
    return _from_bytes(data, dtype)[0]


def _encode(text, encoding='utf-8', errors='strict'):
    """``_codecs.encode``, as pickle protocol 2 writes ``bytes``: ``encode(str, 'latin1')``."""
    if type(text) is not str or encoding not in _LATIN1 or errors != 'strict':
        raise Refused(f'_codecs.encode with {type(text).__name__} and encoding {shown(encoding)}')
    return text.encode('latin1')


def _bytearray(*args):
    """``bytearray`` of given bytes or latin-1 text, never of a length (``bytearray(n)``)."""
    if args and not (type(args[0]) is bytes and len(args) == 1
                     or type(args[0]) is str and len(args) == 2 and args[1] in _LATIN1):
        raise Refused('bytearray made from something other than its bytes')
    return bytearray(*args)


# --- torch ------------------------------------------------------------------------------------


def _no_hooks(hooks):
    if not (type(hooks) in (dict, OrderedDict) and not hooks):
        raise Refused('a tensor with backward hooks')


def _check_storage_device(storage):
    if storage.device.type == 'meta':  # an UntypedStorage
        raise Refused('tensors on the meta device, which hold no data')


def _check_view(elements: int, offset, size, stride):
    """``size`` / ``stride`` from ``offset`` must lie inside a storage of ``elements``, and hold
    no more elements than it (a view that repeats elements would multiply memory on a copy)."""
    if not (_is_int(offset) and 0 <= offset <= elements and type(size) in (tuple, torch.Size)
            and type(stride) is tuple and len(size) == len(stride) <= MAX_DIMS
            and all(_is_int(v) and 0 <= v <= MAX_SIZE for v in (*size, *stride))):
        raise Refused(f'a tensor of size {shown(size)} and stride {shown(stride)} from offset '
                      f'{shown(offset)}')
    numel = math.prod(size)
    if numel == 0:
        return
    end = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if end > elements or numel > elements:
        raise Refused(f'a tensor of size {tuple(size)} and stride {stride} over a storage of '
                      f'{elements} elements')


def _rebuild_tensor_v2(storage,
                       storage_offset,
                       size,
                       stride,
                       requires_grad,
                       backward_hooks,
                       metadata=None):
    if type(storage) is not torch.storage.TypedStorage:
        raise Refused('a tensor without a storage of the file')
    untyped = storage._untyped_storage
    _check_storage_device(untyped)
    _check_view(untyped.nbytes() // storage._element_size(), storage_offset, size, stride)
    if type(requires_grad) is not bool or metadata:
        raise Refused('a tensor with conj/neg metadata or another requires_grad than a bool')
    _no_hooks(backward_hooks)
    return torch._utils._rebuild_tensor_v2(storage, storage_offset, tuple(size), stride,
                                           requires_grad, OrderedDict())


def _rebuild_tensor_v3(storage,
                       storage_offset,
                       size,
                       stride,
                       requires_grad,
                       backward_hooks,
                       dtype,
                       metadata=None):
    if type(storage) is not torch.storage.TypedStorage or not isinstance(dtype, torch.dtype) \
            or dtype in _QUANTIZED:
        raise Refused('a tensor without a storage of the file')
    untyped = storage._untyped_storage
    _check_storage_device(untyped)
    itemsize = torch.empty((), dtype=dtype).element_size()
    _check_view(untyped.nbytes() // itemsize, storage_offset, size, stride)
    if type(requires_grad) is not bool or metadata:
        raise Refused('a tensor with conj/neg metadata or another requires_grad than a bool')
    _no_hooks(backward_hooks)
    return torch._utils._rebuild_tensor_v3(storage, storage_offset, tuple(size), stride,
                                           requires_grad, OrderedDict(), dtype)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    if type(data) is not torch.Tensor or type(requires_grad) is not bool:
        raise Refused('a Parameter of something other than a tensor')
    _no_hooks(backward_hooks)
    return torch.nn.Parameter(data, requires_grad)


def _keyed(call, where):
    """``call`` (a dict or set type) whose keys are checked first (:func:`_check_keys`)."""

    def checked(*args):
        if len(args) > 1 or any(not isinstance(a, (list, tuple, dict)) for a in args):
            raise Refused(f'{where} made from {shown(args)}')
        for arg in args:
            keys = arg.keys() if isinstance(arg, dict) else arg
            if where == 'an OrderedDict' and not isinstance(arg, dict):
                if any(type(p) is not tuple or len(p) != 2 for p in arg):
                    raise Refused(f'{where} made from {shown(arg)}')
                keys = [p[0] for p in arg]
            _check_keys(keys, where)
        return call(*args)

    checked.__name__ = call.__name__
    return checked


# Calls a pickle may make, by pickled name: torch's (each only where torch's own weights-only
# list has that name too) and mmengine's / numpy's (always).
_TORCH_CALLS = {
    'torch._utils._rebuild_tensor_v2': _rebuild_tensor_v2,
    'torch._utils._rebuild_tensor_v3': _rebuild_tensor_v3,
    'torch._utils._rebuild_parameter': _rebuild_parameter,
    'collections.OrderedDict': _keyed(OrderedDict, 'an OrderedDict'),
    'torch.Size': torch.Size,
    'torch.device': torch.device,
    'builtins.set': _keyed(set, 'a set'),
    'builtins.complex': complex,
    'builtins.bytearray': _bytearray,
}
_MMENGINE_CALLS = {
    # MultiStepLR's milestones (torch's and mmengine's schedulers): in every resumable checkpoint
    # of a step schedule; torch < 2.2's own weights-only list lacks it.
    'collections.Counter': _keyed(Counter, 'a Counter'),
    '_codecs.encode': _encode,  # bytes in a protocol 2 pickle (numpy arrays' data)
    'builtins.getattr': _history_buffer_getattr,
    '__builtin__.getattr': _history_buffer_getattr,  # its protocol 2 name (torch < 2.4 maps none)
    'numpy.core.multiarray._reconstruct': _reconstruct,
    'numpy._core.multiarray._reconstruct': _reconstruct,  # numpy >= 2
    'numpy.core.multiarray.scalar': _scalar,
    'numpy._core.multiarray.scalar': _scalar,
    'numpy.dtype': _Dtype,
}
_MMENGINE_CLASSES = {  # made by NEWOBJ, or passed to a call above
    'mmengine.logging.history_buffer.HistoryBuffer': _HistoryBuffer,
    'numpy.ndarray': _Array,
}


def _storage_type(name: str, value):
    """What a storage type's name stands for in a pickle: torch's own ``StorageType`` (what its
    loader makes of ``torch.FloatStorage`` and the like), or ``torch.UntypedStorage``; None for
    quantized and other storage types, which describe no plain tensor."""
    if value is torch.UntypedStorage:
        return value
    try:
        storage_type = torch.serialization.StorageType(name.rpartition('.')[2])
    except (KeyError, AttributeError):
        return None
    return None if storage_type.dtype in _QUANTIZED else storage_type


@lru_cache(maxsize=1)
def names() -> dict:
    """Every name a pickle may use, and what it resolves to: the calls above, and from torch's
    own weights-only list of this torch its dtypes and storage types (which only describe
    tensors)."""
    from torch import _weights_only_unpickler
    torch_own = _weights_only_unpickler._get_allowed_globals()
    table = {name: call for name, call in _TORCH_CALLS.items() if name in torch_own}
    for name, value in torch_own.items():
        if isinstance(value, torch.dtype) and value not in _QUANTIZED:
            table[name] = value
        elif isinstance(value, torch.serialization.StorageType) or (isinstance(
                value, type) and issubclass(value,
                                            (torch.storage.TypedStorage, torch.UntypedStorage))):
            storage_type = _storage_type(name, value)
            if storage_type is not None:
                table[name] = storage_type
    table.update(_MMENGINE_CALLS)
    table.update(_MMENGINE_CLASSES)
    return table


@lru_cache(maxsize=1)
def _calls() -> frozenset:
    return frozenset(id(v) for n, v in names().items() if n in _TORCH_CALLS or n in _MMENGINE_CALLS)


@lru_cache(maxsize=1)
def _code() -> frozenset:
    """The table's classes and functions: what a pickle may call, never what it may return."""
    return frozenset(
        id(v) for v in names().values()
        if not isinstance(v, (torch.dtype, torch.serialization.StorageType)))


# The names torch's own weights-only unpickler maps from Python 2 (torch >= 2.4; older torch
# maps none).
_NAME_MAPPING = getattr(torch._utils, 'NAME_MAPPING', {})
_IMPORT_MAPPING = getattr(torch._utils, 'IMPORT_MAPPING', {})


class _Dispatch(dict):

    def __missing__(self, opcode):
        raise Refused(f'the pickle opcode {bytes([opcode])!r}, which a weights-only load does '
                      'not run')


class _WholeReads:
    """A file whose reads return all the bytes asked for, or raise EOFError: a truncated pickle
    is named as such, wherever it is cut."""

    def __init__(self, file):
        self._file = file

    def read(self, size):
        data = self._file.read(size)
        if len(data) != size:
            raise EOFError('pickle data was truncated')
        return data

    def readline(self):
        line = self._file.readline()
        if not line.endswith(b'\n'):
            raise EOFError('pickle data was truncated')
        return line


# Opcodes whose result is a new object on the stack, charged at its size.
_MAKE = {
    op[0]
    for op in (pickle.EMPTY_DICT, pickle.EMPTY_LIST, pickle.EMPTY_SET, pickle.BINUNICODE,
               pickle.SHORT_BINSTRING, pickle.LONG1, pickle.BININT, pickle.BININT2, pickle.BINFLOAT,
               pickle.NEWOBJ, pickle.REDUCE, pickle.BUILD)
}


class Unpickler(pickle._Unpickler):
    """Python's own pure-Python unpickler with a closed opcode table; the opcodes that resolve
    names, call, build or fill containers are pvt_mm's (see the module docstring).

    A load sets, on a subclass of its own (:func:`pickle_module`), :attr:`record_sizes` (a zip
    checkpoint's ``{key: bytes}``; None: a legacy one), the file's size, and the memory its
    objects may take; the pickles of one legacy file share them."""
    record_sizes = None
    state = None  # per file: budget (bytes left for legacy storages), allowance, storages

    def __init__(self, file, **kwargs):
        super().__init__(_WholeReads(file), **kwargs)
        self._pending_slots = {}  # id(pending object) -> memo slots holding it
        self._tuple_depth = {}  # id(tuple) -> nesting depth, for tuples of this load

    def _charge(self, nbytes: int):
        self.state['allowance'] -= nbytes
        if self.state['allowance'] < 0:
            raise Refused('more objects than its size can account for (a pickle may make 64 '
                          'MiB plus 32 bytes of objects per byte)')

    def load_global(self):
        module = self.readline()[:-1].decode('utf-8')
        name = self.readline()[:-1].decode('utf-8')
        if (module, name) in _NAME_MAPPING:
            module, name = _NAME_MAPPING[(module, name)]
        elif module in _IMPORT_MAPPING:
            module = _IMPORT_MAPPING[module]
        found = names().get(f'{module}.{name}') if len(module) + len(name) < _MAX_NAME else None
        if found is None:
            raise Refused(f'a pickled {shown(module)[1:-1]}.{shown(name)[1:-1]}')
        self.append(found)

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if id(func) not in _calls() or type(args) is not tuple:
            raise Refused(f'a call of {named(func)}')
        self.stack[-1] = func(*args)

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        if cls is not _HistoryBuffer or args != ():
            raise Refused(f'a new {named(cls)} object')
        self.append(cls())

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, _Pending):
            built = inst.build(state)
            self.stack[-1] = built
            for slot in self._pending_slots.pop(id(inst), ()):
                if self.memo.get(slot) is inst:
                    self.memo[slot] = built
        elif type(inst) is OrderedDict and type(state) is dict and set(state) == {'_metadata'} \
                and _is_metadata(state['_metadata']):
            inst._metadata = state['_metadata']  # what a module's state_dict() carries
        else:
            raise Refused(f'setting the state of a {type(inst).__name__}')

    def load_append(self):
        item = self.stack.pop()
        self._extend([item])

    def load_appends(self):
        self._extend(self.pop_mark())

    def _extend(self, items):
        target = self.stack[-1]
        if type(target) is not list:
            raise Refused(f'appending to a {type(target).__name__}')
        _refuse_pending(items, 'a list')
        self._charge(8 * len(items))
        target.extend(items)

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._set_items([key, value])

    def load_setitems(self):
        self._set_items(self.pop_mark())

    def _set_items(self, items):
        target = self.stack[-1]
        if type(target) not in (dict, OrderedDict, Counter) or len(items) % 2:
            raise Refused(f'setting items of a {type(target).__name__}')
        _refuse_pending(items, 'a dict')
        _check_keys(items[::2], 'dict')
        self._charge(48 * (len(items) // 2))
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def load_tuple(self):
        self._tuple(self.pop_mark())

    def load_tuple1(self):
        self._tuple([self.stack.pop()])

    def load_tuple2(self):
        self._tuple(self.stack[-2:])
        del self.stack[-3:-1]

    def load_tuple3(self):
        self._tuple(self.stack[-3:])
        del self.stack[-4:-1]

    def _tuple(self, items):
        _refuse_pending(items, 'a tuple')
        depth = 1 + max(
            (self._tuple_depth.get(id(i), 1) for i in items if type(i) is tuple), default=0)
        if depth > _MAX_TUPLE_DEPTH:
            raise Refused(f'tuples nested {depth} deep')
        result = tuple(items)
        if depth > 1:
            self._tuple_depth[id(result)] = depth
        self._charge(_size(result))
        self.append(result)

    def load_binput(self):
        self._put(self.read(1)[0])

    def load_long_binput(self):
        (slot, ) = struct.unpack('<I', self.read(4))
        self._put(slot)

    def _put(self, slot: int):
        value = self.stack[-1]
        self.memo[slot] = value
        self._charge(64)
        if isinstance(value, _Pending):
            self._pending_slots.setdefault(id(value), []).append(slot)

    def load_binunicode(self):
        (length, ) = struct.unpack('<I', self.read(4))
        if length > self.state['size']:
            raise EOFError('pickle data was truncated')
        self.append(str(self.read(length), 'utf-8', 'surrogatepass'))

    def load_binpersid(self):
        pid = self.stack.pop()
        if type(pid) is not tuple or not pid or torch.serialization._maybe_decode_ascii(
                pid[0]) != 'storage':
            raise Refused(f'a persistent id {shown(pid)} (only storages)')
        self._check_storage(pid)
        self.append(self.persistent_load(pid))

    def load_stop(self):
        _refuse_pending(self.stack[-1:], 'the result')
        _check_result(self.stack[-1])
        super().load_stop()

    def _check_storage(self, pid):
        legacy = self.record_sizes is None
        if len(pid) != (6 if legacy else 5):
            raise Refused(f'a storage id of {len(pid)} fields')
        storage_type, key, location, numel = pid[1:5]
        if isinstance(storage_type, torch.serialization.StorageType) and \
                storage_type.dtype not in _QUANTIZED:
            itemsize = torch.empty((), dtype=storage_type.dtype).element_size()
        elif storage_type is torch.UntypedStorage:
            itemsize = 1
        else:
            raise Refused(f'a storage of type {shown(storage_type)}')
        location = torch.serialization._maybe_decode_ascii(location) if isinstance(
            location, (str, bytes)) else None
        if not (type(key) is str and len(key) < _MAX_NAME and _is_int(numel) and
                0 <= numel <= MAX_SIZE and location is not None and _LOCATION.fullmatch(location)):
            raise Refused(f'a storage id {shown(pid)}')
        if location.split(':')[0] == 'meta':
            raise Refused('tensors on the meta device, which hold no data')
        nbytes = numel * itemsize
        if not legacy:
            if self.record_sizes.get(key) != nbytes:
                raise Damaged(f'storage {shown(key)[1:-1]} of {nbytes} bytes, whose record holds '
                              f'{self.record_sizes.get(key, "no")} bytes')
            return
        storages = self.state['storages']
        if key not in storages:
            if nbytes > self.state['budget']:
                raise EOFError(f'storage {key} of {nbytes} bytes, more than the file has left')
            self.state['budget'] -= nbytes
            storages[key] = numel
        view = pid[5]
        if view is not None and not (type(view) is tuple and len(view) == 3 and type(view[0]) is str
                                     and len(view[0]) < _MAX_NAME and all(
                                         _is_int(v) and v >= 0
                                         for v in view[1:]) and view[1] + view[2] <= storages[key]):
            raise Refused(f'a storage view {shown(view)} outside its storage')


def _is_metadata(value) -> bool:
    """A state dict's ``_metadata``: ``{module prefix: {'version': int, ...}}``."""
    return type(value) in (dict, OrderedDict) and all(
        type(k) is str and type(v) is dict and all(
            type(name) is str and type(x) in (int, bool, type(None)) for name, x in v.items())
        for k, v in value.items())


def _check_result(result):
    """Nothing of the name table's classes and functions (pvt_mm's own wrappers among them) in
    what a pickle returns: they are for calling, and torch's own load refuses such files."""
    code = _code()
    seen, todo = set(), [result]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if id(obj) in code or isinstance(obj, type) or callable(obj) and not isinstance(
                obj, (torch.Tensor, np.ndarray, HistoryBuffer, torch.dtype,
                      torch.serialization.StorageType)):
            raise Refused(f'a bare {named(obj)} among its values')
        if isinstance(obj, dict):
            todo.extend(obj.keys())
            todo.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo.extend(obj)


Unpickler.dispatch = _Dispatch({
    op: getattr(Unpickler, handler.__name__)
    for op, handler in pickle._Unpickler.dispatch.items() if op in OPCODES
})

_WALK = 64  # what checking the result costs per container (tests/test_fileio.py)


def _size(obj) -> int:
    """The memory a new object takes, for the allowance: arrays and HistoryBuffers by their data
    (``sys.getsizeof`` sees a view's header only), tensors by their sizes and strides (their
    data is the file's own records), containers with what the result's check costs for them."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes + 112
    if isinstance(obj, HistoryBuffer):
        return obj._log_history.nbytes + obj._count_history.nbytes + 512
    if isinstance(obj, torch.Tensor):
        return 256 + 16 * obj.dim()
    extra = _WALK if isinstance(obj, (dict, list, set, tuple)) else 0
    return sys.getsizeof(obj) + extra


def _charging(handler):
    """``handler``, then the size of the new object it left on the stack charged."""

    def run(self):
        handler(self)
        self._charge(_size(self.stack[-1]))

    return run


def _charging_mark(handler):

    def run(self):
        handler(self)
        self._charge(64)  # the new stack list

    return run


for _op in _MAKE:
    Unpickler.dispatch[_op] = _charging(Unpickler.dispatch[_op])
Unpickler.dispatch[pickle.MARK[0]] = _charging_mark(Unpickler.dispatch[pickle.MARK[0]])

# A legacy file's pickles before its main one: magic number, protocol version, system info.
_LEGACY_HEADERS = {
    1:
    lambda v: type(v) is int,
    2:
    lambda v: type(v) is int,
    3:
    lambda v: type(v) is dict and all(
        type(k) is str and (type(x) in (int, bool) or type(x) is dict and all(
            type(n) is str and type(y) is int for n, y in x.items())) for k, x in v.items()),
}


def pickle_module(size: int, record_sizes=None, pickle_bytes=None):
    """What ``torch.load(pickle_module=...)`` needs of a module, for one file of ``size`` bytes:
    ``Unpickler`` (a subclass of :class:`Unpickler`) and ``load``. ``record_sizes``: a zip
    checkpoint's ``{key: bytes}`` of its ``data/KEY`` records (None: a legacy checkpoint, whose
    storage keys, the pickle after the main one, must be exactly the storages it declared);
    ``pickle_bytes``: the size of its pickle (default: the whole file)."""

    class FileUnpickler(Unpickler):
        pass

    FileUnpickler.record_sizes = record_sizes
    FileUnpickler.state = state = dict(
        size=size,
        budget=size,
        storages={},
        loads=0,
        allowance=_BASE_ALLOWANCE + _PER_PICKLE_BYTE * (pickle_bytes or size))

    class Module:
        Unpickler = FileUnpickler

        @staticmethod
        def load(file, **kwargs):
            """The legacy format's small pickles: magic number, protocol, system info, and
            after the main pickle the storage keys (every declared storage, each once); each
            checked before torch sees it (torch shows an unexpected one in its message)."""
            result = FileUnpickler(file, **kwargs).load()
            state['loads'] += 1
            expected = _LEGACY_HEADERS.get(state['loads'])
            if expected is not None and not expected(result):
                raise Damaged(f'a legacy checkpoint whose header pickle {state["loads"]} is '
                              f'{shown(result)}')
            if state['loads'] == 4 and (type(result) is not list or
                                        not all(type(k) is str
                                                for k in result) or len(result) != len(set(result))
                                        or set(result) != set(state['storages'])):
                raise Damaged('a legacy checkpoint whose storage keys do not match the '
                              'storages its pickle declares')
            return result

    return Module
