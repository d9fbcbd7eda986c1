"""Contract checks: what a cell, task, topology or trainer promises, checked, not trusted.

Each check is one property (in the spirit of scikit-learn's `check_estimator`): a
function of a subject that returns quietly, raises `Broken` with what was expected and
what was seen, or raises `Skipped` when the property does not apply (a bidirectional cell
has no `step`). `plan()` runs the cheap ones (`CHEAP`) on every run, on one tiny batch;
`seqkit check` and `seqkit.testing` run them all.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._core.config import FALLBACK, RunConfig
from seqkit._core.errors import PluginError, SeqkitError
from seqkit._model.assemble import assemble
from seqkit._model.state import rebuild, tensors
from seqkit._plugins.interfaces import (
    Callback,
    Cell,
    ChunkedTopology,
    Data,
    IOSpec,
    Task,
    TrainState,
    missing_cell_members,
)
from seqkit._plugins.registry import Entry, Resolved

CONTRACTS = {"cell": "Cell", "task": "Task", "topology": "Topology", "trainer": "Trainer"}


class Broken(Exception):
    """A check failed: the message says what was expected and what was seen."""


class Skipped(Exception):
    """A check does not apply to this subject; the message says why."""


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: `passed` True, False, or None when it was skipped."""

    kind: str
    name: str
    plugin: str
    check: str
    passed: bool | None
    detail: str = ""

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.passed]
        return f"{mark}  {self.kind} {self.name}: {self.check}" + (
            f": {self.detail}" if self.detail else ""
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "plugin": self.plugin,
            "check": self.check,
            "passed": self.passed,
            "detail": self.detail,
        }


