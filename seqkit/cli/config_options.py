"""The options that define a run, shared by `seqkit run` and `seqkit explain`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from seqkit.cli.params import RegistryName
from seqkit.config import RunConfig
from seqkit.options import parse_pairs

CONFIG_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--cell", required=True, type=RegistryName("cell"), help="Recurrent cell."),
    click.option("--task", required=True, type=RegistryName("task"), help="Task to learn."),
    click.option(
        "--topology",
        type=RegistryName("topology"),
        help="Input/output wiring [default: the task's].",
    ),
    click.option(
        "--trainer",
        type=RegistryName("trainer"),
        help="Training loop [default: the one its plugin marks, minibatch].",
    ),
    click.option("--hidden-size", type=int, help="Hidden units [default: the task's]."),
    click.option("--num-layers", type=int, help="Stacked recurrent layers (cell option)."),
    click.option("--dropout", type=float, help="Dropout between layers (cell option)."),
    click.option(
        "--bidirectional", is_flag=True, default=None, help="Bidirectional (cell option)."
    ),
    click.option("--epochs", type=int, help="Passes over the training set [default: the task's]."),
    click.option("--lr", type=float, help="Learning rate [default: the task's]."),
    click.option("--batch-size", type=int, help="Sequences per step [default: the task's]."),
    click.option("--optimizer", help="adam, adamw, sgd, rmsprop, adagrad [default: adam]."),
    click.option("--weight-decay", type=float, default=0.0, show_default=True),
    click.option(
        "--lr-schedule",
        default="cosine",
        show_default=True,
        help="cosine (decay to 0 over the run) or constant.",
    ),
    click.option("--grad-clip", type=float, help="Clip the global gradient norm to this."),
    click.option("--seed", type=int, default=0, show_default=True),
    click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda[:N], mps."),
    click.option(
        "--normalize/--no-normalize",
        default=True,
        show_default=True,
        help="Standardise inputs and regression targets inside the model.",
    ),
    click.option(
        "--threads",
        type=int,
        help="CPU threads [default: 1 below hidden size 256, else torch's].",
    ),
    click.option(
        "--probe-every",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Gradient diagnostics at init, every K epochs and at the end (0: off).",
    ),
    click.option(
        "--probe-dtype",
        type=click.Choice(["float32", "float64"]),
        default="float32",
        show_default=True,
        help="Precision of the gradient probe.",
    ),
    click.option(
        "--probe-batch",
        type=int,
        default=32,
        show_default=True,
        help="Sequences in the probe batch.",
    ),
    click.option("--cell-opt", multiple=True, metavar="K=V", help="Cell option (repeatable)."),
    click.option("--task-opt", multiple=True, metavar="K=V", help="Task option (repeatable)."),
    click.option("--topology-opt", multiple=True, metavar="K=V", help="Topology option."),
    click.option("--trainer-opt", multiple=True, metavar="K=V", help="Trainer option."),
]


def config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add every run-defining option to a click command."""
    for option in reversed(CONFIG_OPTIONS):
        command = option(command)
    return command


def config_options_but_cell(command: Callable[..., Any]) -> Callable[..., Any]:
    """Every run-defining option except `--cell`, for commands that take several cells."""
    for option in reversed(CONFIG_OPTIONS[1:]):  # CONFIG_OPTIONS[0] is --cell
        command = option(command)
    return command


def config_from_options(kw: dict[str, Any]) -> RunConfig:
    """The RunConfig the options describe; common cell options go into cell_options."""
    cell_opts: dict[str, Any] = parse_pairs(kw["cell_opt"], "--cell-opt")
    for flag in ("num_layers", "dropout", "bidirectional"):
        if kw[flag] is not None:
            cell_opts[flag] = kw[flag]
    return RunConfig(
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
        threads=kw["threads"],
        probe_every=kw["probe_every"],
        probe_dtype=kw["probe_dtype"],
        probe_batch=kw["probe_batch"],
        cell_options=cell_opts,
        task_options=parse_pairs(kw["task_opt"], "--task-opt"),
        topology_options=parse_pairs(kw["topology_opt"], "--topology-opt"),
        trainer_options=parse_pairs(kw["trainer_opt"], "--trainer-opt"),
    )
