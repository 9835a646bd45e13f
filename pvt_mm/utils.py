"""Small things every floor of pvt_mm may use: the config walker and the errors that are not
about files (those are :mod:`pvt_mm.fileio`'s)."""
from typing import Iterator


class MissingDependencyError(ImportError):
    """An optional dependency a config needs is not installed; the message says what to
    install (pvt_mm's tools end with it in one line)."""


class UnsupportedError(RuntimeError):
    """What a config asks that this torch, Python or machine cannot do; the message says what
    and why (pvt_mm's tools end with it in one line)."""


class AnnotationError(ValueError):
    """Dataset annotations that cannot be used; the message names the file and the segment or
    image (pvt_mm's tools end with it in one line)."""


def iter_dicts(node) -> Iterator[dict]:
    """Every dict of a nested config (dicts, lists, tuples), parents before their children; a
    caller may change a dict's keys when it is yielded."""
    if isinstance(node, dict):
        yield node
        for value in list(node.values()):
            yield from iter_dicts(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from iter_dicts(value)
