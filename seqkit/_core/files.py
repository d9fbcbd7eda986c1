"""Files seqkit writes and reads back: the run directory's file names, the one atomic
writer, a JSON reader whose every failure names the file, tensor files (torch's, and
safetensors for a model's weights), and signals held back while a file is written.

A file is written to a temporary name beside it, flushed to disk and renamed into place:
a process killed at any moment leaves either the previous whole file or the new one. It
gets the mode a plain `open()` would give it (0666 less the umask), not mkstemp's 0600,
so a shared run directory stays readable. torch is imported only by the tensor
functions."""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import stat
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from seqkit._core.errors import ConfigError, WriteFailed

# The files of a run directory, named in one place: the runner, checkpoints, loading and
# the report all name them from here.
CONFIG = "config.json"
METRICS = "metrics.jsonl"
SUMMARY = "summary.json"
MODEL = "model.safetensors"
LEGACY_MODEL = "model.pt"
"""Where runs of earlier versions kept their weights (torch's format); they still load."""
CHECKPOINT = "checkpoint.pt"
GRADIENTS = "gradients.json"
REPORT = "report.html"
PLOT = "loss.png"
FLOW_PLOT = "gradient_flow.png"
NORM_PLOT = "grad_norm.png"
RUN_FILES: tuple[str, ...] = (CONFIG, METRICS, SUMMARY, MODEL, LEGACY_MODEL, CHECKPOINT, GRADIENTS)
ONNX = "model.onnx"
TORCHSCRIPT = "model.torchscript.pt"
MODEL_CARD = "MODEL.md"
"""What `seqkit export` writes into a run directory by default."""
RUN_FILES += (REPORT, PLOT, FLOW_PLOT, NORM_PLOT, ONNX, TORCHSCRIPT, MODEL_CARD)
"""Every file a run writes: `--overwrite` removes them all before the new run writes."""
# ... and of a comparison's directory
RESULTS = "results.json"
RESULTS_CSV = "results.csv"
COMPARISON_FILES = (RESULTS, RESULTS_CSV, REPORT)
"""With the `loss-N.png` plots: what `--overwrite` removes from a comparison's directory."""


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
        for signum in dict.fromkeys(caught):  # each one that came, in order, once
            signal.raise_signal(signum)


def write_atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write `path` through `write(file)`: a temporary file beside it, fsync, rename.
    Ctrl-C or SIGTERM while it writes takes effect once the file is in place. A write
    that fails (no space left, a read-only file system, an I/O error) is a WriteFailed
    naming `path`, and leaves its previous version in place."""
    with signals_deferred():
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            if hasattr(os, "fchmod"):  # POSIX; elsewhere the file keeps what it got
                os.fchmod(fd, 0o666 & ~_umask())
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise write_failed(path, exc) from None
            raise


def write_failed(path: Path, exc: OSError) -> WriteFailed:
    """The error for a file that could not be written."""
    kept = "its previous version is kept" if path.exists() else "nothing was written"
    return WriteFailed(f"cannot write {path}: {exc.strerror or exc} ({kept})")


def _umask() -> int:
    """The process's umask, read from /proc/self/status (Linux); elsewhere 0o022, the
    usual one. Never read by setting it: even for an instant, that would change it for
    every thread of the caller's process."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def write_bytes(path: Path, data: bytes) -> None:
    """`data` in `path`, atomically."""
    write_atomic(path, lambda f: f.write(data))


def write_text(path: Path, text: str) -> None:
    """`text` in `path` as UTF-8, atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: Any, indent: int = 2) -> None:
    """`data` as JSON in `path`, atomically."""
    write_text(path, json.dumps(data, indent=indent, default=str) + "\n")


def read_json(path: Path, missing: str | None = None) -> Any:
    """The JSON in `path`. A missing file is a ConfigError saying `missing` (default: the
    path and that it does not exist); an unreadable or malformed one names the file."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(missing or f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None


@contextmanager
def locked(directory: Path, where: str) -> Iterator[None]:
    """Hold `directory` (created if missing) as its one writer: an exclusive `flock` on the
    directory itself, released when the block ends or the process dies (so a killed run
    leaves no stale lock, and no lock file is left behind). A second writer gets a
    ConfigError starting with `where`. Where `flock` does not exist, nothing is locked."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks on directories
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"{where}: another seqkit process is writing in {directory}; wait for it to "
                "finish, or choose another directory"
            ) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def regular_file(path: Path, where: str, what: str = "file") -> os.stat_result:
    """`os.stat(path)` of a regular file; a missing path, a directory, a FIFO (which would
    block a reader), a socket or a device is a ConfigError starting with `where`."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ConfigError(f"{where}: {exc.strerror or exc}") from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{where}: is a directory; give a {what}")
    if not stat.S_ISREG(mode):
        kind = (
            "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        )
        raise ConfigError(f"{where}: is {kind}, not a regular file; give a {what}")
    return info


def read_input_text(path: Path, limit: int, where: str, what: str = "file") -> str:
    """The UTF-8 text of the regular file at `path`, of at most `limit` bytes counted as
    they are read (a size the file reports is not trusted: /dev/zero says 0). A
    directory, a FIFO (which would block) or a device is refused by name before it is
    read. Every failure is a ConfigError starting with `where`."""
    size = regular_file(path, where, what).st_size
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1) if size <= limit else b""
    except OSError as exc:
        raise ConfigError(f"{where}: {exc.strerror or exc}") from None
    if size > limit or len(data) > limit:
        said = f"{size:,} bytes is" if size > limit else f"more than {limit:,} bytes is"
        raise ConfigError(
            f"{where}: {said} too large for a {what} (the limit is {limit:,} bytes, "
            f"{limit / 2**20:g} MiB)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{where}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from None


def save_tensors(path: Path, payload: Any) -> None:
    """torch.save, atomically (see `write_atomic`). Serialised in memory first: torch's
    writer turns a failed write (a full disk) into a RuntimeError about its position."""
    import torch

    with signals_deferred():  # Ctrl-C while it pickles: once the file is in place
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        write_atomic(path, lambda f: f.write(buffer.getbuffer()))


def save_weights(path: Path, tensors: dict[str, Any], metadata: dict[str, str]) -> None:
    """Named tensors and text `metadata` as a safetensors file, atomically. Each tensor is
    copied to the CPU on its own (the format stores no shared or strided memory)."""
    from safetensors.torch import save

    plain = {name: t.detach().to("cpu", copy=True).contiguous() for name, t in tensors.items()}
    write_bytes(path, save(plain, metadata=metadata))


def load_weights(path: Path, device: Any = "cpu") -> tuple[dict[str, Any], dict[str, str]]:
    """The tensors and metadata of a safetensors file. The format holds no code; a
    damaged file is a ConfigError naming it."""
    from safetensors import safe_open

    regular_file(path, str(path), "safetensors file")
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            return {name: f.get_tensor(name) for name in f.keys()}, dict(f.metadata() or {})  # noqa: SIM118
    except Exception as exc:  # SafetensorError, OSError, ...: the file is not whole
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else type(exc).__name__
        raise ConfigError(f"{path} is corrupt or truncated ({reason})") from None


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
