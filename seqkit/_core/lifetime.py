"""A process that ends with the one that started it.

seqkit starts processes of its own (a tuning study's runs, each a `seqkit run`). When
the starting process dies, however it dies (SIGKILL included), its children are handed
to another parent; each child started with PARENT_ENV naming its parent watches for
that and ends at once, instead of training on as an orphan that holds the cores and
writes into the study's directory."""

from __future__ import annotations

import os
import threading
import time

PARENT_ENV = "SEQKIT_PARENT_PID"
"""Set in a child's environment to the pid of the process it must end with."""


def end_with_parent(every: float = 0.25) -> None:
    """If PARENT_ENV names this process's parent, end this process (at once, `os._exit`)
    as soon as that parent has died. Files are written atomically, so a run ended so is
    left as a killed one is: resumable from its checkpoint."""
    parent = os.environ.get(PARENT_ENV, "")
    if not parent.isdigit() or int(parent) != os.getppid():
        return  # not started so, or started by another process that inherited the variable

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="seqkit-end-with-parent", daemon=True).start()
