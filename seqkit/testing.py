"""Contract checks for plugin authors: run seqkit's checks in your own test suite.

Every check is one property of the contract (as scikit-learn's `check_estimator`), usable
as its own pytest case::

    import pytest
    import seqkit.testing

    @pytest.mark.parametrize("check", seqkit.testing.cell_checks("mingru"), ids=str)
    def test_mingru_keeps_the_cell_contract(check):
        check()  # raises seqkit.testing.ContractError naming what was expected and seen

or all at once: `seqkit.testing.check_cell("mingru", num_layers=2)` returns the findings,
and raises one ContractError if any check failed. `seqkit check NAME` runs the same
checks from the command line. `check_exportable("mingru", "onnx")` is the optional
check that a cell exports as `seqkit export` does it. A name is looked up in the registry
of installed plugins (or `registry=`); a cell may also be given as its factory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seqkit._contracts.cells import CELL_CHECKS, CellSubject
from seqkit._contracts.findings import ContractError, Finding, require, run_check
from seqkit._contracts.tasks import TASK_CHECKS, TaskSubject
from seqkit._contracts.topologies import TOPOLOGY_CHECKS, TopologySubject
from seqkit._contracts.trainers import TRAINER_CHECKS, TrainerSubject
from seqkit._core.options import resolve_options
from seqkit._plugins.registry import Entry, Registry, get_registry
from seqkit._study.checks import EXECUTOR_CHECKS, SUITE_CHECKS, ExecutorSubject, SuiteSubject

__all__ = [
    "Check",
    "ContractError",
    "Finding",
    "cell_checks",
    "check",
    "check_cell",
    "check_exportable",
    "check_task",
    "check_topology",
    "check_trainer",
    "executor_checks",
    "exportable_checks",
    "suite_checks",
    "task_checks",
    "topology_checks",
    "trainer_checks",
]


@dataclass(frozen=True)
class Check:
    """One contract check of one registered thing; call it to run it.

    `run()` returns the Finding; calling the check raises ContractError if it failed
    (what a pytest case wants). `str(check)` is `kind:name:check`, a test id."""

    kind: str
    entry: Entry
    name: str
    fn: Callable[[Any], None]
    subject: Any

    def run(self) -> Finding:
        return run_check(self.kind, self.entry, self.name, self.fn, self.subject)

    def __call__(self) -> Finding:
        finding = self.run()
        require([finding])
        return finding

    def __str__(self) -> str:
        return f"{self.kind}:{self.entry.name}:{self.name}"


def _entry(kind: str, name_or_factory: Any, registry: Registry | None) -> Entry:
    if isinstance(name_or_factory, str):
        return (registry or get_registry()).get(kind, name_or_factory)
    name = getattr(name_or_factory, "__name__", type(name_or_factory).__name__)
    return Entry(kind, name, name_or_factory, "", "(not registered)", None)


def _checks(
    kind: str, table: dict[str, Callable[[Any], None]], entry: Entry, subject: Any
) -> list[Check]:
    return [Check(kind, entry, name, fn, subject) for name, fn in table.items()]


def cell_checks(
    cell: str | Callable[..., Any], *, registry: Registry | None = None, **options: Any
) -> list[Check]:
    """The Cell contract's checks for `cell` with `options` (the rest defaulted): forward
    and step shapes, step unrolled equals forward (from zero and from a state), the state
    carries over, h_t comes from the state, batch independence, dtype, seeding, options."""
    entry = _entry("cell", cell, registry)
    resolved = _resolved(entry, options)
    return _checks("cell", CELL_CHECKS, entry, CellSubject(entry, resolved))


def task_checks(task: str, *, registry: Registry | None = None, **options: Any) -> list[Check]:
    """The Task contract's checks: generated shapes, dtypes and label domains against the
    IOSpec and kind, seeding, probes, the chance level against the best input-blind loss
    on 4000 fresh sequences (within 10%), examples, metrics and the solved rule."""
    entry = _entry("task", task, registry)
    return _checks("task", TASK_CHECKS, entry, TaskSubject(entry, _resolved(entry, options)))


def topology_checks(
    topology: str, *, registry: Registry | None = None, **options: Any
) -> list[Check]:
    """The Topology contract's checks, with every registered cell: the output shape of
    every input/output shape it serves, and chunks equal one pass (truncated BPTT)."""
    registry = registry or get_registry()
    entry = _entry("topology", topology, registry)
    subject = TopologySubject(entry, _resolved(entry, options), registry.entries("cell"))
    return _checks("topology", TOPOLOGY_CHECKS, entry, subject)


def trainer_checks(
    trainer: str, *, registry: Registry | None = None, **options: Any
) -> list[Check]:
    """The Trainer contract's checks: it learns a tiny task (the mean of 4 numbers) to
    below 20% of chance in 40 epochs, calls every event, honouring `state.stop`, and steps
    the schedule it holds in `state.schedule` (the one it may set in `setup`)."""
    entry = _entry("trainer", trainer, registry)
    return _checks(
        "trainer", TRAINER_CHECKS, entry, TrainerSubject(entry, _resolved(entry, options))
    )


def _resolved(entry: Entry, options: dict[str, Any]) -> dict[str, Any]:

    return resolve_options(f"{entry.kind} '{entry.name}'", entry.options, options)


def executor_checks(
    executor: str, *, registry: Registry | None = None, **options: Any
) -> list[Check]:
    """The Executor contract's checks: `map` yields every item's index once with its
    result, a raising call's exception in its place, with one job and with two."""

    entry = _entry("executor", executor, registry)
    subject = ExecutorSubject(entry, _resolved(entry, options))
    return _checks("executor", EXECUTOR_CHECKS, entry, subject)


