"""`python -m bench.peak MODULE ARGS...`: run MODULE as `python -m MODULE ARGS...` would, then
print the process's peak RSS (VmHWM, kB) to stderr as `peak-rss-kb N` when it exits.

Read from /proc/self/status, the memory of this program alone: the kernel's `ru_maxrss` of a
child also counts the pages of the (large) benchmark process it was forked from.
"""

from __future__ import annotations

import atexit
import runpy
import sys
from pathlib import Path


def _report() -> None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            print(f"peak-rss-kb {line.split()[1]}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    atexit.register(_report)
    sys.argv = sys.argv[1:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
