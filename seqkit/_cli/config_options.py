"""The options that define a run, shared by `seqkit run` and `seqkit explain`."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from seqkit._cli.params import RegistryName
from seqkit._config import RunConfig
from seqkit._errors import ConfigError
from seqkit._options import parse_pairs

CONFIG_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--cell", type=RegistryName("cell"), help="Recurrent cell (required)."),
    click.option("--task", type=RegistryName("task"), help="Task to learn (required)."),
    click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path),
        help="Settings from a TOML file, or a run's config.json; flags given here win.",
    ),
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
        "--checkpoint-every",
        type=click.IntRange(min=0),
        default=1,
        show_default=True,
        help="Write checkpoint.pt every N epochs and at the end (0: only at the end).",
    ),
    click.option(
        "--threads",
        type=int,
        help="CPU threads [default: 1 below hidden size 256, else torch's].",
    ),
    click.option(
        "--tbptt",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        metavar="K",
        help="Truncated backprop through time: chunks of K steps, state carried (0: off).",
    ),
    click.option(
        "--precision",
        type=click.Choice(["fp32", "bf16", "fp16"]),
        default="fp32",
        show_default=True,
        help="Autocast the forward pass (fp16 with a gradient scaler).",
    ),
    click.option("--compile", is_flag=True, help="torch.compile the model for training."),
    click.option(
        "--tensorboard",
        is_flag=True,
        help="Also write TensorBoard event files (pip install 'seqkit[tensorboard]').",
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


OPTION_FIELDS = {
    "cell_options": "cell_opt",
    "task_options": "task_opt",
    "topology_options": "topology_opt",
    "trainer_options": "trainer_opt",
}
"""RunConfig's option tables and the repeatable `K=V` flags that fill them."""
FLAG_FIELDS = tuple(f.name for f in fields(RunConfig) if f.name not in OPTION_FIELDS)
"""RunConfig's other fields: each is a flag of the same name."""
CELL_FLAGS = ("num_layers", "dropout", "bidirectional")
"""Flags that set common cell options."""
SETTING_PARAMS = frozenset({*FLAG_FIELDS, *OPTION_FIELDS.values(), *CELL_FLAGS, "config_file"})
"""The parameters of CONFIG_OPTIONS: everything that decides what a run computes."""


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
    """The RunConfig the options describe, over the `--config` file's settings if given.

    Common cell options (`--num-layers`, ...) go into cell_options. With a file, only
    the flags given on the command line override it; `K=V` options merge key by key.
    """
    flags = {name: kw[name] for name in FLAG_FIELDS}
    options = {
        field: parse_pairs(kw[flag], "--" + flag.replace("_", "-"))
        for field, flag in OPTION_FIELDS.items()
    }
    for flag in CELL_FLAGS:
        if kw[flag] is not None:
            options["cell_options"][flag] = kw[flag]
    if not kw.get("config_file"):
        return RunConfig.from_dict({**flags, **options})
    settings = load_settings(kw["config_file"])
    ctx = click.get_current_context(silent=True)
    for name, value in flags.items():
        if _given(ctx, name):
            settings[name] = value
    for name, given in options.items():
        settings[name] = {**settings.get(name, {}), **given}
    return RunConfig.from_dict(settings)


def _given(ctx: click.Context | None, name: str) -> bool:
    """Whether the user set `name` on the command line (a command without such a flag,
    like `gradients` for the cell, always supplies its own value)."""
    if ctx is None or name not in ctx.params:
        return True
    source = ctx.get_parameter_source(name)
    return source is not None and source != ParameterSource.DEFAULT


def load_settings(path: Path) -> dict[str, Any]:
    """A settings dict from TOML (RunConfig's keys; `-` or `_`) or a run's config.json."""
    try:
        text = path.read_text()
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"--config {path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"--config {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise ConfigError(f"--config {path}: not valid {kind}: {exc}") from None
    data.pop("versions", None)  # recorded in a run's config.json, not a setting
    settings = {key.replace("-", "_"): value for key, value in data.items()}
    known = {f.name for f in fields(RunConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(
            f"--config {path}: unknown setting '{unknown[0]}'; settings are: "
            f"{', '.join(sorted(known))}"
        )
    for table in OPTION_FIELDS:
        if not isinstance(settings.get(table, {}), dict):
            raise ConfigError(
                f"--config {path}: {table} must be a table of option = value "
                f"(got {settings[table]!r})"
            )
    return settings
