"""The options that define a run, shared by `seqkit run` and `seqkit explain`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from seqkit._cli.params import THREADS, RegistryName, complete_cells, complete_options
from seqkit._core.config import RunConfig, read_settings
from seqkit._core.options import parse_pairs
from seqkit._plugins.registry import get_registry

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
        help="Training loop [default: the one its plugin marks as the default].",
    ),
    click.option("--hidden-size", type=int, help="Hidden units [default: the task's]."),
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
        default=None,
        help="Standardise continuous inputs and regression targets inside the model "
        "[default: the task's choice: on, off for the long-range tasks].",
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
        type=THREADS,
        help="CPU threads: auto is 1 below hidden size 256, else torch's (a rule: the "
        "count changes the last digits of large reductions); fastest times 1 against "
        "every core on a long run; or N [default: auto].",
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
        "--flush-denormals/--keep-denormals",
        default=None,
        help="On the CPU, compute subnormal floats (below 1.2e-38) as 0: vanishing "
        "gradients made long backward passes several times slower [default: flush].",
    ),
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
    click.option(
        "--cell-opt",
        multiple=True,
        metavar="K=V",
        help="Cell option (repeatable).",
        shell_complete=complete_options("cell"),
    ),
    click.option(
        "--task-opt",
        multiple=True,
        metavar="K=V",
        help="Task option (repeatable).",
        shell_complete=complete_options("task"),
    ),
    click.option(
        "--topology-opt",
        multiple=True,
        metavar="K=V",
        help="Topology option.",
        shell_complete=complete_options("topology"),
    ),
    click.option(
        "--trainer-opt",
        multiple=True,
        metavar="K=V",
        help="Trainer option.",
        shell_complete=complete_options("trainer"),
    ),
    click.option(
        "--data-changed",
        is_flag=True,
        help="Train on a data file that changed since the --config or --resume run recorded it.",
    ),
]


OPTION_FIELDS = {
    "cell_options": "cell_opt",
    "task_options": "task_opt",
    "topology_options": "topology_opt",
    "trainer_options": "trainer_opt",
}
"""RunConfig's option tables and the repeatable `K=V` flags that fill them."""
RECORDS = ("data",)
"""RunConfig's fields that a run records and no flag sets (`--data-changed` drops `data`)."""
FLAG_FIELDS = tuple(
    f.name for f in fields(RunConfig) if f.name not in OPTION_FIELDS and f.name not in RECORDS
)
"""RunConfig's other fields: each is a flag of the same name."""
SETTING_PARAMS = frozenset({*FLAG_FIELDS, *OPTION_FIELDS.values(), "config_file"})
"""The fixed parameters of CONFIG_OPTIONS: what decides what a run computes (the cell
flags of `cell_flags()` do too)."""


def cell_flags() -> dict[str, click.Option]:
    """A flag for each cell option a plugin marks `flag=True` (`--num-layers`), by
    parameter name; the first cell to declare a name decides its type and help. A name
    that is already a run setting stays reachable only as `--cell-opt`."""
    flags: dict[str, click.Option] = {}
    for entry in get_registry().entries("cell"):
        for name, option in entry.options.items():
            if not option.flag or name in flags or name in SETTING_PARAMS:
                continue
            dashed = "--" + name.replace("_", "-")
            help_text = f"{option.help[:1].upper()}{option.help[1:]} (cell option {name})."
            if option.type is bool:
                flags[name] = click.Option(
                    [f"{dashed}/--no-{dashed[2:]}", name], default=None, help=help_text
                )
            else:
                kind = option.type if option.type in (int, float, str) else str
                flags[name] = click.Option([dashed, name], type=kind, help=help_text)
    return flags


class RunSettingsCommand(click.Command):
    """A command that defines a run: its flags include the cell flags the installed
    plugins declare, found when the command is parsed or its help is shown."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        taken = {p.name for p in params}
        extra = [f for name, f in cell_flags().items() if name not in taken]
        return [*params[:-1], *extra, params[-1]]  # --help stays last


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


def cells_and_config_options(
    command: Callable[..., Any] | None = None, *, required: bool = True
) -> Any:
    """`--cells a,b,c` and every other run-defining option, for commands that run several
    cells on one task (`gradients`, `compare`; compare's `--resume` needs no cells)."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        cells = click.option(
            "--cells",
            required=required,
            help="Comma-separated cells, e.g. rnn,lstm,gru.",
            shell_complete=complete_cells,
        )
        return cells(config_options_but_cell(command))

    return decorate(command) if command is not None else decorate


def config_from_options(kw: dict[str, Any], settings: dict[str, Any] | None = None) -> RunConfig:
    """The RunConfig the options describe, over the `--config` file's settings if given
    (`settings`: those settings, already read).

    Cell flags (`--num-layers`, ...) go into cell_options. With a file, only the flags
    given on the command line override it; `K=V` options merge key by key.
    """
    flags = {name: kw[name] for name in FLAG_FIELDS}
    options = {
        field: parse_pairs(kw[flag], "--" + flag.replace("_", "-"))
        for field, flag in OPTION_FIELDS.items()
    }
    for name in cell_flags():
        if kw.get(name) is not None:
            options["cell_options"][name] = kw[name]
    if not kw.get("config_file"):
        return RunConfig.from_dict({**flags, **options})
    path = kw["config_file"]
    settings = settings if settings is not None else read_settings(path, f"--config {path}")
    ctx = click.get_current_context(silent=True)
    for name, value in flags.items():
        if was_given(ctx, name):
            settings[name] = value
    for name, given in options.items():
        settings[name] = {**settings.get(name, {}), **given}
    if kw.get("data_changed"):
        settings.pop("data", None)
    return RunConfig.from_dict(settings)


def given_settings(ctx: click.Context) -> list[str]:
    """The run-defining flags the user gave on the command line, as they were spelt."""
    cell = cell_flags()
    return [
        p.opts[0]
        for p in ctx.command.get_params(ctx)
        if (p.name in SETTING_PARAMS or p.name in cell) and was_given(ctx, p.name or "")
    ]


def was_given(ctx: click.Context | None, name: str) -> bool:
    """Whether the user set `name` on the command line (a command without such a flag,
    like `gradients` for the cell, always supplies its own value)."""
    if ctx is None or name not in ctx.params:
        return True
    source = ctx.get_parameter_source(name)
    return source is not None and source != ParameterSource.DEFAULT
