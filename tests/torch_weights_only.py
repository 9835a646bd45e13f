"""torch's own ``torch.load(weights_only=True)`` of each of a list of files, for comparison with
pvt_mm's reader. Hostile files can make torch's own load allocate whatever they ask, or spin in C
code (hashing a tuple that shares itself 64 times over) where no Python signal reaches it, so the
loads run in a child process whose address space may grow by 1.5 GiB once torch is imported, and
a file without a result in 10 seconds ends the child (recorded as refused: it never loaded), which
then starts again after it.

    python torch_weights_only.py PATH...   (the child: one JSON line [path, result] per file)
"""
import json
import resource
import selectors
import subprocess
import sys

GROWTH_GIB = 1.5
SECONDS_PER_FILE = 10


def torch_own_results(paths, cwd):
    """``{path: 'loaded' | 'refused: <why>'}``."""
    results, todo = {}, list(paths)
    while todo:
        child = subprocess.Popen([sys.executable, __file__, *todo],
                                 cwd=cwd,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL,
                                 text=True)
        selector = selectors.DefaultSelector()
        selector.register(child.stdout, selectors.EVENT_READ)
        while todo:
            if not selector.select(timeout=SECONDS_PER_FILE):
                results[todo.pop(0)] = f'refused: no result in {SECONDS_PER_FILE} s'
                break
            line = child.stdout.readline()
            if not line:  # the child died on this file (a crash of torch's own load)
                results[todo.pop(0)] = f'refused: the process ended ({child.wait()})'
                break
            path, result = json.loads(line)
            results[path] = result
            todo.remove(path)
        child.kill()
        child.wait()
        selector.close()
    return results


def main():
    import torch
    with open('/proc/self/statm') as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    cap = used + int(GROWTH_GIB * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    for path in sys.argv[1:]:
        try:
            torch.load(path, weights_only=True, map_location='cpu')
            result = 'loaded'
        except BaseException as err:  # noqa: B902  (MemoryError, RecursionError, ...: refused)
            result = f'refused: {type(err).__name__}: {str(err)[:200]}'
        print(json.dumps([path, result]), flush=True)


if __name__ == '__main__':
    main()
