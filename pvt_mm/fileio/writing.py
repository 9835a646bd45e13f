"""Writing files whole or not at all: :func:`atomic_write`, the ``'atomic_local'`` file backend
pvt_mm's tools give mmengine's CheckpointHook, and :func:`save_checkpoint` (PyTorch's format, or
safetensors where the name says so)."""
import io
import os
import os.path as osp
import secrets
import stat

from mmengine.fileio import LocalBackend, register_backend

from .errors import WriteError

SAFETENSORS_SUFFIX = '.safetensors'


def atomic_write(data: bytes, filepath) -> None:
    """Write ``data`` to a new temporary file next to ``filepath``, then rename it into place:
    the file is whole or absent, never half-written. The temporary file has an unpredictable
    name and is created exclusively (never through an existing file or link), and the rename
    replaces a link at ``filepath`` rather than writing through it. A file replaced keeps its
    permission bits (a 0600 checkpoint stays 0600). A failure names the file and leaves what was
    there before untouched."""
    filepath = str(filepath)
    folder, name = osp.split(osp.abspath(filepath))
    tmp = None
    try:
        os.makedirs(folder, exist_ok=True)
        try:
            before = os.stat(filepath, follow_symlinks=False)
            mode = stat.S_IMODE(before.st_mode) if stat.S_ISREG(before.st_mode) else None
        except FileNotFoundError:
            mode = None
        candidate = osp.join(folder, f'.{name}.tmp-{secrets.token_hex(8)}')
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0),
                     0o600 if mode is not None else 0o666)
        tmp = candidate  # ours to remove: created by this call, never a file that was there
        with open(fd, 'wb') as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except OSError as err:
        if tmp is not None and osp.lexists(tmp):
            os.remove(tmp)
        raise WriteError(
            err.errno, f'{filepath}: could not be written ({err.strerror}); the '
            'file under that name, if any, is unchanged') from None


def save_checkpoint(checkpoint: dict, filepath) -> None:
    """Write a checkpoint atomically: a name ending in ``.safetensors`` gets safetensors (the
    tensors of ``checkpoint['state_dict']``, or of ``checkpoint`` itself; safetensors holds
    nothing else), any other name ``torch.save``'s format."""
    import torch
    if str(filepath).endswith(SAFETENSORS_SUFFIX):
        from safetensors.torch import save
        tensors = checkpoint.get('state_dict', checkpoint)
        if not all(isinstance(v, torch.Tensor) for v in tensors.values()):
            raise WriteError(
                0, f'{filepath}: safetensors holds tensors only, and this '
                'checkpoint holds other objects; use a .pth name')
        # Tensors that share memory (views of one storage) each get their own.
        data = save({
            k: v.detach().clone().contiguous()
            for k, v in tensors.items()
        },
                    metadata={'format': 'pt'})
    else:
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        data = buffer.getvalue()
    atomic_write(data, filepath)


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
