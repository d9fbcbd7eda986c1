"""Data from Python without writing a plugin: `seqkit.run(cell="lstm",
data=seqkit.from_arrays(X, y))`, `from_text(path)`, `from_csv(path)`.

Each names the registered data-backed task that reads such data (a task plugin says so
with `register(..., reads="plain text" | "csv" | "npz")`; the built-ins are `text`,
`series` and `arrays`) and its options, so a run on them is recorded, resumed and
compared like any other. Arrays held in
memory are first written to a `.npz` file in seqkit's cache, named by their content
hash: the run records that file's identity, and `--resume` finds the same data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqkit._core import files
from seqkit._core.cache import cache_dir
from seqkit._core.errors import ConfigError
from seqkit._plugins.registry import Registry, get_registry

SPLITS = ("", "_val", "_test")
ARRAY_NAMES = tuple(f"{kind}{split}" for split in SPLITS for kind in ("X", "y", "lengths"))
PLAIN_TEXT, CSV, NPZ = "plain text", "csv", "npz"
"""The data formats `from_text`, `from_csv` and `from_arrays` hand to a task (`reads=`)."""


@dataclass(frozen=True)
class DataSource:
    """A data-backed task and its options, for `seqkit.run(data=...)`."""

    task: str
    options: dict[str, Any] = field(default_factory=dict)

    def settings(self, given: dict[str, Any]) -> dict[str, Any]:
        """Run settings `given` with this task and its options (options the caller gave
        in `task_options` win)."""
        if given.get("task") not in (None, self.task):
            raise ConfigError(f"give data= or task=, not both (data= is task '{self.task}')")
        options = {**self.options, **(given.get("task_options") or {})}
        return {**given, "task": self.task, "task_options": options}


def task_reading(
    data_format: str, registry: Registry | None = None, task: str | None = None
) -> str:
    """`task` if given, else the one registered task that reads `data_format`
    (`register(..., reads=...)`)."""
    if task is not None:
        return task
    entries = (registry or get_registry()).entries("task")
    names = [e.name for e in entries if e.extra.get("reads") == data_format]
    if not names:
        raise ConfigError(
            f"no installed task reads {data_format} data (a task plugin declares one with "
            f"register(..., reads={data_format!r}))"
        )
    if len(names) > 1:
        raise ConfigError(
            f"tasks {', '.join(names)} all read {data_format} data; choose one with task=NAME"
        )
    return names[0]


def from_text(
    path: str | Path, task: str | None = None, registry: Registry | None = None, **options: Any
) -> DataSource:
    """A text file as a character-level language model (the built-in `text` task's
    options: `level`, `seq_len`, `val_fraction`, `test_fraction`); `task` names another
    task that reads text."""
    return DataSource(task_reading(PLAIN_TEXT, registry, task), {"path": str(path), **options})


def from_csv(
    path: str | Path, task: str | None = None, registry: Registry | None = None, **options: Any
) -> DataSource:
    """A CSV of measurements as forecasting (the built-in `series` task's options:
    `input_len`, `horizon`, `stride`, `inputs`, `targets`, ...); `task` names another
    task that reads CSV files."""
    return DataSource(task_reading(CSV, registry, task), {"path": str(path), **options})


def from_arrays(
    X: Any,
    y: Any,
    kind: str = "classification",
    task: str | None = None,
    registry: Registry | None = None,
    **arrays_and_options: Any,
) -> DataSource:
    """Arrays `X (N, T, D)` and `y` (see the built-in `arrays` task) as a run's data; `X_val`,
    `y_val`, `X_test`, `y_test` may be given too, and the task's options (`split_seed`,
    `val_fraction`, `test_fraction`). numpy arrays, torch tensors or nested lists. `task`
    names another task that reads `.npz` files.

    Sequences of different lengths: `X` a list of `(T_i, D)` arrays (then a per-step `y`
    a list of `(T_i, ...)` arrays), or `X` padded to the longest with `lengths (N,)`."""
    given = {"X": X, "y": y, **{k: v for k, v in arrays_and_options.items() if k in ARRAY_NAMES}}
    for split in SPLITS:  # lists of sequences of different lengths: padded, with lengths
        if _ragged(given.get(f"X{split}")):
            given[f"X{split}"], lengths = _padded(given[f"X{split}"])
            given.setdefault(f"lengths{split}", lengths)
            if _ragged(given.get(f"y{split}")):
                given[f"y{split}"], _ = _padded(given[f"y{split}"])
    options = {k: v for k, v in arrays_and_options.items() if k not in ARRAY_NAMES}
    arrays = {name: _array(name, value) for name, value in given.items()}
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        digest.update(a.tobytes())
    path = cache_dir() / "data" / f"{digest.hexdigest()[:32]}.npz"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_atomic(path, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]
    name = task_reading(NPZ, registry, task)
    return DataSource(name, {"path": str(path), "kind": kind, **options})


def _ragged(value: Any) -> bool:
    """A list of sequences whose lengths differ."""
    if not isinstance(value, list | tuple) or not value:
        return False
    try:
        return len({len(s) for s in value}) > 1
    except TypeError:
        return False


def _padded(sequences: Any) -> tuple[np.ndarray, np.ndarray]:
    """`sequences` padded with zeros to the longest, `(N, T_max, ...)`, and their lengths."""
    arrays = [_array("a sequence", s) for s in sequences]
    if len({a.shape[1:] for a in arrays}) > 1:
        raise ConfigError("every sequence must have the same number of features per step")
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int64)
    out = np.zeros((len(arrays), int(lengths.max()), *arrays[0].shape[1:]), arrays[0].dtype)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
    return out, lengths


def _array(name: str, value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor (bfloat16 has no numpy dtype)
        value = value.detach().cpu()
        value = (value.float() if str(value.dtype) == "torch.bfloat16" else value).numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be an array of numbers ({exc})") from None
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise ConfigError(
            f"{name} must be an array of numbers of one shape (got {array.dtype}); give "
            "sequences of different lengths as a list of arrays, or padded with lengths="
        )
    return array
