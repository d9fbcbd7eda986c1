"""`seqkit.compare`: a grid of cells x settings x seeds, run and summarised with intervals.

Any run setting is an axis (`lr`, `hidden_size`, `epochs`, ...), and so is any plugin
option (`task.seq_len`, `cell.forget_bias`, `trainer.K`, `topology.K`). Each grid point
is an ordinary run (`seqkit.run`) with its own seed, sent to an executor: one after
another in this process, `jobs` worker processes with one CPU thread each (`process`),
or Ray tasks (`ray`); executors are plugins. Every trained model is also scored on a
held-out test set from a third seeded stream. A comparison with a directory keeps each
point's run directory and result as it finishes, and `resume_comparison` goes on from
there after a crash.

Per (cell, setting) the result holds the final loss and task metric as mean, standard
deviation and 95% t-interval over seeds, how many seeds solved the task (with Wilson's
interval), the median steps until solved, the parameter count and hidden size, and every
resolved setting. With `select`, one axis is chosen per cell and seed on validation loss
and the rows report the chosen runs' test numbers.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import itertools
import json
import shutil
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqkit._core import files
from seqkit._core.config import OPTION_TABLES, RunConfig
from seqkit._core.errors import ConfigError
from seqkit._core.stats import (
    MEAN_INTERVAL,
    SOLVED_INTERVAL,
    mean_interval,
    overlap,
    wilson_interval,
)
from seqkit._plugins.interfaces import Executor
from seqkit._plugins.objectives import UNBOUNDED
from seqkit._plugins.registry import Registry
from seqkit._present import report
from seqkit._present.plots import plot_setting_curves
from seqkit._run import rundir
from seqkit._run.plan import plan
from seqkit._run.sources import DataSource
from seqkit._study import points as points_
from seqkit._study.equal_effort import TUNING, check_tuning, described, tune_cells, tuning_space
from seqkit._study.executors import make_executor
from seqkit._study.grid import (
    GridPoint,
    check_axes,
    check_cells,
    config_for,
    display,
    grid,
    match_hidden_sizes,
)
from seqkit._study.length_generalisation import Setting, settings_of
from seqkit._study.length_generalisation import check as check_evaluations
from seqkit._study.param_match import TOLERANCE
from seqkit._study.points import Job, run_job, value_range
from seqkit._study.space import configure
from seqkit._train import host

SPEC = "comparison.json"
"""What a comparison directory's comparison is (cells, settings, grid, seeds, ...), so
that `resume_comparison` can go on with it."""


def run_grid(
    base: RunConfig,
    cells: Sequence[str],
    axes: Mapping[str, Sequence[Any]],
    seeds: int,
    jobs: int = 1,
    on_done: Callable[[GridPoint, dict[str, Any]], None] | None = None,
    *,
    match_params: str | None = None,
    params: int | None = None,
    registry: Registry | None = None,
    executor: str | None = None,
    executor_options: Mapping[str, Any] | None = None,
) -> list[tuple[GridPoint, dict[str, Any]]]:
    """Check every grid point, then run them all on `executor` (nothing kept on disk)."""
    points, configs = prepare_grid(base, cells, axes, seeds, match_params, params, registry)
    the_executor = make_executor(executor, jobs, executor_options or {}, registry)
    return run_points(points, configs, the_executor, jobs, on_done, registry)


def prepare_grid(
    base: RunConfig,
    cells: Sequence[str],
    axes: Mapping[str, Sequence[Any]],
    seeds: int,
    match_params: str | None = None,
    params: int | None = None,
    registry: Registry | None = None,
    tuned: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[GridPoint], list[RunConfig]]:
    """Every grid point and its configuration, each checked (a bad combination fails
    here, before anything runs). The points carry the fixed task options as resolved
    (`"4"` from the command line becomes 4). `tuned` holds each cell's own settings
    (an equal-effort comparison's best trial per cell)."""
    check_axes(axes)
    points = grid(base, cells, axes, seeds)
    configs = [config_for(base, p) for p in points]
    if match_params is not None or params is not None:
        configs = match_hidden_sizes(configs, match_params, params, registry)
    if tuned is not None:
        configs = [configure(c, tuned[c.cell]) for c in configs]
    resolved = [plan(c, registry).config for c in configs]
    points = [
        dataclasses.replace(p, fixed=tuple((k, r.task_options[k]) for k, _ in p.fixed))
        for p, r in zip(points, resolved, strict=True)
    ]
    # each point carries the identity of the data it was planned on: a worker refuses
    # the file if it changed in between
    configs = [dataclasses.replace(c, data=r.data) for c, r in zip(configs, resolved, strict=True)]
    return points, configs


def run_points(
    points: list[GridPoint],
    configs: list[RunConfig],
    executor: Executor,
    jobs: int,
    on_done: Callable[[GridPoint, dict[str, Any]], None] | None = None,
    registry: Registry | None = None,
    out_dir: Path | None = None,
    evaluations: Sequence[Setting] = (),
) -> list[tuple[GridPoint, dict[str, Any]]]:
    """Run the points on `executor` (and close it), scoring each model at `evaluations`.
    With `out_dir`, each point keeps its run directory and result there as it finishes,
    and a point already finished there is read back, not run again. Points that fail do
    not stop the others; then one error names them all."""
    alone = bool(getattr(executor, "in_process", False))  # runs with the run's own threads
    if registry is not None and not alone:
        executor.close()
        raise ConfigError(
            "a registry object cannot reach worker processes: use jobs=1 and the process executor"
        )
    # absolute: a worker on another node, or in another directory, writes the same place
    where = out_dir.absolute() if out_dir is not None else None
    work = [
        Job(
            c,
            points_.point_dir(where, i, p) if where else None,
            not alone,
            registry,
            tuple(evaluations),
        )
        for i, (p, c) in enumerate(zip(points, configs, strict=True))
    ]
    found: dict[int, dict[str, Any]] = {}
    for i, job in enumerate(work):
        if job.run_dir is not None and (kept := points_.finished(job.run_dir)) is not None:
            found[i] = kept
            if on_done:
                on_done(points[i], kept)
    todo = [i for i in range(len(work)) if i not in found]
    failed: dict[int, BaseException] = {}
    try:
        for k, out in executor.map(run_job, [work[i] for i in todo]):
            i = todo[k]
            if isinstance(out, BaseException):
                failed[i] = out
                continue
            if (run_dir := work[i].run_dir) is not None:
                try:
                    points_.keep(run_dir, out)
                except ConfigError as exc:  # storage the workers do not share: stop here
                    failed[i] = exc
                    break
            found[i] = out
            if on_done:
                on_done(points[i], out)
    finally:
        executor.close()
    if failed:
        said = {points[i].describe(): e for i, e in failed.items()}
        raise points_.failure(said, out_dir, where)
    return [(p, found[i]) for i, p in enumerate(points)]


def flatten(settings: dict[str, Any]) -> dict[str, Any]:
    """A run's resolved settings as one level, less seed, cell and task: plugin options become
    `cell.K`, `trainer.K`, ... and task options keep their bare names (`seq_len`)."""
    flat: dict[str, Any] = {}
    for name, value in settings.items():
        if name in OPTION_TABLES:
            kind = name.removesuffix("_options")
            flat |= {display(f"{kind}.{k}"): v for k, v in value.items()}
        elif name not in ("seed", "cell", "task"):  # the row's cell, the report's task
            flat[name] = value
    return flat


def spread(
    values: list[float], prefix: str, within: tuple[float, float] = UNBOUNDED
) -> dict[str, Any]:
    """Mean, standard deviation and 95% t-interval of `values` (cut to `within`, where
    they lie), keyed `prefix_...`."""
    interval = mean_interval(values, within)
    return {
        f"{prefix}_mean": statistics.fmean(values),
        f"{prefix}_std": statistics.stdev(values) if len(values) > 1 else 0.0,
        f"{prefix}_ci95": list(interval) if interval else None,
    }


def _without(point: GridPoint, axis: str) -> GridPoint:
    return dataclasses.replace(point, setting=tuple((k, v) for k, v in point.setting if k != axis))


def select_on_validation(
    results: list[tuple[GridPoint, dict[str, Any]]], axis: str
) -> list[tuple[GridPoint, dict[str, Any]]]:
    """Per cell, seed and setting of the other axes, the run of `axis` with the lowest
    validation loss, its point without that axis and `selected` naming the value."""
    best: dict[GridPoint, tuple[GridPoint, dict[str, Any]]] = {}
    for point, out in results:
        key = _without(point, axis)
        if key not in best or out["val_loss"] < best[key][1]["val_loss"]:
            best[key] = (point, out)
    chosen = []
    for key, (point, out) in best.items():
        value = dict(point.setting)[axis]
        chosen.append((key, {**out, "selected": f"{display(axis)}={value}"}))
    return chosen


def summarise(
    results: list[tuple[GridPoint, dict[str, Any]]],
    select: str | None = None,
    on_test: bool = False,
) -> list[dict[str, Any]]:
    """One row per (cell, setting): loss and metric over seeds (mean, std, 95%
    t-interval), solved k/n with Wilson's interval, median steps, every resolved setting.
    With `select`, the rows hold the runs chosen on validation; with it or `on_test` (the
    settings were chosen before, as an equal-effort comparison's), they add test numbers."""
    on_test = on_test or select is not None
    if select is not None:
        results = select_on_validation(results, select)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for point, out in results:
        groups.setdefault((point.cell, point.label), []).append(out)
    rows = []
    for (cell, label), outs in groups.items():
        steps = [o["steps_to_solve"] for o in outs if o["steps_to_solve"] is not None]
        metric = outs[0]["headline_metric"]
        if metric not in outs[0]["metrics"]:  # a task whose headline metric is missing
            metric = "val_loss"
        solved_key = "test_solved" if on_test else "solved"
        solved = [o[solved_key] for o in outs]
        k = sum(1 for s in solved if s) if solved[0] is not None else None
        settings = flatten(outs[0]["settings"])
        ranges = kept_ranges(outs)
        if select is not None:  # each seed's own choice: in `selected`, not a setting
            settings.pop(display(select), None)
        row: dict[str, Any] = {
            "cell": cell,
            "setting": label,
            "seeds": len(outs),
            "parameters": outs[0]["parameters"],
            "hidden_size": outs[0]["hidden_size"],
            **spread([o["val_loss"] for o in outs], "val_loss", value_range(ranges, "val_loss")),
            "metric": metric,
            **spread(
                [o["metrics"].get(metric, o["val_loss"]) for o in outs],
                "metric",
                value_range(ranges, metric),
            ),
            "chance_loss": outs[0]["chance_loss"],
            "solved": k,
            "solved_ci95": list(wilson_interval(k, len(outs))) if k is not None else None,
            "median_steps_to_solve": statistics.median(steps) if steps else None,
            "wall_s_mean": statistics.fmean(o["wall_s"] for o in outs),
        }
        if select is not None:
            row["selected"] = dict(sorted(_counts(o["selected"] for o in outs).items()))
        if on_test:
            test_metric = "test_" + metric.removeprefix("val_")
            row |= {
                **spread(
                    [o["test_loss"] for o in outs], "test_loss", value_range(ranges, "test_loss")
                ),
                "test_metric": test_metric,
                **spread(
                    [o["test_metrics"].get(test_metric, o["test_loss"]) for o in outs],
                    "test_metric",
                    value_range(ranges, test_metric),
                ),
            }
        if "evaluations" in outs[0]:
            row["evaluations"] = _evaluation_spread(outs, metric)
        rows.append({**row, "settings": settings})
    return rows


def _evaluation_spread(outs: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """Per evaluation setting: test loss and the headline metric over seeds, solved k/n."""
    test_metric = "test_" + metric.removeprefix("val_")
    ranges = kept_ranges(outs)
    return {
        where: {
            **test_spread([o["evaluations"][where] for o in outs], test_metric, ranges),
            "chance_loss": statistics.fmean(o["evaluations"][where]["chance_loss"] for o in outs),
        }
        for where in outs[0]["evaluations"]
    }


def test_spread(
    scores: list[dict[str, Any]], metric: str, ranges: Mapping[str, Any]
) -> dict[str, Any]:
    """Over seeds' test scores (`test_loss`, the metric, `solved`): the loss and `metric`
    (mean, std, 95% t-interval cut to `ranges`, where they lie), and solved k/n with
    Wilson's interval."""
    solved = [s["solved"] for s in scores]
    k = sum(1 for x in solved if x) if solved[0] is not None else None
    return {
        **spread([s["test_loss"] for s in scores], "test_loss", value_range(ranges, "test_loss")),
        "metric": metric,
        **spread(
            [s.get(metric, s["test_loss"]) for s in scores], "metric", value_range(ranges, metric)
        ),
        "solved": k,
        "solved_ci95": list(wilson_interval(k, len(scores))) if k is not None else None,
    }


def kept_ranges(outs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """Where the values lie, from the first result that says (results kept by an older
    seqkit, read back by a resume, do not)."""
    return next((o["ranges"] for o in outs if "ranges" in o), {})


def _counts(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def differences(rows: list[dict[str, Any]], on: str = "val_loss") -> list[dict[str, Any]]:
    """For each setting and each pair of cells: whether their 95% intervals of `on` are
    apart (resolved: the lower is better) or overlap (not resolved at this many seeds)."""
    by_setting: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_setting.setdefault(row["setting"], []).append(row)
    found = []
    for setting, group in by_setting.items():
        for a, b in itertools.combinations(group, 2):
            ia, ib = a[f"{on}_ci95"], b[f"{on}_ci95"]
            resolved = not overlap(ia, ib)
            lower = a if a[f"{on}_mean"] < b[f"{on}_mean"] else b
            found.append(
                {
                    "setting": setting,
                    "cells": [a["cell"], b["cell"]],
                    "on": on,
                    "resolved": resolved,
                    "lower": lower["cell"] if resolved else None,
                    "seeds": min(a["seeds"], b["seeds"]),
                }
            )
    return found


def shared_settings(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings every row shares, and per cell those its rows share beyond them; each
    row's `varies` gets the rest (its axes, and what the task resolves per setting)."""

    def same(group: list[dict[str, Any]]) -> dict[str, Any]:
        first = group[0]["settings"]
        return {
            k: v for k, v in first.items() if all(r["settings"].get(k, ...) == v for r in group)
        }

    every = same(rows)
    per_cell: dict[str, dict[str, Any]] = {}
    for cell in dict.fromkeys(r["cell"] for r in rows):
        group = [r for r in rows if r["cell"] == cell]
        per_cell[cell] = {k: v for k, v in same(group).items() if k not in every}
    for row in rows:
        known = every.keys() | per_cell[row["cell"]].keys()
        row["varies"] = {k: v for k, v in row["settings"].items() if k not in known}
    return every, per_cell


@dataclass
class Comparison:
    """What `compare` found: rows per (cell, setting), every run, and how to read them."""

    task: str
    cells: list[str]
    grid: dict[str, list[Any]]
    fixed: dict[str, Any]
    seeds: int
    rows: list[dict[str, Any]]
    shared: dict[str, Any]
    per_cell: dict[str, dict[str, Any]]
    differences: list[dict[str, Any]]
    runs: list[dict[str, Any]] = field(repr=False)
    solved_rule: str | None = None
    select: str | None = None
    match: dict[str, Any] | None = None
    evaluate_on: dict[str, list[Any]] | None = None
    plots: list[Path] = field(default_factory=list)
    out_dir: Path | None = None
    tuning: dict[str, Any] | None = None
    """An equal-effort comparison's search (space, trials, seeds) and each cell's best."""

    def _repr_html_(self) -> str:
        """Jupyter's view: the table with its intervals and the loss curves."""
        return report.comparison_fragment(self.as_dict(), [p.read_bytes() for p in self.plots])

    def as_dict(self) -> dict[str, Any]:
        """The report as `seqkit compare --json` prints it (results.json adds `runs`)."""
        return {
            "task": self.task,
            "cells": self.cells,
            "grid": self.grid,
            "fixed": self.fixed,
            "seeds": self.seeds,
            "interval": MEAN_INTERVAL,
            "solved_interval": SOLVED_INTERVAL,
            "reported_on": (
                described(self.tuning, self.seeds)
                if self.tuning
                else f"best over {display(self.select)}, selected on validation loss, "
                "reported on test; mean over seeds"
                if self.select
                else "validation, mean over seeds"
            ),
            "tuning": self.tuning,
            "select": self.select and display(self.select),
            "match": self.match,
            "evaluate_on": self.evaluate_on,
            "shared": self.shared,
            "per_cell": self.per_cell,
            "rows": self.rows,
            "differences": self.differences,
            "plots": [str(p) for p in self.plots],
            "solved_rule": self.solved_rule,
        }


@dataclass(frozen=True)
class Spec:
    """What a comparison is, as comparison.json keeps it: enough to run it again."""

    cells: list[str]
    base: RunConfig
    axes: dict[str, list[Any]]
    seeds: int
    match_params: str | None = None
    params: int | None = None
    select: str | None = None
    evaluate_on: dict[str, list[Any]] | None = None
    tuning: dict[str, Any] | None = None
    """`--tune`: the space, trials and seeds per trial each cell is tuned with."""
    tuned: dict[str, dict[str, Any]] | None = None
    """Each cell's best settings, once its study is done."""

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "base": self.base.as_dict()}

    @classmethod
    def read(cls, out_dir: Path) -> Spec:
        where = f"--resume {out_dir}"
        try:
            saved = json.loads((out_dir / SPEC).read_text())
            return cls(**{**saved, "base": RunConfig.from_dict(saved["base"])})
        except FileNotFoundError:
            raise ConfigError(
                f"{where}: no {SPEC} there; give the directory a comparison was kept in"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{where}: {SPEC} cannot be read ({exc})") from None


def compare(
    cells: Sequence[str],
    config: RunConfig | None = None,
    *,
    axes: Mapping[str, Sequence[Any]] | None = None,
    seeds: int = 3,
    jobs: int = 1,
    match_params: str | None = None,
    params: int | None = None,
    select: str | None = None,
    evaluate_on: Mapping[str, Sequence[Any]] | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    on_done: Callable[[GridPoint, dict[str, Any]], None] | None = None,
    executor: str | None = None,
    executor_options: Mapping[str, Any] | None = None,
    registry: Registry | None = None,
    data: DataSource | None = None,
    tune: Sequence[str] | None = None,
    trials: int = 20,
    tune_seeds: int = 1,
    on_trial: Callable[[str, dict[str, Any], int], None] | None = None,
    **settings: Any,
) -> Comparison:
    """Train every cell at every point of a grid with `seeds` seeds and summarise:
    `seqkit.compare(["rnn", "gru"], task="recall", axes={"lr": [1e-3, 1e-2],
    "task.seq_len": [10, 30]}, seeds=3)`.

    `config` (or the settings, RunConfig's fields; `data=seqkit.from_csv(path)` for your
    own data) is shared by every run; `axes` maps a
    setting (`lr`) or a plugin option (`cell.forget_bias`, `task.seq_len`) to its values.
    `match_params=CELL` (or `params=N`) gives every other cell the hidden size whose
    model has within 5% of that cell's parameter count (or of N). `select=AXIS` picks that
    axis's value per cell and seed on validation loss and reports test numbers.
    `evaluate_on={"seq_len": [100, 400]}` also scores every trained model on fresh test
    data at those settings of the task (length generalisation; see `Task.evaluable`).
    `executor` (None: the default, `process`; `ray`; or a plugin's) runs the points,
    `jobs` at once, with `executor_options` (Ray's `address`). Every point is checked
    before any runs.

    `tune=["lr", "hidden_size=32:256:int"]` makes it an equal-effort comparison: each cell
    is first tuned on validation with the same space and `trials` trials of `tune_seeds`
    seeds (`seqkit.tune`; a bare name searches its default range), then its best
    settings are trained with `seeds` seeds the studies did not use and reported on test.
    `on_trial(cell, record, total)` is called as each trial ends.

    With `out`, the comparison is kept there as it goes: comparison.json (what it is),
    each point's run directory and result under points/ as it finishes, and at the end
    results.json, results.csv, one loss-N.png per setting and report.html. After a crash
    `resume_comparison(out)` runs only what is not finished.
    """
    if not cells:
        raise ConfigError("compare needs at least one cell")
    check_cells(cells)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= 1000:
        raise ConfigError(f"--seeds must be a whole number from 1 to 1000 (got {seeds!r})")
    grid_axes = {k: list(v) for k, v in (axes or {}).items()}
    check_axes(grid_axes)
    if select is not None and select not in grid_axes:
        choices = ", ".join(display(a) for a in grid_axes) or "none"
        raise ConfigError(
            f"--select {display(select)}: not an axis of this grid (the axes: {choices}); "
            "select an option given several values"
        )
    if data is not None:  # seqkit.from_text(...), from_csv(...), from_arrays(...)
        if config is not None:
            raise ConfigError("give data= with settings, not with a RunConfig (set its task)")
        settings = data.settings(settings)
    base = config or RunConfig.from_dict({"cell": cells[0], **settings})
    # decided by this process, not by each worker, and kept in comparison.json
    if base.flush_denormals is None:
        base = dataclasses.replace(base, flush_denormals=host.owns_process())
    evaluations = {k: list(v) for k, v in (evaluate_on or {}).items()} or None
    tuning = None
    if tune is not None:
        space = tuning_space(tune)
        check_tuning(space, match_params is not None or params is not None, grid_axes, select)
        for name, value in (("--trials", trials), ("--tune-seeds", tune_seeds)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number >= 1 (got {value!r})")
        tuning = {"space": space, "trials": trials, "seeds": tune_seeds}
    spec = Spec(
        list(cells), base, grid_axes, seeds, match_params, params, select, evaluations, tuning
    )
    out_dir = Path(out) if out is not None else None
    run = functools.partial(
        carry_out, jobs=jobs, executor=executor, executor_options=executor_options,
        on_done=on_done, registry=registry, on_trial=on_trial,
    )  # fmt: skip
    if out_dir is None:
        return run(spec, out_dir)
    with rundir.claimed(out_dir, overwrite):  # one writer in the directory
        return run(spec, out_dir)


def resume_comparison(
    out: str | Path,
    *,
    jobs: int = 1,
    executor: str | None = None,
    executor_options: Mapping[str, Any] | None = None,
    on_done: Callable[[GridPoint, dict[str, Any]], None] | None = None,
    registry: Registry | None = None,
    on_trial: Callable[[str, dict[str, Any], int], None] | None = None,
) -> Comparison:
    """Go on with the comparison kept in `out` (a `compare(..., out=...)` that stopped):
    finished points are read back, interrupted ones continue from their checkpoints,
    the rest run (an equal-effort comparison's studies continue where they stopped).
    The result equals the uninterrupted comparison's, wall times aside."""
    out_dir = Path(out)
    spec = Spec.read(out_dir)
    with files.locked(out_dir, f"--resume {out_dir}"):  # one writer in the directory
        return carry_out(
            spec, out_dir, jobs, executor, executor_options, on_done, registry, True, on_trial
        )


def carry_out(
    spec: Spec,
    out_dir: Path | None,
    jobs: int,
    executor: str | None,
    executor_options: Mapping[str, Any] | None,
    on_done: Callable[[GridPoint, dict[str, Any]], None] | None,
    registry: Registry | None,
    resuming: bool = False,
    on_trial: Callable[[str, dict[str, Any], int], None] | None = None,
) -> Comparison:
    """Run a checked comparison (keeping it in `out_dir`, if given) and summarise it. An
    equal-effort comparison first tunes each cell (`equal_effort.tune_cells`), then
    trains the best settings with the seeds after those the studies used."""
    grid_of = functools.partial(
        prepare_grid, cells=spec.cells, axes=spec.axes, seeds=spec.seeds,
        match_params=spec.match_params, params=spec.params, registry=registry,
    )  # fmt: skip
    base = spec.base
    if spec.tuning is not None and spec.tuned is None:
        _, untuned = grid_of(base)  # every cell's run checked, sizes matched, before tuning
        if out_dir is not None:
            if not resuming:  # --overwrite: no study of an earlier comparison goes on
                shutil.rmtree(out_dir / TUNING, ignore_errors=True)
            files.write_json(out_dir / SPEC, spec.as_dict())  # --resume continues the studies
        bases = {c.cell: c for c in reversed(untuned)}  # each cell's first seed
        workers = (executor, executor_options, jobs) if executor is not None else None
        tuned = tune_cells(spec.cells, bases, spec.tuning, out_dir, registry, on_trial, workers)
        spec = dataclasses.replace(spec, tuned=tuned)
    if spec.tuning is not None:  # seeds the studies did not use
        base = dataclasses.replace(base, seed=base.seed + spec.tuning["seeds"])
    points, configs = grid_of(base, tuned=spec.tuned)
    identities = {json.dumps(c.data, sort_keys=True) for c in configs}
    if len(identities) == 1 and configs[0].data is not None:  # one data file for all
        # kept in comparison.json: --resume refuses it changed, as a run's --resume does
        spec = dataclasses.replace(spec, base=dataclasses.replace(spec.base, data=configs[0].data))
    evaluations = settings_of(spec.evaluate_on)
    for config in configs:  # a model that cannot be scored there is refused now
        check_evaluations(config, evaluations, registry)
    the_executor = make_executor(executor, jobs, executor_options or {}, registry)
    if out_dir is not None:  # all is checked: from here on the comparison is kept
        if not resuming:  # --overwrite: nothing of an earlier comparison stays or is reused
            shutil.rmtree(out_dir / points_.POINTS, ignore_errors=True)
            for path in [
                *(out_dir / n for n in files.COMPARISON_FILES),
                *out_dir.glob("loss-*.png"),
            ]:
                path.unlink(missing_ok=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        files.write_json(out_dir / SPEC, spec.as_dict())
    results = run_points(
        points, configs, the_executor, jobs, on_done, registry, out_dir, evaluations
    )
    select = spec.select
    on_test = select is not None or spec.tuning is not None
    rows = summarise(results, select, on_test)
    shared, per_cell = shared_settings(rows)
    report = Comparison(
        task=spec.base.task,
        cells=list(spec.cells),
        grid={display(k): v for k, v in spec.axes.items()},
        fixed=dict(results[0][0].fixed),
        seeds=spec.seeds,
        rows=rows,
        shared=shared,
        per_cell=per_cell,
        differences=differences(rows, "test_loss" if on_test else "val_loss"),
        runs=[{"cell": p.cell, "setting": p.label, "seed": p.seed, **r} for p, r in results],
        solved_rule=results[0][1]["solved_rule"] or None,
        select=select,
        match=_match(spec.match_params, spec.params),
        evaluate_on=spec.evaluate_on,
        out_dir=out_dir,
        tuning={**spec.tuning, "best": spec.tuned} if spec.tuning is not None else None,
    )
    if out_dir is not None:
        write(out_dir, report, results)
    return report


def _match(reference: str | None, params: int | None) -> dict[str, Any] | None:
    if reference is None and params is None:
        return None
    return {"reference": reference, "params": params, "tolerance": TOLERANCE}


def write(
    out_dir: Path, report: Comparison, results: list[tuple[GridPoint, dict[str, Any]]]
) -> None:
    """results.json (the report and every run), results.csv (the rows), the plots and
    report.html."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report.plots = plot_curves(out_dir, results, report.task)
    files.write_json(out_dir / files.RESULTS, {**report.as_dict(), "runs": report.runs})
    write_csv(out_dir / files.RESULTS_CSV, report.rows)
    from seqkit._present.report import write_compare_report

    write_compare_report(out_dir)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """One line per row: its figures (intervals as _low/_high) and every resolved setting."""
    flat = []
    for row in rows:
        line: dict[str, Any] = {}
        for key, value in row.items():
            if key in ("settings", "varies"):
                continue
            if key.endswith("_ci95"):
                low, high = value if value else (None, None)
                line |= {f"{key}_low": low, f"{key}_high": high}
            elif isinstance(value, dict):
                line[key] = json.dumps(value)
            else:
                line[key] = value
        line |= {f"setting.{k}": v for k, v in row["settings"].items()}
        flat.append(line)
    fields = list(dict.fromkeys(k for line in flat for k in line))
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=fields, restval="")
    writer.writeheader()
    writer.writerows(flat)
    files.write_text(path, text.getvalue())


def plot_curves(
    out_dir: Path, results: list[tuple[GridPoint, dict[str, Any]]], title: str
) -> list[Path]:
    """Per setting, `loss-N.png`: validation loss per epoch of every run (colour per cell),
    with the chance level and the task's reference levels."""
    by_setting: dict[str, list[tuple[GridPoint, dict[str, Any]]]] = {}
    for point, out in results:
        by_setting.setdefault(point.label, []).append((point, out))
    cells = list(dict.fromkeys(p.cell for p, _ in results))
    paths = []
    for i, (label, runs) in enumerate(by_setting.items()):
        path, png = out_dir / f"loss-{i + 1}.png", io.BytesIO()
        plot_setting_curves(png, runs, cells, f"{title}: {label}")
        files.write_bytes(path, png.getvalue())
        paths.append(path)
    return paths
