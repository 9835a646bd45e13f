"""The two errors of pvt_mm's file handling, each naming the file and the problem, and how their
messages show what a file holds."""
import reprlib


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; the message names the file and says what is wrong."""


class WriteError(OSError):
    """A file (a checkpoint, a log) that could not be written; the message names it."""


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxtuple = 2, 40, 40, 4


def named(obj) -> str:
    """A class's or function's name as a message shows it, else :func:`shown`."""
    name = getattr(obj, '__name__', None)
    return shown(name)[1:-1] if isinstance(name, str) else shown(obj)


def shown(value) -> str:
    """``value`` as a message shows it: short, whatever its size or depth, one line of printable
    characters (a file's strings may hold terminal escapes)."""
    return printable(_SHOWN.repr(value), 120)


def printable(text: str, limit: int = 200) -> str:
    """``text`` (a server's or library's words, which may hold a file's) cut to ``limit``
    characters, its unprintable ones escaped."""
    text = ''.join(c if c.isprintable() else f'\\x{ord(c):02x}' for c in str(text))
    return text if len(text) <= limit else text[:limit - 3] + '...'
