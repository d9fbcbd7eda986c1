"""`seqkit compare`: a grid of cells x task settings x seeds, run and summarised.

Each grid point is an ordinary run (`seqkit.run`) with its own seed. Runs go one after
another in this process, or with `jobs > 1` in that many worker processes with one CPU
thread each. The result: per (cell, setting) the final validation loss and task metric
as mean and standard deviation over seeds, how many seeds solved the task by its own
rule, the median number of optimizer steps until solved, and wall time.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import multiprocessing
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from seqkit._config import RunConfig
from seqkit._plan import plan


@dataclasses.dataclass(frozen=True)
class GridPoint:
    cell: str
    setting: tuple[tuple[str, Any], ...]
    seed: int
    fixed: tuple[tuple[str, Any], ...] = ()
    """The task options every point shares (the base's, less the grid's keys)."""

    @property
    def label(self) -> str:
        """The grid's options; without a grid, the fixed ones; else "defaults"."""
        return _pairs(self.setting) or _pairs(self.fixed) or "defaults"


def _pairs(options: tuple[tuple[str, Any], ...]) -> str:
    return ",".join(f"{k}={v}" for k, v in options)


def fixed_options(base: RunConfig, task_grid: dict[str, list[Any]]) -> dict[str, Any]:
    """The task options the base sets that the grid does not vary."""
    return {k: v for k, v in base.task_options.items() if k not in task_grid}


def grid(
    base: RunConfig, cells: list[str], task_grid: dict[str, list[Any]], seeds: int
) -> list[GridPoint]:
    """Every combination, settings in the order given, seeds 0..seeds-1 offset by base."""
    keys = list(task_grid)
    settings = [
        tuple(zip(keys, values, strict=True))
        for values in itertools.product(*(task_grid[k] for k in keys))
    ]
    fixed = tuple(fixed_options(base, task_grid).items())
    return [
        GridPoint(cell, setting, base.seed + s, fixed)
        for setting in settings
        for cell in cells
        for s in range(seeds)
    ]


def config_for(base: RunConfig, point: GridPoint) -> RunConfig:
    return dataclasses.replace(
        base,
        cell=point.cell,
        seed=point.seed,
        threads=base.threads,
        task_options={**base.task_options, **dict(point.setting)},
    )


def run_point(config: RunConfig) -> dict[str, Any]:
    """One grid point, as plain data (picklable: it may run in a worker process)."""
    from seqkit._runner import run

    start = time.perf_counter()
    result = run(config, quiet=True)  # the caller reports each point as it ends
    wall = time.perf_counter() - start
    task = result.task
    steps_to_solve = None
    for record in result.history.epochs:
        metrics = {k: v for k, v in record.items() if k.startswith("val_")}
        if task.solved(metrics):
            steps_to_solve = int(record["step"])
            break
    return {
        "settings": result.config.as_dict(),
        "val_loss": result.metrics["val_loss"],
        "metrics": {k: v for k, v in result.metrics.items() if k.startswith("val_")},
        "chance_loss": result.chance_loss,
        "solved": task.solved(result.metrics),
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
    cells: list[str],
    task_grid: dict[str, list[Any]],
    seeds: int,
    jobs: int = 1,
    on_done: Callable[[GridPoint, dict[str, Any]], None] | None = None,
) -> list[tuple[GridPoint, dict[str, Any]]]:
    """Check every grid point's configuration first, then run them all. The points carry
    the fixed task options as resolved (`"4"` from the command line becomes 4)."""
    points = grid(base, cells, task_grid, seeds)
    configs = [config_for(base, p) for p in points]
    resolved = [plan(c).config for c in configs]  # a bad combination fails here
    points = [
        dataclasses.replace(p, fixed=tuple((k, r.task_options[k]) for k, _ in p.fixed))
        for p, r in zip(points, resolved, strict=True)
    ]
    results: list[tuple[GridPoint, dict[str, Any]]] = []
    if jobs <= 1:
        for point, config in zip(points, configs, strict=True):
            out = run_point(config)
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


def summarise(results: list[tuple[GridPoint, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per (cell, setting): mean and std over seeds, solved count, median steps."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for point, out in results:
        groups.setdefault((point.cell, point.label), []).append(out)
    rows = []
    for (cell, label), outs in groups.items():
        losses = [o["val_loss"] for o in outs]
        solved = [o["solved"] for o in outs]
        steps = [o["steps_to_solve"] for o in outs if o["steps_to_solve"] is not None]
        metric = outs[0]["headline_metric"]
        if metric not in outs[0]["metrics"]:  # a task whose headline metric is missing
            metric = "val_loss"
        values = [o["metrics"][metric] for o in outs]
        rows.append(
            {
                "cell": cell,
                "setting": label,
                "seeds": len(outs),
                "val_loss_mean": statistics.fmean(losses),
                "val_loss_std": statistics.stdev(losses) if len(losses) > 1 else 0.0,
                "metric": metric,
                "metric_mean": statistics.fmean(values),
                "metric_std": statistics.stdev(values) if len(values) > 1 else 0.0,
                "chance_loss": outs[0]["chance_loss"],
                "solved": sum(1 for s in solved if s) if solved[0] is not None else None,
                "median_steps_to_solve": statistics.median(steps) if steps else None,
                "wall_s_mean": statistics.fmean(o["wall_s"] for o in outs),
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


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