def suite_checks(suite: str, *, registry: Registry | None = None) -> list[Check]:
    """The Suite contract's checks: a Suite of uniquely named entries, each a valid run."""

    registry = registry or get_registry()
    entry = _entry("suite", suite, registry)
    return _checks("suite", SUITE_CHECKS, entry, SuiteSubject(entry, registry))


CHECKS_BY_KIND: dict[str, Callable[..., list[Check]]] = {
    "cell": cell_checks,
    "task": task_checks,
    "topology": topology_checks,
    "trainer": trainer_checks,
    "executor": executor_checks,
    "suite": suite_checks,
}


def check(
    kind: str, name: str, *, registry: Registry | None = None, **options: Any
) -> list[Finding]:
    """Run every check of `kind` for `name`; the findings, or ContractError if any failed."""
    findings = [c.run() for c in CHECKS_BY_KIND[kind](name, registry=registry, **options)]
    require(findings)
    return findings


def check_cell(cell: str | Callable[..., Any], **options: Any) -> list[Finding]:
    """Every Cell check (see `cell_checks`); ContractError if any failed."""
    findings = [c.run() for c in cell_checks(cell, **options)]
    require(findings)
    return findings


def check_task(task: str, **options: Any) -> list[Finding]:
    """Every Task check (see `task_checks`); ContractError if any failed."""
    return check("task", task, **options)


def check_topology(topology: str, **options: Any) -> list[Finding]:
    """Every Topology check (see `topology_checks`); ContractError if any failed."""
    return check("topology", topology, **options)


def check_trainer(trainer: str, **options: Any) -> list[Finding]:
    """Every Trainer check (see `trainer_checks`); ContractError if any failed."""
    return check("trainer", trainer, **options)


READOUTS = ("last_step", "every_step")
"""How `exportable_checks` reads a cell out: a linear layer on its outputs at the last
step, and at every step (its whole-sequence forward, as a topology calls it)."""


@dataclass
class ExportSubject:
    entry: Entry
    options: dict[str, Any]
    format: str
    readout: str


def _readout_model(cell: Any, readout: str) -> Any:
    from torch import nn

    class ReadOut(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cell, self.head = cell, nn.Linear(cell.output_size, 3)

        def forward(self, x: Any) -> Any:
            out, _ = self.cell(x)
            return self.head(out[:, -1:] if readout == "last_step" else out)

    return ReadOut()


def _exports(subject: ExportSubject) -> None:
    import torch

    from seqkit._run.export import export_model, require_onnx

    if subject.format == "onnx":
        require_onnx()
    steps = 6
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        cell = subject.entry.factory(2, 8, **subject.options)
        model = _readout_model(cell, subject.readout).eval()
    g = torch.Generator().manual_seed(7)
    x = torch.randn(3, steps, 2, generator=g)
    batches = [
        ("probes", x),
        ("batch", torch.randn(5, steps, 2, generator=g)),
        ("length", torch.cat([x, x], dim=1)[:, : steps + steps // 2]),
    ]
    what = f"cell '{subject.entry.name}' (read out at the {subject.readout.replace('_', ' ')})"
    export_model(model, subject.format, batches, what)


def exportable_checks(
    cell: str | Callable[..., Any],
    format: str = "onnx",
    *,
    registry: Registry | None = None,
    **options: Any,
) -> list[Check]:
    """The optional export checks for `cell` with `options`: read out by a linear layer
    at its last step and at every step (input size 2, hidden 8), it exports to `format`
    ("onnx", which needs `seqkit[export]`, or "torchscript") as `seqkit export` does,
    and the exported file's outputs match torch's on three batches (another batch size,
    another length) within the export tolerance. A failure names the operation that
    would not export, or the difference and the line that left the trace."""
    if format not in ("onnx", "torchscript"):
        raise ValueError(f"format must be 'onnx' or 'torchscript' (got {format!r})")
    entry = _entry("cell", cell, registry)
    resolved = _resolved(entry, options)
    return [
        Check(
            "cell",
            entry,
            f"exports_to_{format}_{readout}",
            _exports,
            ExportSubject(entry, resolved, format, readout),
        )
        for readout in READOUTS
    ]


def check_exportable(
    cell: str | Callable[..., Any], format: str = "onnx", **options: Any
) -> list[Finding]:
    """Every export check of `cell` (see `exportable_checks`); ContractError if any failed."""
    findings = [c.run() for c in exportable_checks(cell, format, **options)]
    require(findings)
    return findings
