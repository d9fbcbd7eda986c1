"""Process-wide settings, and who may change them.

Two speed-ups of a CPU run are settings of the whole process, not of the run: glibc's
heap (`seqkit._train.heap`) and subnormal flushing, which torch's intra-op worker threads
keep once a run has given it to them (`seqkit._train.denormals`; torch has no way to take
it back from them). seqkit applies them only where it owns the process: while a `seqkit`
command runs. That is its own process, or the caller's when a program invokes the command
group in-process (click's CliRunner, an embedding program): invoking the command asks for
what the command does. (Garbage collection is another matter: `_cli.process` tunes it only
in a process that ends with the command.) Worker processes a comparison starts from the
command inherit OWNER_ENV; Ray workers on a cluster started apart may not, which is why
a comparison and a suite decide `flush_denormals` once, in the calling process, and keep
it in their spec. A library call, such as `seqkit.run` in a notebook, leaves the process
as it found it unless the caller asks (`flush_denormals=True`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

OWNER_ENV = "SEQKIT_OWNS_PROCESS"
"""Set to 1 while the `seqkit` command runs (inherited by the workers it starts)."""


def owns_process() -> bool:
    """Whether seqkit owns this process now (the command line, or a worker it started)."""
    return os.environ.get(OWNER_ENV) == "1"


@contextmanager
def owned() -> Iterator[None]:
    """Within the block the process is seqkit's; afterwards it is as it was."""
    before = os.environ.get(OWNER_ENV)
    os.environ[OWNER_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(OWNER_ENV, None)
        else:
            os.environ[OWNER_ENV] = before
