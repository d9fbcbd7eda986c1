"""Equal-effort comparisons: every cell tuned with the same space and the same number of
trials before it is compared (`seqkit compare --tune ...`).

Melis, Dyer & Blunsom (2018) found that with the same large search for every model a
plain LSTM beat newer architectures that had claimed to beat it: a new cell compared
against an untuned baseline proves nothing. Here each cell gets its own study
(`seqkit.tune`, kept in `OUT/tuning/CELL/`, so an interrupted comparison continues it),
on validation loss only; the comparison then trains each cell's best settings again
with seeds the studies did not use, and reports test."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError
from seqkit._plugins.registry import Registry
from seqkit._study.space import parse_space
from seqkit._study.tune import STUDY_DB, tune

TUNING = "tuning"
"""The comparison's folder of one study per cell."""
DEFAULT_RANGES = {
    "lr": "1e-4:3e-2:log",
    "hidden_size": "16:256:int",
    "weight_decay": "1e-6:1e-2:log",
    "batch_size": "16:512:int:log",
    "grad_clip": "0.1:10:log",
    "cell.dropout": "0:0.5",
}
"""The range a dimension named without one (`--tune lr,hidden_size`) is searched over."""
COUNTED = ("hidden_size", "cell.num_layers")
"""Dimensions that change a model's size: not tuned under parameter matching."""


def tuning_space(given: Sequence[str]) -> list[str]:
    """`--tune` values as dimensions: `NAME=SPEC` as it is, a bare name with its default
    range (DEFAULT_RANGES); a ConfigError for a bare name without one."""
    space = []
    for item in given:
        name = item.partition("=")[0].strip()
        if "=" in item:
            space.append(item)
        elif name in DEFAULT_RANGES:
            space.append(f"{name}={DEFAULT_RANGES[name]}")
        else:
            known = ", ".join(DEFAULT_RANGES)
            raise ConfigError(
                f"--tune {name}: give its range (--tune {name}=LOW:HIGH or =A,B); names "
                f"with a default range: {known}"
            )
    parse_space(space, "--tune")  # checked now: a bad range is refused before any run
    return space


def check_tuning(space: Sequence[str], matched: bool, axes: Mapping[str, Any], select: Any) -> None:
    if axes:
        raise ConfigError("--tune searches the settings itself: give --tune or axes, not both")
    if select is not None:
        raise ConfigError("--tune and --select both choose settings: give one of them")
    names = [d.partition("=")[0] for d in space]
    if matched and any(n in COUNTED for n in names):
        raise ConfigError(
            "--match-params fixes each cell's size: do not --tune hidden_size or "
            "cell.num_layers with it"
        )


def tune_cells(
    cells: Sequence[str],
    bases: Mapping[str, RunConfig],
    tuning: Mapping[str, Any],
    out_dir: Path | None,
    registry: Registry | None,
    on_trial: Callable[[str, dict[str, Any], int], None] | None = None,
    workers: tuple[str, Mapping[str, Any] | None, int] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each cell's best settings: a study of `tuning["trials"]` trials over
    `tuning["space"]`, `tuning["seeds"]` seeds per trial, from its base configuration.
    `workers` (executor, its options, jobs): each study's trials run there, `jobs` at a
    time; else one at a time in this process."""
    executor, executor_options, jobs = workers or (None, None, 1)
    best = {}
    with TemporaryDirectory(prefix="seqkit-tuning-") as scratch:
        root = out_dir / TUNING if out_dir is not None else Path(scratch)
        for cell in cells:
            result = tune(
                dataclasses.replace(bases[cell], cell=cell),
                space=tuning["space"],
                trials=tuning["trials"],
                seeds=tuning["seeds"],
                # a study begun in SQLite is continued there, one trial at a time
                jobs=1 if (root / cell / STUDY_DB).is_file() else jobs,
                executor=None if (root / cell / STUDY_DB).is_file() else executor,
                executor_options=executor_options,
                out=root / cell,
                registry=registry,
                on_trial=_for_cell(on_trial, cell),
            )
            if result.best is None:
                raise ConfigError(
                    f"--tune: no trial of cell '{cell}' finished (see {root / cell}); "
                    "widen the space or lower the learning rates"
                )
            best[cell] = dict(result.best["params"])
    return best


def _for_cell(
    on_trial: Callable[[str, dict[str, Any], int], None] | None, cell: str
) -> Callable[[dict[str, Any], int], None] | None:
    if on_trial is None:
        return None
    return lambda record, total: on_trial(cell, record, total)


def described(tuning: Mapping[str, Any], seeds: int) -> str:
    """How the rows were made, as the table says it."""
    return (
        f"each cell tuned with {tuning['trials']} trials of TPE on validation "
        f"({tuning['seeds']} seed(s) per trial; space: {' '.join(tuning['space'])}), best "
        f"retrained with {seeds} new seed(s), reported on test; mean over seeds"
    )
