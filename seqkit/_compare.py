"""`seqkit.compare`: a grid of cells x settings x seeds, run and summarised with intervals.

Any run setting is an axis (`lr`, `hidden_size`, `epochs`, ...), and so is any plugin
option (`task.seq_len`, `cell.forget_bias`, `trainer.K`, `topology.K`). Each grid point
is an ordinary run (`seqkit.run`) with its own seed, one after another in this process or
with `jobs > 1` in that many worker processes with one CPU thread each. Every trained
model is also scored on a held-out test set from a third seeded stream.

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
import itertools
import json
import multiprocessing
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqkit import _rundir as rundir
from seqkit._config import OPTION_TABLES, RunConfig
from seqkit._errors import ConfigError, UnknownNameError
from seqkit._param_match import TOLERANCE, hidden_size_for, parameter_count
from seqkit._plan import plan
from seqkit._registry import Registry, get_registry
from seqkit._stats import MEAN_INTERVAL, SOLVED_INTERVAL, mean_interval, overlap, wilson_interval

OPTION_KINDS = {table.removesuffix("_options"): table for table in OPTION_TABLES}
"""Axis prefixes for plugin options: `cell.K`, `task.K`, `topology.K`, `trainer.K`."""
NOT_AXES = frozenset({"task", "cell", "seed", "threads", "tensorboard", *OPTION_TABLES})
"""RunConfig fields that cannot vary: the cells and seeds are axes of their own, a
comparison is of one task, and threads follow `jobs`."""
SETTING_AXES = tuple(f.name for f in dataclasses.fields(RunConfig) if f.name not in NOT_AXES)
TEST_SEED_OFFSET = 500_009
"""The test set's generator seed is the run seed plus this: a stream apart from training
(the seed) and validation (the seed + 1,000,003), and from the other seeds' streams
while fewer than 500,009 seeds run."""


@dataclass(frozen=True)
class GridPoint:
    cell: str
    setting: tuple[tuple[str, Any], ...]
    """The axes' values at this point, by axis name (`lr`, `task.seq_len`, ...)."""
    seed: int
    fixed: tuple[tuple[str, Any], ...] = ()
    """The task options every point shares (the base's, less the grid's keys)."""

    @property
    def label(self) -> str:
        """The grid's values; without a grid, the fixed task options; else "defaults"."""
        return _pairs(self.setting) or _pairs(self.fixed) or "defaults"


def display(axis: str) -> str:
    """How an axis is written in labels: task options bare (`seq_len`), the rest as given."""
    return axis.removeprefix("task.")


def _pairs(options: tuple[tuple[str, Any], ...]) -> str:
    return ",".join(f"{display(k)}={v}" for k, v in options)


def check_axes(axes: Mapping[str, Sequence[Any]]) -> None:
    """Every axis names a setting or a plugin option and has at least one value."""
    for axis, values in axes.items():
        kind, dot, key = axis.partition(".")
        if not (axis in SETTING_AXES or (dot and kind in OPTION_KINDS and key)):
            raise ConfigError(
                f"unknown axis '{axis}'; an axis is a run setting ({', '.join(SETTING_AXES)}) "
                f"or a plugin option ({', '.join(k + '.KEY' for k in OPTION_KINDS)})"
            )
        if isinstance(values, str) or not len(values):
            raise ConfigError(f"axis '{axis}' needs a list of values (got {values!r})")


def with_value(config: RunConfig, axis: str, value: Any) -> RunConfig:
    """`config` with one axis set: a field, or one key of a plugin's option table."""
    kind, dot, key = axis.partition(".")
    if not dot:
        return dataclasses.replace(config, **{axis: value})
    table = OPTION_KINDS[kind]
    changes: dict[str, Any] = {table: {**getattr(config, table), key: value}}
    return dataclasses.replace(config, **changes)


