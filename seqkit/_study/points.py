"""A comparison's grid points as jobs an executor can send anywhere: each runs one
`seqkit.run`, scores the model on its held-out test set, and returns plain data. With
a comparison directory, each point keeps its run directory there (checkpoints
included), and its result beside it once finished; a resumed comparison skips finished
points and continues the others from their checkpoints."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqkit._core import files
from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError, NonFiniteError, SeqkitError, WorkerFailed
from seqkit._run.runner import resume, run
from seqkit._study.length_generalisation import Setting, evaluate_all

if TYPE_CHECKING:
    from seqkit._plugins.registry import Registry
    from seqkit._plugins.task import Task
    from seqkit._run.runner import RunResult

POINTS = "points"
"""The comparison directory's folder of run directories, one per grid point."""
RESULT = "point.json"
"""A finished point's result, in its run directory."""


@dataclass(frozen=True)
class Job:
    """One grid point to run: its configuration, where its run directory goes (none: a
    run in memory), whether it runs on one CPU thread (beside others), and the registry
    (only for a run in this process)."""

    config: RunConfig
    run_dir: Path | None = None
    one_thread: bool = False
    registry: Registry | None = None
    evaluations: tuple[Setting, ...] = ()
    """Other settings of the task to score the trained model on (length generalisation)."""

    def __getstate__(self) -> dict[str, Any]:  # a registry never travels to a worker
        return {**self.__dict__, "registry": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def point_dir(out_dir: Path, index: int, point: Any) -> Path:
    """`points/007-gru-seq_len=30-seed1`: the grid order, then what the point is."""
    label = re.sub(r"[^A-Za-z0-9._=+-]+", "_", point.label)[:60]
    return out_dir / POINTS / f"{index + 1:03d}-{point.cell}-{label}-seed{point.seed}"


def finished(run_dir: Path) -> dict[str, Any] | None:
    """The result a point kept when it finished, if it did."""
    with contextlib.suppress(OSError, ValueError):
        kept: dict[str, Any] = json.loads((run_dir / RESULT).read_text())
        return kept
    return None


def keep(run_dir: Path, result: Mapping[str, Any]) -> None:
    """Keep a finished point's result beside its run directory, which the worker that ran
    it wrote: where that directory is not here, the worker ran on a node that does not
    share this machine's storage, and nothing could be resumed (ConfigError)."""
    if not (run_dir / files.CONFIG).exists():
        raise ConfigError(
            "it ran on a node that does not share this machine's storage: give --out a "
            f"path every node reaches (NFS or a cluster file system); not here: {run_dir}"
        )
    files.write_json(run_dir / RESULT, result)


def run_job(job: Job) -> dict[str, Any]:
    """Run one point (module-level: executors send it to workers by reference)."""

    config = dataclasses.replace(job.config, threads=1) if job.one_thread else job.config
    start = time.perf_counter()
    result = None
    if job.run_dir is not None:
        result = _resumed(job.run_dir, job.registry)
    if result is None:
        result = run(config, out=job.run_dir, overwrite=True, quiet=True, registry=job.registry)
    out = point_result(result, time.perf_counter() - start)
    if job.evaluations:
        out["evaluations"] = evaluate_all(result, list(job.evaluations), job.registry)
    return out


def _resumed(run_dir: Path, registry: Registry | None) -> RunResult | None:
    """The point continued from its checkpoint; None where there is none to continue."""

    if not (run_dir / files.CHECKPOINT).exists():
        return None
    try:
        return resume(run_dir, registry=registry)
    except ConfigError:  # it finished before its result was kept: run it again, the same
        return None


def point_result(result: RunResult, wall: float) -> dict[str, Any]:
    """A finished run as plain data: its settings, validation and test numbers, curve."""
    task, config = result.task, result.config
    steps_to_solve = None
    for record in result.history.epochs:
        metrics = {k: v for k, v in record.items() if k.startswith("val_")}
        if task.solved(metrics):
            steps_to_solve = int(record["step"])
            break
    test = result.test
    as_val = {"val_" + k.removeprefix("test_"): v for k, v in test.items()}
    return {
        # the data's identity is a record, not a setting (the run's config.json keeps it)
        "settings": {k: v for k, v in config.as_dict().items() if k != "data"},
        "parameters": sum(p.numel() for p in result.model.parameters()),
        "hidden_size": config.hidden_size,
        "val_loss": result.metrics["val_loss"],
        "metrics": {k: v for k, v in result.metrics.items() if k.startswith("val_")},
        "test_loss": test["test_loss"],
        "test_metrics": test,
        "chance_loss": result.chance_loss,
        "solved": task.solved(result.metrics),
        "test_solved": task.solved(as_val),
        "steps_to_solve": steps_to_solve,
        "wall_s": wall,
        "curve": [r["val_loss"] for r in result.history.epochs],
        "steps_per_epoch": result.history.epochs[0]["step"] if result.history.epochs else 0,
        "references": task.reference_losses,
        "solved_rule": task.solved_rule,
        "headline_metric": f"val_{task.main_metric}",
        "ranges": value_ranges(task, [k[4:] for k in result.metrics if k.startswith("val_")]),
    }


def value_ranges(task: Task, names: list[str]) -> dict[str, list[float | None]]:
    """Where the loss and each metric lie (`Task.value_range`) as JSON keeps it: `[0, None]`."""
    ranges: dict[str, list[float | None]] = {}
    for name in dict.fromkeys(names):
        low, high = task.value_range(name)
        ranges[name] = [low if math.isfinite(low) else None, high if math.isfinite(high) else None]
    return ranges


def value_range(ranges: Mapping[str, Any], key: str) -> tuple[float, float]:
    """The range of `key` (`val_loss`, `test_accuracy`) in `value_ranges`' form; a name it
    does not hold (a result kept by an older seqkit) is unbounded."""
    low, high = ranges.get(key.split("_", 1)[1] if "_" in key else key, (None, None))
    return (-math.inf if low is None else low, math.inf if high is None else high)


def failure(
    failed: Mapping[str, BaseException], out_dir: Path | None, absolute: Path | None = None
) -> SeqkitError:
    """One error for the points that failed: what each said, and how to go on. Paths under
    `absolute` (the points' directory as the workers got it) are shown under `out_dir`,
    as the user gave it."""
    shown = (str(absolute), str(out_dir)) if absolute and out_dir else None
    said = "; ".join(f"{where}: {_said(exc, shown)}" for where, exc in failed.items())
    n = len(failed)
    message = f"{n} grid point{'s' if n > 1 else ''} failed ({said})"
    if out_dir is not None:
        message += (
            f"; the finished points are kept in {out_dir}: continue with "
            f"seqkit compare --resume {out_dir}"
        )
    if all(isinstance(e, NonFiniteError) for e in failed.values()):
        return NonFiniteError(message)
    if all(isinstance(e, SeqkitError) and not isinstance(e, WorkerFailed) for e in failed.values()):
        return ConfigError(message)
    return WorkerFailed(message)


def _said(exc: BaseException, shown: tuple[str, str] | None = None) -> str:
    text = " ".join(str(exc).split())
    if shown is not None:
        text = text.replace(*shown)
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__
