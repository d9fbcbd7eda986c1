"""`seqkit run`: train one model and print what it learned."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from seqkit import rundir
from seqkit.assemble import plan
from seqkit.cli.config_options import config_from_options, config_options
from seqkit.interfaces import Callback
from seqkit.progress import BarProgress, PlainProgress
from seqkit.runner import RunResult, default_run_dir, execute


@click.command("run")
@config_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Run directory [default: runs/<task>-<cell>-<time>].",
)
@click.option("--overwrite", is_flag=True, help="Reuse an --out directory that holds files.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option(
    "--log-every",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Epochs between progress lines when not on a terminal.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the closing summary as one JSON object on stdout.",
)
def run_cmd(**kw: Any) -> None:
    """Train CELL on TASK, show progress, print a summary and example predictions."""
    config = config_from_options(kw)
    the_plan = plan(config)  # every check, before anything is written
    out = kw["out"] or default_run_dir(the_plan.config)
    rundir.check_out_dir(out, kw["overwrite"])

    every = kw["log_every"]
    progress = None if kw["quiet"] else (lambda chance: _progress(every, chance))
    result = execute(the_plan, out, [], progress=progress)
    if kw["as_json"]:
        click.echo(json.dumps(result.summary(), default=str))
    else:
        print_summary(result)


def _progress(every: int, chance: float) -> Callback:
    return BarProgress(chance) if sys.stderr.isatty() else PlainProgress(every, chance)


def print_summary(result: RunResult) -> None:
    s = result.summary()
    c = result.config
    click.secho(
        f"\n{c.cell} / {c.topology} on {c.task}: {s['epochs_run']} "
        f"epoch{'' if s['epochs_run'] == 1 else 's'}, "
        f"{s['parameters']:,} parameters, {s['train_time_s']:.2f} s on {s['device']}",
        bold=True,
    )
    chance = s["chance_loss"]
    for key in ("train_loss", "val_loss"):
        value = s[key]
        ratio = f"  ({value / chance:.2%} of chance)" if value is not None and chance else ""
        click.echo(f"  {key.replace('_', ' '):<13} {value:.4g}{ratio}")
    click.echo(f"  {'chance':<13} {chance:.4g}  (best input-blind prediction)")
    for key, value in s["metrics"].items():
        click.echo(f"  {key.replace('_', ' '):<13} {value:.4g}")
    if s["solved"] is not None:
        click.echo(f"  {'solved':<13} {'yes' if s['solved'] else 'no'}  ({s['solved_rule']})")
    if s["gradients"]:
        for when in ("init", "end"):
            g = s["gradients"][when]
            drop = g["steps_to_1e6_drop"]
            click.echo(
                f"  gradients at {when} (epoch {g['epoch']}): ||dL/dh_1|| / ||dL/dh_T|| = "
                f"1e{g['log10_vanishing_factor']:+.1f}; below 1e-6 of its value at T "
                + (f"{drop} steps back" if drop is not None else "nowhere")
            )
    if s["stopped"]:
        click.echo(f"  stopped: {s['stopped']}")
    click.secho("examples", bold=True)
    for ex in s["examples"]:
        click.echo(f"  {ex['text']}")
    if result.run_dir:
        click.echo(f"run directory: {result.run_dir}")
