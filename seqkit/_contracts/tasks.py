"""The Task contract's checks: declared sizes, seeded data, probes, the chance level, the
metrics and rules, evaluable options, categorical channels, value ranges, defaults."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from seqkit._contracts.cells import shape_text
from seqkit._contracts.findings import Broken
from seqkit._core.config import FALLBACK, RunConfig
from seqkit._core.errors import SeqkitError
from seqkit._plugins.data_task import DataTask
from seqkit._plugins.objectives import IGNORE
from seqkit._plugins.registry import Entry
from seqkit._plugins.task import IOSpec, Task


# -- task checks --------------------------------------------------------------------------
@dataclass
class TaskSubject:
    entry: Entry
    options: dict[str, Any]
    _task: Any = field(default=None, repr=False)
    _example: Any = field(default=None, repr=False)

    @property
    def task(self) -> Task:
        """The task with the options given; a data-backed task given none of its own
        options is checked on the small example of its data it writes (`DataTask.example`)."""
        if self._task is None:
            self._task = self.entry.factory(**self.options)
            defaults = {k: o.default for k, o in self.entry.options.items()}
            if isinstance(self._task, DataTask) and self.options == defaults:
                self._example = tempfile.TemporaryDirectory(prefix="seqkit-check-")
                given = self._task.example(Path(self._example.name))
                if given is not None:
                    self._task = self.entry.factory(**{**self.options, **given})
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
    if io.input_tokens:
        want_x = (8, io.input_len, 1)
        if x.dtype != torch.int64 or not _fits(tuple(x.shape), want_x):
            raise Broken(
                f"token inputs must be int64 ids (B, T_in, 1) = {_want(want_x)}, "
                f"got {x.dtype} {shape_text(x)}"
            )
        if not bool(((x >= 0) & (x < io.input_size)).all()):
            raise Broken(
                f"token ids must lie in 0..{io.input_size - 1} (input_size), "
                f"got {int(x.min())}..{int(x.max())}"
            )
    else:
        want_x = (8, io.input_len, io.input_size)
        if not x.is_floating_point() or not _fits(tuple(x.shape), want_x):
            raise Broken(
                f"inputs must be float (B, T_in, D) = {_want(want_x)}, "
                f"got {x.dtype} {shape_text(x)}"
            )
    what, want_y = expected_target(task, 8)
    if y.shape[:1] != x.shape[:1]:
        raise Broken(f"generate(8) returned {x.shape[0]} inputs but {y.shape[0]} targets")
    dtype_ok = y.dtype == torch.int64 if task.kind == "classification" else y.is_floating_point()
    if not dtype_ok or not _fits(tuple(y.shape), want_y):
        raise Broken(f"targets must be {what} = {_want(want_y)}, got {y.dtype} {shape_text(y)}")
    scored = task.scored(y)
    if task.kind == "classification" and not bool(
        (((y >= 0) & (y < io.output_size)) | ~scored).all()
    ):
        raise Broken(
            f"class indices must lie in 0..{io.output_size - 1} (output_size), or be "
            f"{IGNORE} (not scored); got {int(y.min())}..{int(y.max())}"
        )
    if task.kind == "binary" and not bool(((y == 0) | (y == 1) | ~scored).all()):
        seen = sorted({float(v) for v in y.unique()[:6]})
        raise Broken(f"binary targets must be 0 or 1, got values {seen}")
    if not task.partial_targets and not bool(scored.all()):
        raise Broken(
            "some targets are not scored (IGNORE or NaN) but the task does not declare "
            "partial_targets = True (truncated BPTT would step on chunks that score nothing)"
        )


def task_same_seed_same_data(s: TaskSubject) -> None:
    (x1, y1), (x2, y2) = s.generate(seed=5), s.generate(seed=5)
    if not (torch.equal(x1, x2) and torch.equal(y1, y2)):
        raise Broken("two generate() calls from generators with the same seed differ")
    x3, _ = s.generate(seed=6)
    if torch.equal(x1, x3):
        raise Broken("generators with different seeds gave the same inputs: is the generator used?")


def task_probes_and_their_answers(s: TaskSubject) -> None:
    task, io = s.task, s.task.io
    p, answer = task.examples()
    want = (None, io.input_len, 1 if io.input_tokens else io.input_size)
    kind_ok = isinstance(p, Tensor) and (
        p.dtype == torch.int64 if io.input_tokens else p.is_floating_point()
    )
    if not kind_ok or not _fits(tuple(p.shape)[1:], want[1:]) or p.dim() != 3:
        got = shape_text(p) if isinstance(p, Tensor) else type(p).__name__
        what = "int64 ids" if io.input_tokens else "float"
        raise Broken(f"probes() must be {what} (P, T_in, D) = (P, {_want(want)[4:]}, got {got}")
    _, want_y = expected_target(task, p.shape[0])
    if not isinstance(answer, Tensor) or not _fits(tuple(answer.shape), want_y):
        got = shape_text(answer) if isinstance(answer, Tensor) else type(answer).__name__
        raise Broken(f"the probes' answers must have the targets' shape {_want(want_y)}, got {got}")


def task_chance_level_is_the_best_blind_loss(s: TaskSubject) -> None:
    task = s.task
    _, y = s.generate(n=4000, seed=11)
    declared = task.chance_loss(y)
    blind = blind_loss(task, y)
    baselines = task.baselines() if isinstance(task, DataTask) else {}
    empirical = min([blind, *baselines.values()])
    if not math.isfinite(declared) or declared < 0:
        raise Broken(f"chance_loss must be a finite loss >= 0, got {declared!r}")
    # The two agree up to sampling error: 10% of the level, or 0.005 absolute near 0.
    if abs(declared - empirical) > max(0.1 * empirical, 0.005):
        best = f"the best input-blind prediction on 4000 sequences scores {blind:.4g}"
        best += "".join(f", {name} {value:.4g}" for name, value in baselines.items())
        raise Broken(f"chance_loss is {declared:.4g}, but {best} (tolerance 10%)")


def blind_loss(task: Task, y: Tensor) -> float:
    """The task's own loss of the best prediction that ignores the input, per position:
    the mean (regression), the class frequencies' logits (classification), the rate's
    logit (binary)."""
    k = task.io.output_size
    mask = task.scored(y).double()
    count = mask.sum(0).clamp_min(1)
    if task.kind == "classification":
        onehot = torch.nn.functional.one_hot(y.clamp_min(0), k).double() * mask.unsqueeze(-1)
        freq = (onehot.sum(0) / count.unsqueeze(-1)).clamp_min(1e-12)
        out = freq.log().float().expand(y.shape[0], *freq.shape)
    else:
        mean = (y.double().nan_to_num() * mask).sum(0) / count
        if task.kind == "binary":
            p = mean.clamp(1e-6, 1 - 1e-6)
            out = (p / (1 - p)).log().float().expand_as(y)
        else:
            out = mean.float().expand_as(y)
    return float(task.loss(out.contiguous(), y))


def _probe_rows(task: Task) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    x, answer = task.examples()
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
