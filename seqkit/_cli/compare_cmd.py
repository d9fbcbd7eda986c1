"""`seqkit compare`: cells x settings x seeds, as a table with intervals, JSON/CSV and plots."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from seqkit._cli.config_options import (
    OPTION_FIELDS,
    RunSettingsCommand,
    cell_flags,
    cells_and_config_options,
    config_from_options,
    was_given,
)
from seqkit._cli.params import parse_cells
from seqkit._core.config import read_settings, usable_cores
from seqkit._core.errors import ConfigError
from seqkit._core.options import parse_pairs
from seqkit._present.text import comparison_report

LIST_FLAGS = (
    "topology",
    "trainer",
    "hidden_size",
    "epochs",
    "lr",
    "batch_size",
    "optimizer",
    "weight_decay",
    "lr_schedule",
    "grad_clip",
    "tbptt",
    "precision",
)
"""The run flags that take a comma-separated list in `compare`; each list is an axis."""


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


class ValueList(click.ParamType):
    """One value or a comma-separated list of them, each converted by `inner`."""

    def __init__(self, inner: click.ParamType) -> None:
        self.inner = inner
        self.name = f"{inner.name} list"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> list[Any]:
        if isinstance(value, list):
            return value
        parts = value.split(",") if isinstance(value, str) else [value]
        if any(not p.strip() for p in parts if isinstance(p, str)):
            self.fail(f"{value!r} has an empty value; give V or V1,V2,...", param, ctx)
        return [
            self.inner.convert(p.strip() if isinstance(p, str) else p, param, ctx) for p in parts
        ]

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "V[,V...]"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> Any:
        return self.inner.shell_complete(ctx, param, incomplete)


class CompareCommand(RunSettingsCommand):
    """`compare`'s run flags and value-taking cell flags accept lists."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        flags = cell_flags()
        for p in params:
            takes_value = isinstance(p, click.Option) and not p.is_flag
            listed = p.name in LIST_FLAGS or p.name in flags
            if takes_value and listed and not isinstance(p.type, ValueList):
                p.type = ValueList(p.type)
        return params


