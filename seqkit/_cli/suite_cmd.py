"""`seqkit suite NAME`: a registered suite of comparisons for the given cells, and its
leaderboard (Markdown, CSV, JSON, HTML)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from seqkit._cli.compare_cmd import (
    Jobs,
    echo_point,
    kept_on_ctrl_c,
    refuse_with_resume,
    trial_printer,
    tune_options,
    tuned_names,
)
from seqkit._cli.params import RegistryName, parse_cells
from seqkit._core.errors import ConfigError
from seqkit._core.options import parse_pairs


@click.command("suite")
@click.argument("name", type=RegistryName("suite"), required=False)
@click.option("--cells", help="Comma-separated cells, e.g. rnn,lstm,gru.")
@click.option("--seeds", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option(
    "--entries",
    metavar="E[,E...]",
    help="Only these entries (as the leaderboard or `seqkit describe NAME` names them).",
)
@click.option("--match-params", metavar="CELL", help="Match every cell's parameters to CELL's.")
@click.option("--params", type=click.IntRange(min=1), metavar="N", help="Match them to N.")
@click.option("--jobs", type=Jobs(), default="auto", show_default=True, help="Runs at once.")
@click.option(
    "--task-opt",
    "task_opt",
    multiple=True,
    metavar="K=V",
    help="A task option for every entry whose task has it, e.g. root=DIR for the MNIST "
    "files (repeatable).",
)
@click.option("--executor", metavar="NAME", help="Where the runs go (as for compare).")
@click.option("--executor-opt", "executor_opt", multiple=True, metavar="K=V")
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(path_type=Path),
    help="Go on with the suite kept in this directory (its --out).",
)
@click.option("--out", type=click.Path(path_type=Path), help="[default: runs/suite-NAME-<time>]")
@tune_options("Tune every cell at every entry first, as compare --tune does (equal effort).")
@click.option("--overwrite", is_flag=True, help="Reuse an --out directory that holds files.")
@click.option("--json", "as_json", is_flag=True, help="Print the leaderboard as one JSON object.")
def suite_cmd(
    name: str | None,
    cells: str | None,
    seeds: int,
    entries: str | None,
    match_params: str | None,
    params: int | None,
    jobs: int,
    task_opt: tuple[str, ...],
    executor: str | None,
    executor_opt: tuple[str, ...],
    resume_dir: Path | None,
    out: Path | None,
    tune_space: tuple[str, ...],
    trials: int,
    tune_seeds: int,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Run suite NAME (`long-range`: the classic memory tasks at the papers' lengths and
    budgets) for --cells, each entry a comparison with --seeds seeds, and write its
    leaderboard: leaderboard.md, .csv, .json and .html. `seqkit list suites` lists them."""
    from seqkit._study.suite import resume_suite, run_suite

    options = dict(parse_pairs(executor_opt, "--executor-opt"))
    running: dict[str, Any] = {
        "jobs": jobs, "executor": executor, "executor_options": options,
        "on_trial": trial_printer(quiet=as_json),
    }  # fmt: skip

    def progress(entry: str, point: Any, result: dict[str, Any]) -> None:
        if not as_json:
            echo_point(f"{entry:<14} {point.cell:<8}", point, result)

    if resume_dir is not None:
        refuse_with_resume(click.get_current_context(), "suite")
        with kept_on_ctrl_c(resume_dir, "suite"):
            board = resume_suite(resume_dir, on_done=progress, **running)
        out = resume_dir
    else:
        if name is None or not cells:
            raise ConfigError("give a suite and its cells: seqkit suite long-range --cells a,b,...")
        if match_params is not None and params is not None:
            raise ConfigError("give --match-params CELL or --params N, not both")
        out = out or Path("runs") / f"suite-{name}-{datetime.now():%Y%m%d-%H%M%S}"
        with kept_on_ctrl_c(out, "suite"):
            board = run_suite(
                name,
                parse_cells(cells),
                seeds=seeds,
                entries=[e.strip() for e in entries.split(",")] if entries is not None else None,
                match_params=match_params,
                params=params,
                out=out,
                overwrite=overwrite,
                on_done=progress,
                tune=tuned_names(tune_space),
                trials=trials,
                tune_seeds=tune_seeds,
                task_options=dict(parse_pairs(task_opt, "--task-opt")),
                **running,
            )
    if as_json:
        click.echo(json.dumps(board.as_dict()))
        return
    click.echo(board.markdown())
    click.echo(f"leaderboard: {out / 'leaderboard.md'}, .csv, .json, .html")
