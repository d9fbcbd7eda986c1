"""glibc's malloc during a CPU run: keep the memory one training step frees for the next.

A long sequence's training step allocates and frees buffers of tens of MB (the input's
time-major copy, the fused LSTM's workspace, every step's states and their gradients).
glibc serves any block over its mmap threshold (at most 32 MiB) with a fresh mmap and
unmaps it when it is freed, so the next step faults every page in again and the kernel
zeroes each one: at the notebook's section 4 (N=50, T=20000, H=5) that is about 200,000
page faults a step and nearly half of an LSTM epoch (benchmarks/long_sequences.py). For
a run where seqkit owns the process (the `seqkit` command, `seqkit._train.host`; a
library call leaves malloc as it is), seqkit takes every block from the heap
(M_MMAP_MAX=0) and keeps freed memory there (a high M_TRIM_THRESHOLD), the trade
PyTorch's CUDA caching allocator makes; after
it, glibc's defaults are restored and malloc_trim gives back the free memory it can (free
memory at the top of a heap that could not grow in one piece stays, for later
allocations to reuse). The numbers a run computes do not change, only where its memory
comes from.

Nothing is changed off glibc, where the environment already chose an allocator or malloc
settings (LD_PRELOAD of one, MALLOC_*_ variables, glibc.malloc tunables), or with
SEQKIT_MALLOC=system.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

MALLOC_ENV = "SEQKIT_MALLOC"
"""`system` leaves malloc as the process has it."""
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
"""mallopt's parameter numbers (malloc.h)."""
DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_MAX = 128 * 1024, 65536
"""glibc's own values, restored after a run."""
KEEP_FREED = 2**31 - 1
"""The trim threshold during a run (mallopt takes an int): free memory at the heap's top
is kept up to this size."""
CHOSEN_ELSEWHERE = (
    "MALLOC_MMAP_MAX_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
)

_lock = threading.Lock()
_depth = 0


def glibc() -> ctypes.CDLL | None:
    """The process's glibc, when malloc is glibc's and seqkit may set it; else None."""
    if sys.platform != "linux" or os.environ.get(MALLOC_ENV, "").strip().lower() == "system":
        return None
    if any(os.environ.get(name) for name in CHOSEN_ELSEWHERE):
        return None
    if "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        return None
    if "alloc" in os.environ.get("LD_PRELOAD", ""):  # jemalloc, tcmalloc, mimalloc...
        return None
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return None
        return ctypes.CDLL(None)  # the process's own symbols: mallopt is libc's
    except (ValueError, OSError, AttributeError):
        return None


@contextmanager
def keep_freed_memory() -> Iterator[None]:
    """Within the block, freed memory stays in the heap for the next allocation (see the
    module's docstring); nested blocks restore glibc's defaults when the outermost ends."""
    global _depth
    libc = glibc()
    if libc is None:
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(M_MMAP_MAX, 0)
            libc.mallopt(M_TRIM_THRESHOLD, KEEP_FREED)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
                libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(0)