def split_axes(kw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The options with lists of one value made single, and the axes: every list flag and
    every `K=V1,V2` plugin option with more than one value: run flags first (in
    LIST_FLAGS' order), then cell flags, then plugin options (in the order given)."""
    axes: dict[str, list[Any]] = {}
    single = dict(kw)
    for name in [*LIST_FLAGS, *cell_flags()]:
        values = kw.get(name)
        if not isinstance(values, list):
            continue
        if len(values) > 1:
            axes[name if name in LIST_FLAGS else f"cell.{name}"] = values
        single[name] = values[0]
    for table, flag in OPTION_FIELDS.items():
        kind = table.removesuffix("_options")
        pairs = parse_pairs(kw[flag], "--" + flag.replace("_", "-"))
        for key, value in pairs.items():
            if "," in str(value):
                axes[f"{kind}.{key}"] = [v.strip() for v in str(value).split(",")]
        single[flag] = tuple(f"{k}={v}" for k, v in pairs.items() if f"{kind}.{k}" not in axes)
    return single, axes


def grid_from_file(kw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The options with `--config FILE`'s lists moved into them: a list of a list flag
    (`"lr": [0.001, 0.01]`) or of a plugin option (`task_options = {seq_len = [10, 30]}`)
    is an axis, as the same flag with those values would be; a flag given on the command
    line still wins. Also the file's settings, less those lists (None: no file)."""
    path = kw.get("config_file")
    if not path:
        return kw, None
    settings = read_settings(path, f"--config {path}")
    ctx, kw = click.get_current_context(), dict(kw)

    def values(name: str, given: Any) -> list[Any] | None:
        if not isinstance(given, list):
            return None
        if not given:
            raise ConfigError(f"--config {path}: {name} is an empty list; give V or [V1, V2, ...]")
        return given

    for name in LIST_FLAGS:
        listed = values(name, settings.get(name))
        if listed is not None and not was_given(ctx, name):
            kw[name], settings[name] = listed, listed[0]
    for table, flag in OPTION_FIELDS.items():
        options = settings.get(table)
        if not isinstance(options, dict):
            continue
        on_line = parse_pairs(kw[flag], "--" + flag.replace("_", "-"))
        for key, given in list(options.items()):
            listed = values(f"{table}.{key}", given)
            if listed is not None:
                del options[key]
                if key not in on_line:
                    text = ",".join(v if isinstance(v, str) else json.dumps(v) for v in listed)
                    kw[flag] = (*kw[flag], f"{key}={text}")
    return kw, settings


def tune_options(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--tune`, `--trials` and `--tune-seeds`: an equal-effort comparison (or suite)."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option(
                "--tune", "tune_space", multiple=True, metavar="NAME[=SPEC]", help=help_text
            ),
            click.option(
                "--trials",
                type=int,
                default=20,
                show_default=True,
                help="Trials per cell (--tune).",
            ),
            click.option(
                "--tune-seeds",
                type=int,
                default=1,
                show_default=True,
                help="Seeds per trial (--tune).",
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def tuned_names(given: tuple[str, ...]) -> list[str] | None:
    """The dimensions `--tune` names: `lr,hidden_size` is two names, `optimizer=adam,rmsprop`
    one dimension; None without `--tune`."""
    names = []
    for item in given:
        names += [item] if "=" in item else [n.strip() for n in item.split(",") if n.strip()]
    return names or None


def trial_printer(quiet: bool) -> Callable[[str, dict[str, Any], int], None]:
    """A line on stderr as each tuning trial of a cell ends (none if `quiet`)."""

    def echo(cell: str, record: dict[str, Any], total: int) -> None:
        from seqkit._present.tuning import trial_line

        if not quiet:
            click.echo(f"  tuning {cell:<8} {trial_line(record, total)}", err=True)

    return echo


@click.command("compare", cls=CompareCommand)
@cells_and_config_options(required=False)
@click.option(
    "--seeds",
    type=click.IntRange(1, 1000),
    default=3,
    show_default=True,
    help="Seeds per grid point (seed, seed+1, ...).",
)
@click.option(
    "--match-params",
    metavar="CELL",
    help="Give every other cell the hidden size whose parameter count is within 5% of CELL's.",
)
@click.option(
    "--params",
    type=click.IntRange(min=1),
    metavar="N",
    help="Give every cell the hidden size whose parameter count is within 5% of N.",
)
@click.option(
    "--select",
    metavar="AXIS",
    help="Pick this axis's value per cell and seed on validation loss; report its test loss.",
)
@click.option(
    "--eval-task-opt",
    "eval_task_opt",
    multiple=True,
    metavar="K=V[,V...]",
    help="Also score every trained model on fresh test data at these task settings, a "
    "column each (length generalisation: seq_len=100,200,400).",
)
@click.option(
    "--jobs",
    type=Jobs(),
    default="auto",
    show_default=True,
    help="Runs at once, each in its own process with one CPU thread; auto: one per core.",
)
@click.option(
    "--executor",
    metavar="NAME",
    help="Where the runs go: process (this machine, the default), ray, or a plugin's "
    "(seqkit list executors).",
)
@click.option(
    "--executor-opt",
    "executor_opt",
    multiple=True,
    metavar="K=V",
    help="An option of the executor, e.g. address=HOST:PORT for ray (repeatable; seqkit "
    "describe ray).",
)
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(path_type=Path),
    help="Go on with the comparison kept in this directory (its --out), after a crash.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Directory [default: runs/compare-<task>-<time>].",
)
@tune_options(
    "Tune every cell first with the same space and --trials (an equal-effort comparison): "
    "lr, hidden_size, ... (their default ranges) or NAME=LOW:HIGH[:log][:int] or NAME=A,B; "
    "repeatable, or comma-separated names. The best of each is trained with --seeds new "
    "seeds and reported on test."
)
@click.option("--overwrite", is_flag=True, help="Reuse an --out directory that holds files.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
def compare_cmd(
    cells: str | None,
    seeds: int,
    match_params: str | None,
    params: int | None,
    select: str | None,
    eval_task_opt: tuple[str, ...],
    jobs: int,
    executor: str | None,
    executor_opt: tuple[str, ...],
    resume_dir: Path | None,
    out: Path | None,
    tune_space: tuple[str, ...],
    trials: int,
    tune_seeds: int,
    overwrite: bool,
    as_json: bool,
    **kw: Any,
) -> None:
    """Run every cell at every grid point with several seeds. Any run flag or plugin
    option given several values is an axis (`--lr 1e-3,1e-2`, `--task-opt
    seq_len=10,30`); print loss and metric (mean ± 95% interval over seeds), solved k/n
    with its interval, the median steps to solve, parameters and hidden size. Each
    finished run is kept as it completes: `--resume DIR` goes on after a crash."""
    from seqkit._study.compare import compare, resume_comparison

    options = dict(parse_pairs(executor_opt, "--executor-opt"))

    def progress(point: Any, result: dict[str, Any]) -> None:
        if not as_json:
            echo_point(f"{point.cell:<8} {point.label:<24}", point, result)

    trial_done = trial_printer(quiet=as_json)
    running: dict[str, Any] = {"jobs": jobs, "executor": executor, "executor_options": options}
    if resume_dir is not None:
        refuse_with_resume(click.get_current_context(), "comparison")
        with kept_on_ctrl_c(resume_dir, "compare"):
            report = resume_comparison(resume_dir, on_done=progress, on_trial=trial_done, **running)
        out = resume_dir
    else:
        if not cells:
            raise ConfigError("give --cells a,b,... (or --resume DIR to go on with a comparison)")
        names = parse_cells(cells)
        if match_params is not None and params is not None:
            raise ConfigError("give --match-params CELL or --params N, not both")
        kw, settings = grid_from_file(kw)
        single, axes = split_axes(kw)
        base = config_from_options({**single, "cell": names[0]}, settings)
        if base.tensorboard:
            raise ConfigError(
                "--tensorboard is for seqkit run: seqkit compare keeps each run's metrics in "
                "its run directory under points/"
            )
        out = out or Path("runs") / f"compare-{base.task}-{datetime.now():%Y%m%d-%H%M%S}"
        with kept_on_ctrl_c(out, "compare"):
            report = compare(
                names,
                base,
                axes=axes,
                seeds=seeds,
                match_params=match_params,
                params=params,
                select=axis_name(select, axes) if select else None,
                evaluate_on=eval_values(eval_task_opt),
                out=out,
                overwrite=overwrite,
                on_done=progress,
                tune=tuned_names(tune_space),
                trials=trials,
                tune_seeds=tune_seeds,
                on_trial=trial_done,
                **running,
            )
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    print_report(report.as_dict())
    files = f"{out / 'results.json'}, {out / 'results.csv'}"
    click.echo(f"results: {files}; report: {out / 'report.html'}")


RESUME_TAKES = {"jobs", "executor", "executor_opt", "resume_dir", "as_json"}
"""What `compare --resume` takes; everything else comes from the kept comparison."""


@contextmanager
def kept_on_ctrl_c(out: Path, command: str, kept: str = "") -> Iterator[None]:
    """Ctrl-C: one line that says what is kept and how to go on; exit 130, as `run`.
    `kept` replaces the default `the finished runs are kept in OUT: continue with ...`."""
    try:
        yield
    except KeyboardInterrupt:
        kept = kept or (
            f"the finished runs are kept in {out}: continue with seqkit {command} --resume {out}"
        )
        click.echo(f"Error: stopped by Ctrl-C; {kept}", err=True)
        sys.exit(128 + signal.SIGINT)


def echo_point(what: str, point: Any, result: dict[str, Any]) -> None:
    """One line on stderr as each run of a comparison finishes."""
    click.echo(
        f"  {what} seed {point.seed}: val loss {result['val_loss']:.4g}  {result['wall_s']:.1f} s",
        err=True,
    )


def refuse_with_resume(ctx: click.Context, what: str) -> None:
    """`--resume` takes the definition from the directory: any flag that would change it
    is an error naming the flags."""
    given = [
        p.opts[0] if isinstance(p, click.Option) else p.name or ""
        for p in ctx.command.params
        if p.name not in RESUME_TAKES and was_given(ctx, p.name or "")
    ]
    if given:
        raise ConfigError(
            f"--resume goes on with the {what} as it was defined; drop {', '.join(given)}"
        )


def eval_values(pairs: tuple[str, ...]) -> dict[str, list[str]] | None:
    """`--eval-task-opt seq_len=100,200` -> {"seq_len": ["100", "200"]}; the task's own
    option types convert the values."""
    parsed = parse_pairs(pairs, "--eval-task-opt")
    return {k: [v.strip() for v in str(value).split(",")] for k, value in parsed.items()} or None


def axis_name(select: str, axes: dict[str, list[Any]]) -> str:
    """The axis `--select` names: as the table writes it (`seq_len`, `lr`, `cell.K`), as a
    flag is spelt (`hidden-size`), or by its key alone where one axis has it (`num_layers`
    for `cell.num_layers`)."""
    wanted = select.strip().removeprefix("--").replace("-", "_")
    for axis in axes:
        if wanted in (axis, axis.removeprefix("task.")):
            return axis
    by_key = [axis for axis in axes if axis.partition(".")[2] == wanted]
    return by_key[0] if len(by_key) == 1 else wanted


def print_report(report: dict[str, Any]) -> None:
    for line in comparison_report(report):
        click.secho(line.text, bold=line.bold)
