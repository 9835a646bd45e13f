"""The two errors of pvt_mm's file handling; each message names the file and the problem."""


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; the message names the file and says what is wrong."""


class WriteError(OSError):
    """A file (a checkpoint, a log) that could not be written; the message names it."""
