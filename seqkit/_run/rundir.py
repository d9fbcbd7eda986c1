"""The run directory: resolved configuration, per-epoch metrics, summary, model, plot."""

from __future__ import annotations

import json
import os
import pickle
import signal
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError
from seqkit._plugins.interfaces import Callback, TrainState

CONFIG, METRICS, SUMMARY, MODEL, PLOT = (
    "config.json",
    "metrics.jsonl",
    "summary.json",
    "model.pt",
    "loss.png",
)
CHECKPOINT = "checkpoint.pt"


def read_run_config(run_dir: Path, where: str | None = None) -> RunConfig:
    """The configuration a run recorded in `run_dir/config.json` (for resume, load,
    --config); `where` names the directory in errors (default: its path)."""
    where = where or str(run_dir)
    path = run_dir / CONFIG
    if not path.is_file():
        raise ConfigError(f"{where}: not a run directory (no {CONFIG})")
    return RunConfig.from_file(path, f"{where}: {CONFIG}")


def check_out_dir(path: Path, overwrite: bool) -> None:
    """Refuse a directory that holds something, unless `overwrite`, and one that cannot be
    created or written; nothing is created."""
    try:
        if path.exists() and not path.is_dir():
            raise ConfigError(f"--out {path}: exists and is not a directory")
        if path.is_dir() and any(path.iterdir()) and not overwrite:
            what = "another run" if (path / CONFIG).exists() else "files"
            raise ConfigError(
                f"--out {path}: the directory holds {what}; "
                "choose another --out or pass --overwrite"
            )
        parent = next((p for p in [path, *path.parents] if p.exists()), Path("."))
    except OSError as exc:  # a directory on the way that may not be read
        raise ConfigError(f"--out {path}: {exc.strerror or exc}: {exc.filename}") from None
    if not parent.is_dir():
        raise ConfigError(f"--out {path}: cannot create it, {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {path}: no permission to write in {parent}")


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a temporary file beside it, then rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")
    os.replace(tmp, path)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends, then act as they would have. torch's
    file writer turns an exception raised inside a write (Ctrl-C's KeyboardInterrupt)
    into a RuntimeError about its position, which would read as a failed run, not a
    stopped one. Only the main thread handles signals; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    wanted = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, _: caught.append(signum)) for s in wanted}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])


def save_tensors(path: Path, payload: Any) -> None:
    """torch.save atomically: temporary file, fsync, rename. A process killed at any
    moment leaves either the previous complete file or the new one; Ctrl-C or SIGTERM
    while it writes takes effect once the file is in place."""
    import torch

    with signals_deferred():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(payload, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def save_model(path: Path, model: Any) -> None:
    save_tensors(path, model.state_dict())


def load_tensors(path: Path, map_location: Any = "cpu") -> Any:
    """torch.load with `weights_only=True`: a file carrying pickled code is refused,
    never executed. Every failure is a ConfigError naming the file."""
    import torch

    try:
        with warnings.catch_warnings():  # a foreign pickle protocol is refused below anyway
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        # Garbage and pickled code fail alike here; either way nothing from it runs.
        raise ConfigError(
            f"{path} was refused: it is not a plain tensor file (seqkit loads with "
            "weights_only=True and never runs code from a file)"
        ) from None
    except Exception as exc:  # on a damaged file torch raises many kinds (IndexError, ...)
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else type(exc).__name__
        raise ConfigError(f"{path} is corrupt or truncated ({reason})") from None


class MetricsLog(Callback):
    """Appends each epoch's record to `metrics.jsonl` as it ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
