"""`seqkit compare`: cells x task settings x seeds, as a table, JSON/CSV and plots."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from seqkit import _rundir as rundir
from seqkit._cli.config_options import (
    RunSettingsCommand,
    cells_and_config_options,
    config_from_options,
)
from seqkit._cli.params import parse_cells
from seqkit._config import usable_cores
from seqkit._errors import ConfigError
from seqkit._options import parse_pairs


class Jobs(click.ParamType):
    """`auto` (one job per usable core) or a number of jobs from 1 to 256."""

    name = "jobs"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        if str(value).strip().lower() == "auto":
            return usable_cores()
        try:
            jobs = int(value)
        except ValueError:
            self.fail(f"{value!r} is not auto or a whole number", param, ctx)
        if not 1 <= jobs <= 256:
            self.fail(f"{jobs} is not auto or in the range 1<=x<=256", param, ctx)
        return jobs

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "auto|N"


@click.command("compare", cls=RunSettingsCommand)
@cells_and_config_options
@click.option(
    "--seeds",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Seeds per grid point (seed, seed+1, ...).",
)
@click.option(
    "--jobs",
    type=Jobs(),
    default="auto",
    show_default=True,
    help="Runs at once, each in its own process with one CPU thread; auto: one per core.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Directory [default: runs/compare-<task>-<time>].",
)
@click.option("--overwrite", is_flag=True, help="Reuse an --out directory that holds files.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
def compare_cmd(
    cells: str, seeds: int, jobs: int, out: Path | None, overwrite: bool, as_json: bool, **kw: Any
) -> None:
    """Run every cell on every task setting (`--task-opt seq_len=100,200,400` makes a grid
    of three) with several seeds; print final loss and metric (mean ± std), how many seeds
    solved the task, the median steps to solve, and wall time."""
    from seqkit._compare import plot_curves, run_grid, summarise, write_csv

    names = parse_cells(cells)
    pairs = parse_pairs(kw["task_opt"], "--task-opt")
    # Options with several values span the grid; single values are the same everywhere.
    task_grid = {
        k: [v.strip() for v in value.split(",")] for k, value in pairs.items() if "," in value
    }
    fixed = tuple(f"{k}={v}" for k, v in pairs.items() if k not in task_grid)
    base = config_from_options({**kw, "cell": names[0], "task_opt": fixed})
    if base.tensorboard:
        raise ConfigError(
            "--tensorboard is for seqkit run: seqkit compare keeps one results directory, "
            "not a run directory per run"
        )
    out = out or Path("runs") / f"compare-{base.task}-{datetime.now():%Y%m%d-%H%M%S}"
    rundir.check_out_dir(out, overwrite)

    def progress(point: Any, result: dict[str, Any]) -> None:
        if not as_json:
            click.echo(
                f"  {point.cell:<8} {point.label:<24} seed {point.seed}: val loss "
                f"{result['val_loss']:.4g}  {result['wall_s']:.1f} s",
                err=True,
            )

    results = run_grid(base, names, task_grid, seeds, jobs, on_done=progress)
    rows = summarise(results)
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_curves(out, results, base.task)
    shared = dict(results[0][0].fixed)  # resolved: `seq_len=4` is 4
    report = {
        "task": base.task,
        "cells": names,
        "grid": task_grid,
        "fixed": shared,
        "seeds": seeds,
        "rows": rows,
        "plots": [str(p) for p in plots],
        "solved_rule": results[0][1]["solved_rule"] or None,
    }
    rundir.write_json(
        out / "results.json",
        {
            **report,
            "runs": [{"cell": p.cell, "setting": p.label, "seed": p.seed, **r} for p, r in results],
        },
    )
    write_csv(out / "results.csv", rows)
    from seqkit._report import write_compare_report

    page = write_compare_report(out)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.secho(
        f"\n{base.task}: {seeds} seed(s) per row"
        + (f"; solved means {report['solved_rule']}" if report["solved_rule"] else ""),
        bold=True,
    )
    if task_grid and shared:  # without a grid, the setting column shows them
        click.echo("every row: " + ", ".join(f"{k}={v}" for k, v in shared.items()))
    metric = rows[0]["metric"]
    wide = max([24, *(len(r["setting"]) + 2 for r in rows)])
    click.echo(
        f"{'cell':<8}{'setting':<{wide}}{'val loss (chance)':<26}{metric:<20}"
        f"{'solved':<8}{'steps to solve':<16}wall s"
    )
    for r in rows:
        solved = f"{r['solved']}/{r['seeds']}" if r["solved"] is not None else "-"
        steps = f"{r['median_steps_to_solve']:.0f}" if r["median_steps_to_solve"] else "-"
        loss = f"{r['val_loss_mean']:.4g} ± {r['val_loss_std']:.2g} ({r['chance_loss']:.3g})"
        value = f"{r['metric_mean']:.4g} ± {r['metric_std']:.2g}"
        click.echo(
            f"{r['cell']:<8}{r['setting']:<{wide}}{loss:<26}{value:<20}{solved:<8}"
            f"{steps:<16}{r['wall_s_mean']:.1f}"
        )
    click.echo(f"results: {out / 'results.json'}, {out / 'results.csv'}; report: {page}")