def fixed_options(base: RunConfig, axes: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The task options the base sets that the grid does not vary."""
    return {k: v for k, v in base.task_options.items() if f"task.{k}" not in axes}


def grid(
    base: RunConfig, cells: Sequence[str], axes: Mapping[str, Sequence[Any]], seeds: int
) -> list[GridPoint]:
    """Every combination, settings in the order given, seeds 0..seeds-1 offset by base."""
    keys = list(axes)
    settings = [
        tuple(zip(keys, values, strict=True))
        for values in itertools.product(*(axes[k] for k in keys))
    ]
    fixed = tuple(fixed_options(base, axes).items())
    return [
        GridPoint(cell, setting, base.seed + s, fixed)
        for setting in settings
        for cell in cells
        for s in range(seeds)
    ]


def config_for(base: RunConfig, point: GridPoint) -> RunConfig:
    config = dataclasses.replace(base, cell=point.cell, seed=point.seed)
    for axis, value in point.setting:
        config = with_value(config, axis, value)
    return config


def _key(config: RunConfig) -> str:
    """The configuration less its seed, as a key: what a parameter count depends on."""
    settings = {k: v for k, v in config.as_dict().items() if k != "seed"}
    return json.dumps(settings, sort_keys=True, default=str)


def match_hidden_sizes(
    configs: list[RunConfig],
    reference: str | None = None,
    params: int | None = None,
    registry: Registry | None = None,
) -> list[RunConfig]:
    """Each configuration with the hidden size whose model's parameter count is within 5%
    of the reference cell's at the same settings (or of `params`); the reference keeps
    its own. A count that cannot be met is a ConfigError naming the cell."""
    if (reference is None) == (params is None):
        raise ConfigError("parameter matching takes a reference cell or a count, not both")
    if params is not None and (isinstance(params, bool) or not isinstance(params, int)):
        raise ConfigError(f"--params must be a whole number of parameters (got {params!r})")
    if params is not None and params < 1:
        raise ConfigError(f"--params must be at least 1 (got {params})")

    @functools.cache
    def target(key: str) -> int:
        if params is not None:
            return params
        the_plan = plan(RunConfig.from_dict(json.loads(key)), registry)
        return parameter_count(the_plan, the_plan.config.hidden_size or 0)

    @functools.cache
    def matched(key: str) -> int:
        config = RunConfig.from_dict(json.loads(key))
        the_plan = plan(config, registry)
        goal = target(_key(dataclasses.replace(config, cell=reference or config.cell)))
        count = functools.cache(functools.partial(parameter_count, the_plan))
        return hidden_size_for(count, goal, f"matching parameters: cell '{config.cell}'")

    if reference is not None:
        try:
            (registry or get_registry()).get("cell", reference)
        except UnknownNameError as exc:
            raise ConfigError(f"--match-params: {exc}") from None
    return [
        config
        if config.cell == reference
        else dataclasses.replace(config, hidden_size=matched(_key(config)))
        for config in configs
    ]


def heldout_set(task: Any, seed: int, device: Any) -> tuple[Any, Any]:
    """The held-out test set of a run with `seed`: `val_samples` sequences from a stream
    of its own (the seed + TEST_SEED_OFFSET), on `device`."""
    import torch

    generator = torch.Generator(device=device).manual_seed(seed + TEST_SEED_OFFSET)
    x, y = task.generate(task.val_samples, generator, device)
    return x, y


def run_point(config: RunConfig, registry: Registry | None = None) -> dict[str, Any]:
    """One grid point, as plain data (picklable: it may run in a worker process)."""
    from seqkit._evaluate import evaluate
    from seqkit._runner import run

    start = time.perf_counter()
    result = run(config, registry=registry, quiet=True)  # the caller reports each point
    wall = time.perf_counter() - start
    task = result.task
    steps_to_solve = None
    for record in result.history.epochs:
        metrics = {k: v for k, v in record.items() if k.startswith("val_")}
        if task.solved(metrics):
            steps_to_solve = int(record["step"])
            break
    device = next(result.model.parameters()).device
    test = evaluate(result.model, task, *heldout_set(task, config.seed, device), prefix="test_")
    as_val = {"val_" + k.removeprefix("test_"): v for k, v in test.items()}
    return {
        "settings": result.config.as_dict(),
        "parameters": sum(p.numel() for p in result.model.parameters()),
        "hidden_size": result.config.hidden_size,
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
    }


def _run_one_thread(config: RunConfig) -> dict[str, Any]:
    return run_point(dataclasses.replace(config, threads=1))


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
) -> list[tuple[GridPoint, dict[str, Any]]]:
    """Check every grid point's configuration first, then run them all. The points carry
    the fixed task options as resolved (`"4"` from the command line becomes 4)."""
    check_axes(axes)
    if registry is not None and jobs > 1:
        raise ConfigError("a registry object cannot reach worker processes: use jobs=1")
    points = grid(base, cells, axes, seeds)
    configs = [config_for(base, p) for p in points]
    if match_params is not None or params is not None:
        configs = match_hidden_sizes(configs, match_params, params, registry)
    resolved = [plan(c, registry).config for c in configs]  # a bad combination fails here
    points = [
        dataclasses.replace(p, fixed=tuple((k, r.task_options[k]) for k, _ in p.fixed))
        for p, r in zip(points, resolved, strict=True)
    ]
    results: list[tuple[GridPoint, dict[str, Any]]] = []
    if jobs <= 1:
        for point, config in zip(points, configs, strict=True):
            out = run_point(config, registry)
            results.append((point, out))
            if on_done:
                on_done(point, out)
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(_run_one_thread, c) for c in configs]
        for point, future in zip(points, futures, strict=True):
            out = future.result()
            results.append((point, out))
            if on_done:
                on_done(point, out)
    return results


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


def _spread(values: list[float], prefix: str) -> dict[str, Any]:
    """Mean, standard deviation and 95% t-interval of `values`, keyed `prefix_...`."""
    interval = mean_interval(values)
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
    results: list[tuple[GridPoint, dict[str, Any]]], select: str | None = None
) -> list[dict[str, Any]]:
    """One row per (cell, setting): loss and metric over seeds (mean, std, 95%
    t-interval), solved k/n with Wilson's interval, median steps, every resolved setting.
    With `select`, the rows hold the runs chosen on validation and add their test numbers."""
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
        solved_key = "test_solved" if select else "solved"
        solved = [o[solved_key] for o in outs]
        k = sum(1 for s in solved if s) if solved[0] is not None else None
        settings = flatten(outs[0]["settings"])
        if select is not None:  # each seed's own choice: in `selected`, not a setting
            settings.pop(display(select), None)
        row: dict[str, Any] = {
            "cell": cell,
            "setting": label,
            "seeds": len(outs),
            "parameters": outs[0]["parameters"],
            "hidden_size": outs[0]["hidden_size"],
            **_spread([o["val_loss"] for o in outs], "val_loss"),
            "metric": metric,
            **_spread([o["metrics"].get(metric, o["val_loss"]) for o in outs], "metric"),
            "chance_loss": outs[0]["chance_loss"],
            "solved": k,
            "solved_ci95": list(wilson_interval(k, len(outs))) if k is not None else None,
            "median_steps_to_solve": statistics.median(steps) if steps else None,
            "wall_s_mean": statistics.fmean(o["wall_s"] for o in outs),
        }
        if select is not None:
            test_metric = "test_" + metric.removeprefix("val_")
            row |= {
                "selected": dict(sorted(_counts(o["selected"] for o in outs).items())),
                **_spread([o["test_loss"] for o in outs], "test_loss"),
                "test_metric": test_metric,
                **_spread(
                    [o["test_metrics"].get(test_metric, o["test_loss"]) for o in outs],
                    "test_metric",
                ),
            }
        rows.append({**row, "settings": settings})
    return rows


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
    plots: list[Path] = field(default_factory=list)
    out_dir: Path | None = None

    def _repr_html_(self) -> str:
        """Jupyter's view: the table with its intervals and the loss curves."""
        from seqkit import _report

        return _report.comparison_fragment(self.as_dict(), [p.read_bytes() for p in self.plots])

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
                f"best over {display(self.select)}, selected on validation loss, reported "
                "on test; mean over seeds"
                if self.select
                else "validation, mean over seeds"
            ),
            "select": self.select and display(self.select),
            "match": self.match,
            "shared": self.shared,
            "per_cell": self.per_cell,
            "rows": self.rows,
            "differences": self.differences,
            "plots": [str(p) for p in self.plots],
            "solved_rule": self.solved_rule,
        }


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
    out: str | Path | None = None,
    overwrite: bool = False,
    on_done: Callable[[GridPoint, dict[str, Any]], None] | None = None,
    registry: Registry | None = None,
    **settings: Any,
) -> Comparison:
    """Train every cell at every point of a grid with `seeds` seeds and summarise:
    `seqkit.compare(["rnn", "gru"], task="recall", axes={"lr": [1e-3, 1e-2],
    "task.seq_len": [10, 30]}, seeds=3)`.

    `config` (or the settings, RunConfig's fields) is shared by every run; `axes` maps a
    setting (`lr`) or a plugin option (`cell.forget_bias`, `task.seq_len`) to its values.
    `match_params=CELL` (or `params=N`) gives every other cell the hidden size whose
    model has within 5% of that cell's parameter count (or of N). `select=AXIS` picks that
    axis's value per cell and seed on validation loss and reports test numbers. Every
    point is checked before any runs; with `out`, results.json, results.csv and one
    loss-N.png per setting are written there.
    """
    if not cells:
        raise ConfigError("compare needs at least one cell")
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
    base = config or RunConfig.from_dict({"cell": cells[0], **settings})
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        rundir.check_out_dir(out_dir, overwrite)
    results = run_grid(
        base,
        cells,
        grid_axes,
        seeds,
        jobs,
        on_done,
        match_params=match_params,
        params=params,
        registry=registry,
    )
    rows = summarise(results, select)
    shared, per_cell = shared_settings(rows)
    report = Comparison(
        task=base.task,
        cells=list(cells),
        grid={display(k): v for k, v in grid_axes.items()},
        fixed=dict(results[0][0].fixed),
        seeds=seeds,
        rows=rows,
        shared=shared,
        per_cell=per_cell,
        differences=differences(rows, "test_loss" if select else "val_loss"),
        runs=[{"cell": p.cell, "setting": p.label, "seed": p.seed, **r} for p, r in results],
        solved_rule=results[0][1]["solved_rule"] or None,
        select=select,
        match=_match(match_params, params),
        out_dir=out_dir,
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
    rundir.write_json(out_dir / "results.json", {**report.as_dict(), "runs": report.runs})
    write_csv(out_dir / "results.csv", report.rows)
    from seqkit._report import write_compare_report

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
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(flat)


def plot_curves(
    out_dir: Path, results: list[tuple[GridPoint, dict[str, Any]]], title: str
) -> list[Path]:
    """Per setting: validation loss per epoch of every run (colour per cell), with the
    chance level and the task's reference levels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    by_setting: dict[str, list[tuple[GridPoint, dict[str, Any]]]] = {}
    for point, out in results:
        by_setting.setdefault(point.label, []).append((point, out))
    cells = list(dict.fromkeys(p.cell for p, _ in results))
    paths = []
    for i, (label, runs) in enumerate(by_setting.items()):
        fig, ax = plt.subplots(figsize=(7, 4))
        for point, out in runs:
            steps = [(e + 1) * out["steps_per_epoch"] for e in range(len(out["curve"]))]
            color = colors[cells.index(point.cell) % len(colors)]
            first = point.seed == min(p.seed for p, _ in runs if p.cell == point.cell)
            ax.plot(steps, out["curve"], color=color, lw=1, label=point.cell if first else None)
        chance = runs[0][1]["chance_loss"]
        ax.axhline(chance, color="grey", ls="--", label=f"chance ({chance:.3g})")
        for name, level in runs[0][1]["references"].items():
            if abs(level - chance) > 1e-12:
                ax.axhline(level, color="grey", ls=":", label=f"{name} ({level:.3g})")
        ax.set(xlabel="step", ylabel="validation loss", yscale="log", title=f"{title}: {label}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out_dir / f"loss-{i + 1}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths
