"""Garbage collection for a `seqkit` process that ends with its command.

torch's import makes a few hundred thousand objects that live until the process ends,
and every full collection walks them all: a third of a second before training starts
(more during it: torch's optimizer imports torch._dynamo) and most of a second in the
interpreter's last collection at exit, after the run's summary. `main()`, which owns its
process, marks it; the command group run in-process (click's CliRunner, an embedding
program) leaves collection alone.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

owned = False
"""Whether this process exits when the command ends (set by `seqkit._cli.main.main`)."""


@contextmanager
def collected_after() -> Iterator[None]:
    """No collection while the block imports torch and the run's modules; then what they
    made is frozen, so that later collections skip it."""
    if not owned:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def leave_to_exit() -> None:
    """Before the process exits: freeze what is left, which the exit frees anyway, instead
    of collecting it first."""
    if owned:
        gc.freeze()
