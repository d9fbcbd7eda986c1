"""`seqkit tune`: an Optuna study over a run's settings, each trial trained with --seeds
seeds and pruned on the mean validation loss of its epochs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from seqkit._cli.compare_cmd import kept_on_ctrl_c
from seqkit._cli.config_options import RunSettingsCommand, config_from_options, config_options
from seqkit._core.config import read_settings
from seqkit._core.errors import ConfigError
from seqkit._core.options import parse_pairs


@click.command("tune", cls=RunSettingsCommand)
@config_options
@click.option(
    "--space",
    "spaces",
    multiple=True,
    metavar="NAME=SPEC",
    help="A dimension: lr=1e-4:1e-2:log, hidden_size=32:256:int, optimizer=adam,rmsprop, "
    "cell.forget_bias=0:2 (repeat the flag; or a [space] table in --config).",
)
@click.option("--trials", type=int, default=20, show_default=True, help="Trials in the study.")
@click.option("--seeds", type=int, default=1, show_default=True, help="Runs (seeds) per trial.")
@click.option("--sampler", default="tpe", show_default=True, help="tpe (Optuna's TPE) or random.")
@click.option(
    "--pruner",
    default="median",
    show_default=True,
    help="median, halving (successive halving) or none.",
)
@click.option(
    "--storage",
    help="An SQLAlchemy URL (postgresql://...) for a study shared by many processes "
    "[default: an SQLite file in --out; its journal file with --jobs > 1].",
)
@click.option("--study", "study_name", help="The study's name [default: the --out folder's name].")
@click.option("--jobs", type=int, default=1, show_default=True, help="Trials run at once.")
@click.option(
    "--executor",
    metavar="NAME",
    help="Run --jobs workers of the study there, e.g. ray (a Ray cluster whose machines "
    "share --out's disk) [default: threads of this process].",
)
@click.option("--executor-opt", "executor_opt", multiple=True, metavar="K=V")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="The study's directory [default: studies/<task>-<cell>]; the same command again "
    "continues the study kept there.",
)
@click.option("--quiet", "-q", is_flag=True, help="No line per trial.")
@click.option("--json", "as_json", is_flag=True, help="Print the study's summary as JSON.")
def tune_cmd(
    spaces: tuple[str, ...],
    trials: int,
    seeds: int,
    sampler: str,
    pruner: str,
    storage: str | None,
    study_name: str | None,
    jobs: int,
    executor: str | None,
    executor_opt: tuple[str, ...],
    out: Path | None,
    quiet: bool,
    as_json: bool,
    **kw: Any,
) -> None:
    """Tune a run's settings with Optuna: each trial trains --seeds runs at once, its
    objective the mean validation loss (test is never seen), pruned by the mean at each
    epoch. Prints a line per trial, the best, and writes best.toml, which `seqkit run
    --config` trains again, and report.html."""
    from seqkit._present.tuning import summary_lines, trial_line
    from seqkit._study.tune import tune

    settings, table = None, {}
    if kw.get("config_file"):
        path = kw["config_file"]
        settings = read_settings(path, f"--config {path}", extra=("space",))
        table = settings.pop("space", {})
        if not isinstance(table, dict):
            raise ConfigError(f'--config {path}: space must be a table of NAME = "SPEC"')
    space = [*(f"{k}={v}" for k, v in table.items() if not _given(spaces, k)), *spaces]
    config = config_from_options(kw, settings)

    def line(record: dict[str, Any], total: int) -> None:
        if not quiet:
            click.echo(trial_line(record, total), err=as_json)

    where = out or Path("studies") / f"{config.task}-{config.cell}"
    kept = (
        f"the study is kept in {where}: the same command continues it (a trial it stopped "
        "from its runs' checkpoints)"
    )
    with kept_on_ctrl_c(where, "tune", kept):  # the trials' runs stop at their next step
        result = tune(
            config,
            space=space,
            trials=trials,
            seeds=seeds,
            sampler=sampler,
            pruner=pruner,
            storage=storage,
            study=study_name,
            jobs=jobs,
            executor=executor,
            executor_options=dict(parse_pairs(executor_opt, "--executor-opt")),
            out=out,
            on_trial=line,
        )
    if as_json:
        click.echo(json.dumps(result.summary(), default=str))
        return
    for text in summary_lines(result.summary()):
        click.echo(text)
    click.echo(f"report: {result.out / 'report.html'}")
    sys.stdout.flush()


def _given(spaces: tuple[str, ...], name: str) -> bool:
    """Whether a --space flag names `name` (it wins over the file's)."""
    return any(s.partition("=")[0].strip() == name for s in spaces)
