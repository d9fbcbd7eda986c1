"""`seqkit run`: train one model and print what it learned."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from seqkit import rundir
from seqkit.assemble import plan
from seqkit.cli.params import RegistryName
from seqkit.config import RunConfig
from seqkit.interfaces import Callback
from seqkit.options import parse_pairs
from seqkit.progress import BarProgress, PlainProgress
from seqkit.runner import RunResult, default_run_dir, execute


@click.command("run")
@click.option("--cell", required=True, type=RegistryName("cell"), help="Recurrent cell.")
@click.option("--task", required=True, type=RegistryName("task"), help="Task to learn.")
@click.option(
    "--topology", type=RegistryName("topology"), help="Input/output wiring [default: the task's]."
)
@click.option(
    "--trainer",
    type=RegistryName("trainer"),
    help="Training loop [default: the one its plugin marks, minibatch].",
)
@click.option("--hidden-size", type=int, help="Hidden units [default: the task's].")
@click.option("--num-layers", type=int, help="Stacked recurrent layers (cell option).")
@click.option("--dropout", type=float, help="Dropout between layers (cell option).")
@click.option("--bidirectional", is_flag=True, default=None, help="Bidirectional (cell option).")
@click.option("--epochs", type=int, help="Passes over the training set [default: the task's].")
@click.option("--lr", type=float, help="Learning rate [default: the task's].")
@click.option("--batch-size", type=int, help="Sequences per step [default: the task's].")
@click.option("--optimizer", help="adam, adamw, sgd, rmsprop, adagrad [default: adam].")
@click.option("--weight-decay", type=float, default=0.0, show_default=True)
@click.option(
    "--lr-schedule",
    default="cosine",
    show_default=True,
    help="cosine (decay to 0 over the run) or constant.",
)
@click.option("--grad-clip", type=float, help="Clip the global gradient norm to this.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda[:N], mps.")
@click.option(
    "--normalize/--no-normalize",
    default=True,
    show_default=True,
    help="Standardise inputs and regression targets inside the model.",
)
@click.option("--cell-opt", multiple=True, metavar="K=V", help="Cell option (repeatable).")
@click.option("--task-opt", multiple=True, metavar="K=V", help="Task option (repeatable).")
@click.option("--topology-opt", multiple=True, metavar="K=V", help="Topology option.")
@click.option("--trainer-opt", multiple=True, metavar="K=V", help="Trainer option.")
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
    cell_opts: dict[str, Any] = parse_pairs(kw["cell_opt"], "--cell-opt")
    for flag in ("num_layers", "dropout", "bidirectional"):
        if kw[flag] is not None:
            cell_opts[flag] = kw[flag]
    config = RunConfig(
        task=kw["task"],
        cell=kw["cell"],
        topology=kw["topology"],
        trainer=kw["trainer"],
        hidden_size=kw["hidden_size"],
        epochs=kw["epochs"],
        lr=kw["lr"],
        batch_size=kw["batch_size"],
        optimizer=kw["optimizer"],
        weight_decay=kw["weight_decay"],
        lr_schedule=kw["lr_schedule"],
        grad_clip=kw["grad_clip"],
        seed=kw["seed"],
        device=kw["device"],
        normalize=kw["normalize"],
        cell_options=cell_opts,
        task_options=parse_pairs(kw["task_opt"], "--task-opt"),
        topology_options=parse_pairs(kw["topology_opt"], "--topology-opt"),
        trainer_options=parse_pairs(kw["trainer_opt"], "--trainer-opt"),
    )
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
        f"\n{c.cell} / {c.topology} on {c.task}: {s['epochs_run']} epochs, "
        f"{s['parameters']:,} parameters, {s['train_time_s']:.2f} s on {s['device']}",
        bold=True,
    )
    chance = s["chance_loss"]
    for key in ("train_loss", "val_loss"):
        value = s[key]
        ratio = f"  ({value / chance:.2%} of chance)" if value is not None and chance else ""
        click.echo(f"  {key.replace('_', ' '):<11} {value:.4g}{ratio}")
    click.echo(f"  {'chance':<11} {chance:.4g}  (best input-blind prediction)")
    for key, value in s["metrics"].items():
        click.echo(f"  {key.replace('_', ' '):<11} {value:.4g}")
    if s["stopped"]:
        click.echo(f"  stopped: {s['stopped']}")
    click.secho("examples", bold=True)
    for ex in s["examples"]:
        click.echo(f"  {ex['text']}")
    if result.run_dir:
        click.echo(f"run directory: {result.run_dir}")
