"""The checks `plan()` runs before every run: factories that take their declared options,
and the cheap checks of the task, the cells and the model on the task, on one tiny batch."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._contracts.cells import CELL_CHECKS, CellSubject, shape_text
from seqkit._contracts.findings import ContractError, Finding, require, run_check
from seqkit._contracts.tasks import TASK_CHECKS, TaskSubject
from seqkit._core.errors import SeqkitError
from seqkit._plugins.interfaces import Cell
from seqkit._plugins.registry import Entry
from seqkit._plugins.task import Task


def check_factory(kind: str, entry: Entry, args: tuple[Any, ...], options: dict[str, Any]) -> None:
    """ContractError, before the factory is called, when it cannot take the options its
    plugin declares (`factory(*args, **options)` would raise TypeError)."""
    try:
        signature = inspect.signature(entry.factory)
    except (TypeError, ValueError):  # no signature to read: the call itself will tell
        return
    try:
        signature.bind(*args, **options)
    except TypeError as exc:
        raise ContractError(
            [
                Finding(
                    kind,
                    entry.name,
                    entry.plugin,
                    "accepts_declared_options",
                    False,
                    f"its factory cannot take what the plugin declares ({exc})",
                )
            ]
        ) from None


CHEAP_TASK: tuple[str, ...] = ("io_is_an_iospec", "generates_what_its_io_declares")
CHEAP_TASK += ("probes_and_their_answers", "values_lie_in_their_ranges")
CHEAP_TASK += ("defaults_are_run_settings",)
CHEAP_CELL = ("forward_shapes", "step_shapes", "step_matches_forward", "h_t_comes_from_the_state")
"""What `plan()` checks on every run: milliseconds on one tiny batch."""


def check_task_cheaply(entry: Entry, task: Task) -> None:
    """The task's data, probes and IOSpec agree with each other and with its kind."""
    subject = TaskSubject(entry, {}, task)
    require([run_check("task", entry, name, TASK_CHECKS[name], subject) for name in CHEAP_TASK])


def check_cells_cheaply(entry: Entry, model: nn.Module) -> None:
    """Every cell in a built model: shapes, step against forward, h_t from the state, on
    a batch of 3 sequences of 5 steps (the cells as built, at the run's sizes)."""
    was_training = model.training
    model.eval()
    try:
        for cell in [m for m in model.modules() if isinstance(m, Cell)]:
            subject = CellSubject(entry, {}, cell.input_size, cell.hidden_size, cell)
            findings = [run_check("cell", entry, n, CELL_CHECKS[n], subject) for n in CHEAP_CELL]
            require(findings)
    finally:
        model.train(was_training)


def check_model_on_task(topology: Entry, cell: str, task: Task, model: nn.Module) -> None:
    """The assembled model maps the task's inputs to outputs that fit its targets; any
    failure here, after the cell's own checks passed, is the topology's."""
    g = torch.Generator().manual_seed(0)
    x, y = task.generate(2, g, torch.device("cpu"))
    with torch.no_grad():
        try:
            out = model.eval()(x)
        except SeqkitError:
            raise
        except Exception as exc:
            text = " ".join(str(exc).split()) or type(exc).__name__
            detail = (
                f"with cell '{cell}' on task '{task.name}' it raised {type(exc).__name__}: {text}"
            )
            raise _maps_wrongly(topology, detail) from None
    want = tuple(y.shape) if task.kind != "classification" else (*y.shape, task.io.output_size)
    if not isinstance(out, Tensor) or tuple(out.shape) != want:
        got = shape_text(out) if isinstance(out, Tensor) else type(out).__name__
        detail = (
            f"with cell '{cell}' it maps {shape_text(x)} to {got}; task '{task.name}' "
            f"needs (B, T_out, K) = ({', '.join(map(str, want))})"
        )
        raise _maps_wrongly(topology, detail)


def _maps_wrongly(topology: Entry, detail: str) -> ContractError:
    finding = Finding(
        "topology", topology.name, topology.plugin, "maps_the_task's_inputs", False, detail
    )
    return ContractError([finding])