class ContractError(PluginError):
    """A plugin broke its contract. Names the plugin, the entry, the check, what was
    expected and what was seen; `findings` holds every failed check."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        first = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        super().__init__(
            f"{first.kind} '{first.name}' from plugin '{first.plugin}' breaks the "
            f"{CONTRACTS[first.kind]} contract: {first.check}: {first.detail}{more}"
        )


# -- subjects: what the checks look at, built on demand -----------------------------------
B, T, D, H = 3, 5, 4, 6
"""The tiny sizes the checks use unless a run's own are given."""


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """torch's global RNG seeded for a build, and put back afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@dataclass
class CellSubject:
    entry: Entry
    options: dict[str, Any]
    input_size: int = D
    hidden_size: int = H
    _cell: Any = field(default=None, repr=False)

    def build(self, seed: int = 0) -> Any:
        with _seeded(seed):
            return self.entry.factory(self.input_size, self.hidden_size, **self.options)

    @property
    def cell(self) -> Any:
        if self._cell is None:
            self._cell = self.build().eval()
        return self._cell

    def x(self, batch: int = B, steps: int = T, dtype: torch.dtype = torch.float32) -> Tensor:
        g = torch.Generator().manual_seed(7)
        return torch.randn(batch, steps, self.input_size, generator=g, dtype=dtype)

    def unidirectional(self) -> Any:
        cell = self.cell
        if getattr(cell, "num_directions", 1) != 1:
            raise Skipped("a bidirectional cell has no step-by-step form")
        return cell


def _pair(result: Any, method: str) -> tuple[Tensor, Any]:
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Tensor)):
        seen = type(result).__name__ if not isinstance(result, tuple) else f"{len(result)}-tuple"
        raise Broken(f"{method} must return (tensor, state), got a {seen}")
    return result[0], result[1]


def _shape(t: Tensor) -> str:
    return "(" + ", ".join(map(str, t.shape)) + ")"


def _unroll(cell: Any, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
    hs = []
    for x_t in x.unbind(1):
        h, state = _pair(cell.step(x_t, state), "step")
        hs.append(h)
    return torch.stack(hs, dim=1), state


def _close(a: Tensor, b: Tensor, what: str) -> None:
    """Equal to a dtype-aware tolerance: 1e-5 absolute + 1e-4 relative in float32 (and
    lower precisions), 1e-10 + 1e-9 in float64."""
    rtol, atol = (1e-9, 1e-10) if a.dtype == torch.float64 else (1e-4, 1e-5)
    if a.shape != b.shape:
        raise Broken(f"{what}: shapes differ, {_shape(a)} and {_shape(b)}")
    if not torch.allclose(a, b, rtol=rtol, atol=atol):
        diff = float((a - b).abs().max())
        raise Broken(f"{what}: they differ by up to {diff:.3g} (tolerance {atol:g})")


# -- cell checks --------------------------------------------------------------------------
def cell_accepts_declared_options(s: CellSubject) -> None:
    try:
        signature = inspect.signature(s.entry.factory)
    except (TypeError, ValueError):
        raise Skipped("its factory has no inspectable signature") from None
    try:
        signature.bind(s.input_size, s.hidden_size, **s.options)
    except TypeError as exc:
        raise Broken(f"factory(input_size, hidden_size, **declared options) fails: {exc}") from None


def cell_has_the_cell_members(s: CellSubject) -> None:
    cell = s.cell
    if not isinstance(cell, nn.Module):
        raise Broken(f"the factory must return a torch.nn.Module, got {type(cell).__name__}")
    missing = missing_cell_members(cell)
    if missing:
        raise Broken(f"missing {', '.join(missing)}")
    if not (isinstance(cell.output_size, int) and cell.output_size > 0):
        raise Broken(f"output_size must be a positive int, got {cell.output_size!r}")


def _require_shape(got: Tensor, want: tuple[int, ...], returned: str, named: str) -> None:
    if tuple(got.shape) != want:
        raise Broken(f"{returned} {_shape(got)}, expected {named} = ({', '.join(map(str, want))})")


def cell_forward_shapes(s: CellSubject) -> None:
    cell, x = s.cell, s.x()
    out, _ = _pair(cell(x), "forward")
    want = (x.shape[0], x.shape[1], cell.output_size)
    _require_shape(out, want, f"forward(x {_shape(x)}) returned outputs", "(B, T, output_size)")


def cell_step_shapes(s: CellSubject) -> None:
    cell, x = s.unidirectional(), s.x()
    h, _ = _pair(cell.step(x[:, 0], None), "step")
    want = (x.shape[0], cell.output_size)
    _require_shape(h, want, f"step(x_t {_shape(x[:, 0])}) returned h_t", "(B, output_size)")


def cell_step_matches_forward(s: CellSubject) -> None:
    cell, x = s.unidirectional(), s.x()
    with torch.no_grad():
        _close(_unroll(cell, x)[0], cell(x)[0], "step unrolled over T vs forward, from zero")


def cell_step_matches_forward_from_a_state(s: CellSubject) -> None:
    cell, x = s.unidirectional(), s.x()
    with torch.no_grad():
        _, state = cell(x[:, :2])
        _close(_unroll(cell, x, state)[0], cell(x, state)[0], "from a given state")


def cell_state_carries_over(s: CellSubject) -> None:
    cell, x = s.unidirectional(), s.x()
    with torch.no_grad():
        first, state = cell(x[:, :2])
        rest, _ = cell(x[:, 2:], state)
        _close(torch.cat([first, rest], dim=1), cell(x)[0], "two halves with the carried state")


def cell_h_t_comes_from_the_state(s: CellSubject) -> None:
    cell, x = s.unidirectional(), s.x()
    with torch.no_grad():
        _, state = cell(x[:, :2])
    leaves = [t.detach().clone().requires_grad_(True) for t in tensors(state)]
    if not leaves:
        raise Broken("forward returned a state with no tensors")
    h, _ = _pair(cell.step(x[:, 2], rebuild(state, iter(leaves))), "step")
    if not h.requires_grad:
        raise Broken("step returned an h_t detached from the previous state (no gradient)")
    grads = torch.autograd.grad(h.sum(), leaves, allow_unused=True)
    if all(g is None or not bool(g.any()) for g in grads):
        raise Broken("no gradient flows from h_t back to the previous state")


def cell_batch_elements_are_independent(s: CellSubject) -> None:
    cell, x = s.cell, s.x()
    other = x.clone()
    other[1:] = -3 * x[1:] + 1
    with torch.no_grad():
        _close(cell(other)[0][0], cell(x)[0][0], "sequence 0's outputs when the others change")


def cell_converts_dtype(s: CellSubject) -> None:
    cell = s.build().eval().to(torch.float64)
    x = s.x(dtype=torch.float64)
    out, _ = _pair(cell(x), "forward")
    if out.dtype != torch.float64:
        raise Broken(f"after .to(torch.float64) forward returned {out.dtype}")
    if torch.cuda.is_available():
        out, _ = cell.to("cuda")(x.cuda())
        if out.device.type != "cuda":
            raise Broken(f"after .to('cuda') forward returned a tensor on {out.device}")


def cell_same_seed_same_parameters(s: CellSubject) -> None:
    a, b = s.build(seed=3).state_dict(), s.build(seed=3).state_dict()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    if differ:
        raise Broken(f"two builds under the same torch seed differ in {', '.join(differ)}")


CELL_CHECKS: dict[str, Callable[[Any], None]] = {
    "accepts_declared_options": cell_accepts_declared_options,
    "has_the_cell_members": cell_has_the_cell_members,
    "forward_shapes": cell_forward_shapes,
    "step_shapes": cell_step_shapes,
    "step_matches_forward": cell_step_matches_forward,
    "step_matches_forward_from_a_state": cell_step_matches_forward_from_a_state,
    "state_carries_over": cell_state_carries_over,
    "h_t_comes_from_the_state": cell_h_t_comes_from_the_state,
    "batch_elements_are_independent": cell_batch_elements_are_independent,
    "converts_dtype": cell_converts_dtype,
    "same_seed_same_parameters": cell_same_seed_same_parameters,
}


# -- task checks --------------------------------------------------------------------------
@dataclass
class TaskSubject:
    entry: Entry
    options: dict[str, Any]
    _task: Any = field(default=None, repr=False)

    @property
    def task(self) -> Task:
        if self._task is None:
            self._task = self.entry.factory(**self.options)
        task: Task = self._task
        return task

    def generate(self, n: int = 8, seed: int = 0) -> tuple[Tensor, Tensor]:
        g = torch.Generator().manual_seed(seed)
        result = self.task.generate(n, g, torch.device("cpu"))
        if not (isinstance(result, tuple) and len(result) == 2):
            raise Broken("generate must return (inputs, targets)")
        return result


def task_io_is_an_iospec(s: TaskSubject) -> None:
    io = s.task.io
    if not isinstance(io, IOSpec):
        raise Broken(f"io must be an IOSpec, got {type(io).__name__}")
    sizes = {"input_size": io.input_size, "output_size": io.output_size}
    lengths = {"input_len": io.input_len, "output_len": io.output_len}
    bad = [f"{k}={v!r}" for k, v in sizes.items() if not (isinstance(v, int) and v > 0)]
    bad += [
        f"{k}={v!r}"
        for k, v in lengths.items()
        if v is not None and not (isinstance(v, int) and v > 0)
    ]
    if bad:
        raise Broken(
            f"io sizes and lengths must be positive ints (lengths may be None): {', '.join(bad)}"
        )


def expected_target(task: Task, n: int) -> tuple[str, tuple[int | None, ...]]:
    """What targets look like by the task's kind and IOSpec: a description and a shape."""
    io = task.io
    if task.kind == "classification":
        return "int64 class indices (B, T_out)", (n, io.output_len)
    return f"float {task.kind} targets (B, T_out, K)", (n, io.output_len, io.output_size)


