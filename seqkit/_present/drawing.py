"""A run directory's pictures, drawn by a second process that imports matplotlib while
the run trains.

Importing matplotlib takes about a second, more than drawing a run's plots. A CPU run
of a small model trains on one thread, so `seqkit run` starts this process first: it
imports matplotlib on an idle core, waits, and draws when the run has ended and its
summary is printed. The calls it makes are plain functions named `module:function`
with picklable arguments; if the process cannot start or fails, they run here instead,
so a picture is never lost to it.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Call = tuple[str, tuple[Any, ...]]
"""`("seqkit._present.report:write_run_report", (run_dir,))`: a function of `_present` by
its dotted name, and its arguments."""


def call(calls: Sequence[Call]) -> None:
    """Run each call in this process."""
    for name, args in calls:
        module, _, function = name.partition(":")
        getattr(importlib.import_module(module), function)(*args)


COMMAND = [sys.executable, "-c", "from seqkit._present.drawing import serve; serve()"]


class Drawer:
    """The process that draws: `submit(calls)` hands it the calls without waiting,
    `wait()` returns when they are drawn."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.payload: Path | None = None
        self.process: subprocess.Popen[bytes] | None
        try:
            self.process = subprocess.Popen(
                COMMAND,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,  # a failure is drawn again here, and seen
            )
        except OSError:
            self.process = None

    def submit(self, calls: Sequence[Call]) -> None:
        """Start drawing `calls` in the process (through a file: a pipe could fill
        while the process is still importing)."""
        self.calls = list(calls)
        if self.process is None or self.process.stdin is None:
            return
        try:
            fd, name = tempfile.mkstemp(prefix="seqkit-draw-", suffix=".pickle")
            with os.fdopen(fd, "wb") as f:
                pickle.dump(self.calls, f)
            self.payload = Path(name)
            self.process.stdin.write(name.encode() + b"\n")
            self.process.stdin.close()
        except (OSError, pickle.PicklingError):
            self.close()

    def wait(self) -> None:
        """Return when every call is drawn: by the process, or here if it failed."""
        process, self.process = self.process, None
        drawn = False
        if process is not None:
            try:
                drawn = process.wait(timeout=600) == 0
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        if self.payload is not None:
            self.payload.unlink(missing_ok=True)
        if not drawn:
            call(self.calls)  # its error, if any, is the one a user should see

    def close(self) -> None:
        """Stop the process without drawing (the run failed or was interrupted)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        if self.payload is not None:
            self.payload.unlink(missing_ok=True)

    def __enter__(self) -> Drawer:
        return self

    def __exit__(self, *exc: object) -> None:
        """What was submitted is drawn even when the run then fails (a non-finite loss
        keeps its plots); otherwise the process is stopped."""
        if self.process is not None and self.calls:
            self.wait()
        else:
            self.close()


def serve() -> None:
    """The drawing process: import matplotlib now, then run the calls read from stdin."""
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401  (what plots draw with: the object API)

    import seqkit._present.plots as plots
    import seqkit._present.report  # noqa: F401

    # One throwaway plot while the run trains: fonts, the renderer and the log axis's
    # machinery are loaded once, so the run's own plots only draw.
    epochs = [{"epoch": e, "step": e, "train_loss": 1.0 / e, "val_loss": 1.0 / e} for e in (1, 2)]
    plots.plot_losses(io.BytesIO(), epochs, 1.0, "warm-up", {}, [1e-3, 1e-4])

    name = sys.stdin.readline().strip()
    if not name:  # the run ended without anything to draw
        return
    with open(name, "rb") as f:
        call(pickle.load(f))
    # Every file is written and closed: leave without tearing matplotlib down (a tenth
    # of a second the run's command would wait for).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
