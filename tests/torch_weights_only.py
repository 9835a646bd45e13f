"""Load files with torch's own ``torch.load(weights_only=True)``, in a process of its own whose
address space may grow by at most GIB once torch is imported (torch's own load admits calls that
allocate whatever a file asks), giving each file 5 seconds (torch 2.1 extracts a tar checkpoint's
FIFO and waits on it), and print one JSON line per file: ``[path, "loaded" | "refused: <error>"]``.

    python torch_weights_only.py GIB PATH...
"""
import json
import resource
import signal
import sys

import torch


class Hung(Exception):
    pass


def _hung(signum, frame):
    raise Hung('no result in 5 seconds')


def main():
    with open('/proc/self/statm') as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    cap = used + int(float(sys.argv[1]) * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    signal.signal(signal.SIGALRM, _hung)
    for path in sys.argv[2:]:
        signal.alarm(5)
        try:
            torch.load(path, weights_only=True, map_location='cpu')
            result = 'loaded'
        except BaseException as err:  # noqa: B902  (MemoryError, RecursionError, ...: refused)
            result = f'refused: {type(err).__name__}: {str(err)[:200]}'
        signal.alarm(0)
        print(json.dumps([path, result]), flush=True)


if __name__ == '__main__':
    main()