def _fits(shape: tuple[int, ...], want: tuple[int | None, ...]) -> bool:
    return len(shape) == len(want) and all(
        w is None or s == w for s, w in zip(shape, want, strict=True)
    )


def _want(want: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("T" if w is None else str(w) for w in want) + ")"


def task_generates_what_its_io_declares(s: TaskSubject) -> None:
    task = s.task
    io, (x, y) = task.io, s.generate()
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise Broken("generate must return two tensors")
    want_x = (8, io.input_len, io.input_size)
    if not x.is_floating_point() or not _fits(tuple(x.shape), want_x):
        raise Broken(
            f"inputs must be float (B, T_in, D) = {_want(want_x)}, got {x.dtype} {_shape(x)}"
        )
    what, want_y = expected_target(task, 8)
    if y.shape[:1] != x.shape[:1]:
        raise Broken(f"generate(8) returned {x.shape[0]} inputs but {y.shape[0]} targets")
    dtype_ok = y.dtype == torch.int64 if task.kind == "classification" else y.is_floating_point()
    if not dtype_ok or not _fits(tuple(y.shape), want_y):
        raise Broken(f"targets must be {what} = {_want(want_y)}, got {y.dtype} {_shape(y)}")
    if task.kind == "classification" and not bool(((y >= 0) & (y < io.output_size)).all()):
        raise Broken(
            f"class indices must lie in 0..{io.output_size - 1} (output_size), "
            f"got {int(y.min())}..{int(y.max())}"
        )
    if task.kind == "binary" and not bool(((y == 0) | (y == 1)).all()):
        seen = sorted({float(v) for v in y.unique()[:6]})
        raise Broken(f"binary targets must be 0 or 1, got values {seen}")


def task_same_seed_same_data(s: TaskSubject) -> None:
    (x1, y1), (x2, y2) = s.generate(seed=5), s.generate(seed=5)
    if not (torch.equal(x1, x2) and torch.equal(y1, y2)):
        raise Broken("two generate() calls from generators with the same seed differ")
    x3, _ = s.generate(seed=6)
    if torch.equal(x1, x3):
        raise Broken("generators with different seeds gave the same inputs: is the generator used?")


def task_probes_and_their_answers(s: TaskSubject) -> None:
    task, io = s.task, s.task.io
    p = task.probes()
    want = (None, io.input_len, io.input_size)
    if (
        not isinstance(p, Tensor)
        or not p.is_floating_point()
        or not _fits(tuple(p.shape)[1:], want[1:])
        or p.dim() != 3
    ):
        got = _shape(p) if isinstance(p, Tensor) else type(p).__name__
        raise Broken(f"probes() must be float (P, T_in, D) = (P, {_want(want)[4:]}, got {got}")
    answer = task.targets(p)
    _, want_y = expected_target(task, p.shape[0])
    if not _fits(tuple(answer.shape), want_y):
        raise Broken(
            f"targets(probes()) must have the targets' shape {_want(want_y)}, got {_shape(answer)}"
        )


def task_chance_level_is_the_best_blind_loss(s: TaskSubject) -> None:
    task = s.task
    _, y = s.generate(n=4000, seed=11)
    declared = task.chance_loss(y)
    empirical = blind_loss(task, y)
    if not math.isfinite(declared) or declared < 0:
        raise Broken(f"chance_loss must be a finite loss >= 0, got {declared!r}")
    # The two agree up to sampling error: 10% of the level, or 0.005 absolute near 0.
    if abs(declared - empirical) > max(0.1 * empirical, 0.005):
        raise Broken(
            f"chance_loss is {declared:.4g}, but the best input-blind prediction on 4000 "
            f"fresh sequences scores {empirical:.4g} (tolerance 10%)"
        )


def blind_loss(task: Task, y: Tensor) -> float:
    """The task's own loss of the best prediction that ignores the input, per position:
    the mean (regression), the class frequencies' logits (classification), the rate's
    logit (binary)."""
    k = task.io.output_size
    if task.kind == "classification":
        freq = torch.nn.functional.one_hot(y, k).double().mean(0).clamp_min(1e-12)
        out = freq.log().float().expand(y.shape[0], *freq.shape)
    elif task.kind == "binary":
        p = y.double().mean(0).clamp(1e-6, 1 - 1e-6)
        out = (p / (1 - p)).log().float().expand_as(y)
    else:
        out = y.mean(0, keepdim=True).expand_as(y)
    return float(task.loss(out.contiguous(), y))


def _probe_rows(task: Task) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    x = task.probes()
    answer = task.targets(x)
    out = torch.zeros(x.shape[0], task.io.output_len or answer.shape[1], task.io.output_size)
    pred = task.predict(out)
    for i in range(x.shape[0]):
        yield x[i], pred[i], answer[i]


def task_prints_and_judges_examples(s: TaskSubject) -> None:
    task = s.task
    for x, pred, answer in _probe_rows(task):
        line = task.format_example(x, pred, answer)
        if not isinstance(line, str):
            raise Broken(f"format_example must return a str, got {type(line).__name__}")
        verdict = task.is_correct(pred, answer)
        if verdict is not None and not isinstance(verdict, bool):
            raise Broken(f"is_correct must return a bool or None, got {type(verdict).__name__}")


def task_metrics_and_rules_fit(s: TaskSubject) -> None:
    task = s.task
    _, y = s.generate()
    out = torch.zeros(*y.shape[:2], task.io.output_size)
    values = {"loss": task.loss(out, y), **task.metrics(out, y)}
    bad = [k for k, v in values.items() if not (isinstance(v, Tensor) and v.dim() == 0)]
    if bad:
        raise Broken(f"loss and metrics must be 0-dim tensors: {', '.join(bad)} are not")
    metrics = {f"val_{k}": float(v) for k, v in values.items()}
    metrics |= {f"train_{k}": v for k, v in metrics.items()}
    if f"val_{task.main_metric}" not in metrics:
        raise Broken(
            f"headline metric '{task.main_metric}' is not one of metrics(): {', '.join(values)}"
        )
    try:
        solved = task.solved(metrics)
    except KeyError as exc:
        raise Broken(f"solved() reads {exc}, which metrics() does not provide") from None
    if solved is not None and not isinstance(solved, bool):
        raise Broken(f"solved must return a bool or None, got {type(solved).__name__}")


def task_evaluable_options_are_declared(s: TaskSubject) -> None:
    """Each option it lets differ at evaluation (`evaluable`) is one it declares."""
    evaluable = getattr(s.task, "evaluable", ())
    if not isinstance(evaluable, tuple | list) or not all(isinstance(k, str) for k in evaluable):
        raise Broken(f"evaluable must be a tuple of option names (got {evaluable!r})")
    unknown = [k for k in evaluable if k not in s.entry.options]
    if unknown:
        raise Broken(
            f"evaluable names {', '.join(unknown)}, which it does not declare as options "
            f"(declared: {', '.join(s.entry.options) or 'none'})"
        )


def task_categorical_inputs_are_channels(s: TaskSubject) -> None:
    """`categorical_inputs` is "all" or input channel indices within the input size."""
    declared = getattr(s.task, "categorical_inputs", ())
    if declared == "all":
        return
    size = s.task.io.input_size
    if not isinstance(declared, tuple | list) or not all(
        isinstance(c, int) and 0 <= c < size for c in declared
    ):
        raise Broken(
            f'categorical_inputs must be "all" or channel indices 0..{size - 1} (got {declared!r})'
        )


def task_values_lie_in_their_ranges(s: TaskSubject) -> None:
    """`ranges` names the loss or metrics, as (low, high) pairs, and the finite loss and
    metrics of blind and random outputs lie in `value_range` (intervals over seeds are cut
    to it)."""
    task = s.task
    _, y = s.generate()
    g = torch.Generator().manual_seed(0)
    outputs = [torch.zeros(*y.shape[:2], task.io.output_size)]
    outputs.append(3 * torch.randn(*outputs[0].shape, generator=g))
    values = [{"loss": task.loss(out, y), **task.metrics(out, y)} for out in outputs]
    declared = getattr(task, "ranges", {})
    if not isinstance(declared, Mapping):
        raise Broken(f"ranges must map loss and metric names to (low, high) (got {declared!r})")
    for name, pair in declared.items():
        if name not in values[0]:
            known = ", ".join(values[0])
            raise Broken(f"ranges names '{name}', which is not the loss or a metric ({known})")
        if not (
            isinstance(pair, tuple | list)
            and len(pair) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
            and pair[0] <= pair[1]
        ):
            raise Broken(
                f"ranges['{name}'] must be (low, high) numbers with low <= high, math.inf "
                f"for an open end (got {pair!r})"
            )
    for found in values:
        for name, value in found.items():
            low, high = task.value_range(name)
            # a metric undefined on these outputs (0/0 as NaN) says nothing of its range
            if math.isfinite(float(value)) and not low <= float(value) <= high:
                raise Broken(
                    f"{name} is {float(value):.4g}, outside the range [{low}, {high}] it is "
                    f"said to lie in: declare its range in ranges (math.inf for an open end)"
                )


def task_defaults_are_run_settings(s: TaskSubject) -> None:
    """`defaults` maps run settings seqkit lets a task choose to values a run accepts."""
    defaults = getattr(s.task, "defaults", {})
    if not isinstance(defaults, Mapping):
        raise Broken(f"defaults must map run settings to values (got {defaults!r})")
    unknown = [k for k in defaults if k not in FALLBACK]
    if unknown:
        raise Broken(
            f"defaults names '{unknown[0]}', which a task cannot choose "
            f"(it can choose {', '.join(FALLBACK)})"
        )
    try:
        RunConfig(task=s.entry.name, cell="-", **defaults).validate()
    except SeqkitError as exc:
        raise Broken(f"its defaults are not a run's settings: {exc}") from None


TASK_CHECKS: dict[str, Callable[[Any], None]] = {
    "io_is_an_iospec": task_io_is_an_iospec,
    "generates_what_its_io_declares": task_generates_what_its_io_declares,
    "same_seed_same_data": task_same_seed_same_data,
    "probes_and_their_answers": task_probes_and_their_answers,
    "chance_level_is_the_best_blind_loss": task_chance_level_is_the_best_blind_loss,
    "prints_and_judges_examples": task_prints_and_judges_examples,
    "metrics_and_rules_fit": task_metrics_and_rules_fit,
    "evaluable_options_are_declared": task_evaluable_options_are_declared,
    "categorical_inputs_are_channels": task_categorical_inputs_are_channels,
    "values_lie_in_their_ranges": task_values_lie_in_their_ranges,
    "defaults_are_run_settings": task_defaults_are_run_settings,
}


# -- topology checks: every registered cell through it ---------------------------------------
IO_CASES = [
    IOSpec(2, 3, 1, 1),
    IOSpec(2, 3, 1, 4),
    IOSpec(2, 3, 5, 1),
    IOSpec(2, 3, 5, 5),
    IOSpec(2, 3, 5, 4),
]
"""Shapes a topology is tried on: it serves those it does not refuse with ConfigError."""


@dataclass
class TopologySubject:
    entry: Entry
    options: dict[str, Any]
    cells: list[Entry]


def topology_maps_the_shapes_it_serves(s: TopologySubject) -> None:
    served = 0
    for io in IO_CASES:
        for cell in s.cells:
            model = _topology_model(s, cell, io)
            if model is None:
                continue
            served += 1
            x = torch.randn(2, io.input_len or 1, io.input_size)
            out = model.eval()(x)
            want = (2, io.output_len, io.output_size)
            if not isinstance(out, Tensor) or tuple(out.shape) != want:
                got = _shape(out) if isinstance(out, Tensor) else type(out).__name__
                raise Broken(
                    f"with cell '{cell.name}' it maps {_shape(x)} to {got}, expected "
                    f"(B, T_out, K) = ({', '.join(map(str, want))}) for {io}"
                )
    if not served:
        raise Broken("it served none of the shapes tried (each refused with ConfigError)")


def _topology_model(s: TopologySubject, cell: Entry, io: IOSpec) -> nn.Module | None:
    cell_part = Resolved(cell, {k: o.default for k, o in cell.options.items()})
    try:
        return assemble(cell_part, Resolved(s.entry, s.options), io, 4)
    except SeqkitError:  # cannot serve this io, or this cell (a bidirectional one unrolled)
        return None


def topology_chunks_equal_one_pass(s: TopologySubject) -> None:
    served = False
    for io in IO_CASES:
        for cell in s.cells:
            model = _topology_model(s, cell, io)
            if not isinstance(model, ChunkedTopology) or model.chunk_targets is None:
                continue
            if io.input_len == 1:  # one step cannot be split into chunks
                continue
            served = True
            m: Any = model.eval()
            x = torch.randn(2, 5, io.input_size)
            with torch.no_grad():
                full = m(x)
                a, state = m.forward_chunk(x[:, :2], None)
                b, _ = m.forward_chunk(x[:, 2:], state)
            pieces = torch.cat([a, b], dim=1) if m.chunk_targets == "aligned" else b
            _close(
                pieces, full, f"with cell '{cell.name}', forward_chunk over two chunks vs forward"
            )
    if not served:
        raise Skipped("it does not offer ChunkedTopology (truncated BPTT)")


TOPOLOGY_CHECKS: dict[str, Callable[[Any], None]] = {
    "maps_the_shapes_it_serves": topology_maps_the_shapes_it_serves,
    "chunks_equal_one_pass": topology_chunks_equal_one_pass,
}


# -- trainer checks: a tiny task, learned --------------------------------------------------------
class _MeanTask(Task):
    """The trainer checks' task: the mean of 4 numbers (regression, many-to-one)."""

    name = "mean-of-four"
    fresh_data = False

    @property
    def io(self) -> IOSpec:
        return IOSpec(1, 1, 4, 1)

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        return torch.randn(n, 4, 1, generator=generator, device=device)

    def targets(self, x: Tensor) -> Tensor:
        return x.mean(dim=1, keepdim=True)


class _LinearReader(nn.Module):
    """A minimal model for the trainer checks: a GRU and a head, `(B, 4, 1) -> (B, 1, 1)`."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(1, 8, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1:])


class _Recorder(Callback):
    def __init__(self, stop_at: int | None = None) -> None:
        self.events: list[str] = []
        self.stop_at = stop_at

    def on_fit_start(self, state: TrainState) -> None:
        self.events.append("fit_start")

    def on_epoch_start(self, state: TrainState) -> None:
        self.events.append("epoch_start")

    def on_step_end(self, state: TrainState) -> None:
        self.events.append("step")

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        self.events.append("epoch_end")
        if self.stop_at is not None and state.epoch >= self.stop_at:
            state.stop = "the check's callback stopped it"

    def on_fit_end(self, state: TrainState) -> None:
        self.events.append("fit_end")


@dataclass
class TrainerSubject:
    entry: Entry
    options: dict[str, Any]

    def fit(
        self, epochs: int, callbacks: list[Callback], schedule: str = "constant"
    ) -> tuple[Any, Data, Task]:
        task = _MeanTask(num_samples=256, val_samples=128)
        g = torch.Generator().manual_seed(0)
        data = Data(
            *task.generate(256, g, torch.device("cpu")), *task.generate(128, g, torch.device("cpu"))
        )
        config = RunConfig(
            task=task.name,
            cell="gru-in-the-check",
            topology="many-to-one-in-the-check",
            trainer=self.entry.name,
            hidden_size=8,
            epochs=epochs,
            lr=3e-2,
            batch_size=32,
            optimizer="adam",
            lr_schedule=schedule,
            device="cpu",
        )
        with _seeded(0):
            model = _LinearReader()
        trainer = self.entry.factory(**self.options)
        history = trainer.fit(model, data, task, config, callbacks)
        return history, data, task


EPOCHS = 40
"""The trainer checks' budget: 40 epochs of 256 sequences (320 steps in batches of 32,
40 in full batches), at lr 0.03 with Adam."""


def trainer_reduces_the_loss(s: TrainerSubject) -> None:
    history, data, task = s.fit(EPOCHS, [])
    chance = task.chance_loss(data.train_y)
    last = history.last.get("val_loss")
    if last is None or not last < 0.2 * chance:
        raise Broken(
            f"after {EPOCHS} epochs on the mean of 4 numbers the validation loss is {last}, "
            f"not below 20% of chance ({chance:.3g})"
        )


def trainer_honours_the_events(s: TrainerSubject) -> None:
    recorder = _Recorder(stop_at=2)
    history, _, _ = s.fit(5, [recorder])
    e = recorder.events
    if e[:1] != ["fit_start"] or e[-1:] != ["fit_end"]:
        raise Broken(
            f"events must start with on_fit_start and end with on_fit_end, got {e[:1]}..{e[-1:]}"
        )
    if e.count("epoch_end") != 2 or len(history.epochs) != 2:
        raise Broken(
            f"a callback set state.stop after epoch 2 of 5: expected 2 epochs, got "
            f"{e.count('epoch_end')} epoch ends and {len(history.epochs)} records"
        )
    if e.count("step") < 2 or e.count("epoch_start") != 2:
        raise Broken("on_epoch_start and on_step_end must be called for every epoch and step")


class _Rates(Callback):
    """At every step's end: the learning rates the optimizer used and those the state's
    schedule says it set."""

    def __init__(self) -> None:
        self.seen: list[tuple[list[float], list[float] | None]] = []

    def on_step_end(self, state: TrainState) -> None:
        used = [float(g["lr"]) for g in state.optimizer.param_groups]
        schedule = state.schedule
        said = [float(r) for r in schedule.get_last_lr()] if schedule is not None else None
        self.seen.append((used, said))


def trainer_runs_the_schedule_it_holds(s: TrainerSubject) -> None:
    """The schedule in `state.schedule` is the one that moves the optimizer's learning
    rate: a trainer that sets its own in `setup` must not leave the loop stepping another
    (on a cosine schedule every step changes the rate, so a stale one shows at once)."""
    rates = _Rates()
    s.fit(2, [rates], schedule="cosine")
    if not rates.seen:
        raise Broken("no step ended: on_step_end was never called")
    for i, (used, said) in enumerate(rates.seen, 1):
        if said is not None and not all(
            math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-15)
            for u, v in zip(used, said, strict=False)
        ):
            raise Broken(
                f"after step {i} the optimizer's learning rate is {used[0]:.6g} but "
                f"state.schedule set {said[0]:.6g}: the loop steps another schedule than "
                "the one the trainer holds"
            )


TRAINER_CHECKS: dict[str, Callable[[Any], None]] = {
    "reduces_the_loss": trainer_reduces_the_loss,
    "honours_the_events": trainer_honours_the_events,
    "runs_the_schedule_it_holds": trainer_runs_the_schedule_it_holds,
}


# -- running checks -----------------------------------------------------------------------
def run_check(
    kind: str, entry: Entry, check: str, fn: Callable[[Any], None], subject: Any
) -> Finding:
    """One check's Finding; an exception other than Broken/Skipped is a failure too."""
    try:
        fn(subject)
    except Broken as exc:
        return Finding(kind, entry.name, entry.plugin, check, False, str(exc))
    except Skipped as exc:
        return Finding(kind, entry.name, entry.plugin, check, None, str(exc))
    except SeqkitError as exc:
        return Finding(kind, entry.name, entry.plugin, check, False, str(exc))
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return Finding(
            kind, entry.name, entry.plugin, check, False, f"raised {type(exc).__name__}: {text}"
        )
    return Finding(kind, entry.name, entry.plugin, check, True)


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


def require(findings: list[Finding]) -> None:
    """Raise ContractError if any finding failed."""
    failed = [f for f in findings if f.passed is False]
    if failed:
        raise ContractError(failed)


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
            raise ContractError(
                [
                    Finding(
                        "topology",
                        topology.name,
                        topology.plugin,
                        "maps_the_task's_inputs",
                        False,
                        f"with cell '{cell}' on task '{task.name}' it raised "
                        f"{type(exc).__name__}: {text}",
                    )
                ]
            ) from None
    want = tuple(y.shape) if task.kind != "classification" else (*y.shape, task.io.output_size)
    if not isinstance(out, Tensor) or tuple(out.shape) != want:
        got = _shape(out) if isinstance(out, Tensor) else type(out).__name__
        raise ContractError(
            [
                Finding(
                    "topology",
                    topology.name,
                    topology.plugin,
                    "maps_the_task's_inputs",
                    False,
                    f"with cell '{cell}' it maps {_shape(x)} to {got}; task '{task.name}' "
                    f"needs (B, T_out, K) = ({', '.join(map(str, want))})",
                )
            ]
        )
