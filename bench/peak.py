"""`python -m bench.peak MODULE ARGS...`: run MODULE as `python -m MODULE ARGS...` would, then
print its peak RSS (kB) to stderr as `peak-rss-kb N` when it exits: VmHWM of this process,
read from /proc/self/status (the kernel's `ru_maxrss` of a child of the benchmark would also
count the pages of the large benchmark process it was forked from), plus the peak of the
children it forked itself.
"""

from __future__ import annotations

import atexit
import resource
import runpy
import sys
from pathlib import Path


def _report() -> None:
    """The program's peak plus the largest peak of the child processes it waited for (a
    store import's validation worker): an upper bound, pages the two share count twice."""
    own = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            own = int(line.split()[1])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kB on Linux
    print(f"peak-rss-kb {own + children}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    atexit.register(_report)
    sys.argv = sys.argv[1:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
