"""The classic long-range memory tasks, each with its chance baseline and success rule.

Recipes follow the papers and the authors' code (see docs/gradients.md): every sequence
length and size is an option, data are generated vectorised on the device from the
run's seed, and training data are drawn fresh every epoch, as Hochreiter, Pascanu and
Arjovsky do, so a network cannot memorise a fixed set.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from seqkit_plugins.tasks import OPTIONS
from torch import Tensor

from seqkit import ConfigError, IOSpec, Option, Task


def _one_hot(index: Tensor, n: int) -> Tensor:
    return F.one_hot(index, n).float()


def _mixed(task: Task) -> bool:
    """Whether `task` draws each sequence's length from min_len..seq_len (and checks it)."""
    low, high = task.opts["min_len"], task.opts["seq_len"]
    if low and low > high:
        raise ConfigError(
            f"task '{task.name}': min_len must be at most seq_len (got min_len={low}, "
            f"seq_len={high}); 0 trains on seq_len alone"
        )
    return bool(low) and low < high


def _pad_after_lengths(x: Tensor, task: Task, generator: torch.Generator) -> Tensor:
    """`x (B, T, D)` with the steps after each sequence's own length NaN: lengths uniform
    on min_len..T, the way `IOSpec.padded_inputs` data are stored."""
    n, t = x.shape[:2]
    lengths = torch.randint(
        task.opts["min_len"], t + 1, (n, 1), generator=generator, device=x.device
    )
    after = torch.arange(t, device=x.device) >= lengths  # (B, T)
    return x.masked_fill(after.unsqueeze(-1), float("nan"))


RAW = {"normalize": False}
"""The sources train on raw inputs and targets; so do these tasks by default. Standardising
adding's values (uniform on [0, 1]) made the LSTM learn 1.8x-2.9x sooner and the GRU no
sooner, so it changed how the cells compare (docs/reference.md#standardisation)."""


class LongRangeTask(Task):
    """Shared by the long-range tasks: fresh training data every epoch, raw inputs, and
    by default the classification rule "solved when validation accuracy exceeds 99%"."""

    categorical_inputs = "all"  # one-hot symbols and bits
    evaluable = ("seq_len",)  # a recurrent model reads any length

    fresh_data = True
    solved_rule = "accuracy > 99%"
    defaults: ClassVar[dict[str, Any]] = {
        **RAW,
        "hidden_size": 64,
        "epochs": 30,
        "lr": 3e-3,
        "batch_size": 50,
    }

    def solved(self, metrics: dict[str, float]) -> bool | None:
        return metrics["val_accuracy"] > 0.99


class Adding(LongRangeTask):
    """Adding problem: sum the two marked values of a long sequence (Arjovsky 2016)."""

    categorical_inputs = (1,)  # channel 1 marks the two values; channel 0 is a value
    name = "adding"
    default_topology = "many-to-one"
    defaults: ClassVar[dict[str, Any]] = {
        **RAW,
        "hidden_size": 128,
        "epochs": 50,  # 5,000 steps: on raw inputs the LSTM needed 2,100-2,400 at T=100
        "lr": 2e-3,
        "batch_size": 50,
    }
    options: ClassVar[dict[str, Option]] = OPTIONS["adding"]
    ranges: ClassVar[dict[str, tuple[float, float]]] = {"within_0.04": (0, 1)}

    @property
    def io(self) -> IOSpec:
        return IOSpec(input_size=2, output_size=1, input_len=self.opts["seq_len"], output_len=1)

    @property
    def hochreiter(self) -> bool:
        return bool(self.opts["variant"] == "hochreiter1997")

    @property
    def solved_rule(self) -> str:  # type: ignore[override]
        return "|error| < 0.04 on 99% of sequences" if self.hochreiter else "MSE < 0.01"

    @property
    def reference_losses(self) -> dict[str, float]:
        if self.hochreiter:
            return {"chance (predict 0.5)": 1 / 24}
        return {"chance (predict 1)": 1 / 6, "one number stored": 1 / 12}

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        t = self.opts["seq_len"]
        u = torch.rand(n, t, generator=generator, device=device)
        values = u * 2 - 1 if self.hochreiter else u
        rows = torch.arange(n, device=device)
        if self.hochreiter:
            first = torch.randint(0, min(10, t), (n,), generator=generator, device=device)
            span = max(t // 2 - 1, 1)
            second = torch.randint(0, span, (n,), generator=generator, device=device)
            second = torch.where(second >= first, second + 1, second).clamp(max=t - 1)
            markers = torch.zeros(n, t, device=device)
            markers[:, 0] = -1
            markers[:, -1] = -1
        else:
            first = torch.randint(0, t // 2, (n,), generator=generator, device=device)
            second = torch.randint(t // 2, t, (n,), generator=generator, device=device)
            markers = torch.zeros(n, t, device=device)
        markers[rows, first] = 1
        markers[rows, second] = 1
        return torch.stack([values, markers], dim=2)

    def targets(self, x: Tensor) -> Tensor:
        marked = (x[:, :, 0] * (x[:, :, 1] == 1)).sum(dim=1)
        y = 0.5 + marked / 4 if self.hochreiter else marked
        return y.view(-1, 1, 1)

    def chance_loss(self, y: Tensor) -> float:
        return 1 / 24 if self.hochreiter else 1 / 6

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor) -> str:
        at = (x[:, 1] == 1).nonzero().flatten().tolist()
        marked = " + ".join(f"{float(x[t, 0]):.2f} (t={t + 1})" for t in at)
        return (
            f"Input: T={x.shape[0]}, marked {marked} -> Output: {float(pred):.3f} "
            f"(answer {float(answer):.3f})"
        )

    def metrics(self, out: Tensor, y: Tensor) -> dict[str, Tensor]:
        err = (out - y).abs()
        return {"mae": err.mean(), "within_0.04": (err < 0.04).float().mean()}

    def solved(self, metrics: dict[str, float]) -> bool | None:
        if self.hochreiter:
            return metrics["val_within_0.04"] >= 0.99
        return metrics["val_loss"] < 0.01


class Copy(LongRangeTask):
    """Copy memory: recall 10 symbols after T blanks (Arjovsky et al. 2016)."""

    name = "copy"
    kind = "classification"
    default_topology = "many-to-many"
    headline_metric = "recalled"  # accuracy counts the blanks, which any model gets right
    solved_rule = "recalled accuracy > 99%"
    ranges: ClassVar[dict[str, tuple[float, float]]] = {"recalled": (0, 1)}
    defaults: ClassVar[dict[str, Any]] = {
        **RAW,
        "hidden_size": 128,
        "epochs": 30,
        "lr": 1e-3,
        "batch_size": 50,
    }
    options: ClassVar[dict[str, Option]] = OPTIONS["copy"]

    @property
    def io(self) -> IOSpec:
        length = self.opts["seq_len"] + 2 * self.opts["symbols"]
        return IOSpec(
            input_size=self.opts["alphabet"] + 2,
            output_size=self.opts["alphabet"] + 1,
            input_len=length,
            output_len=length,
        )

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        k, a, t = self.opts["symbols"], self.opts["alphabet"], self.opts["seq_len"]
        seq = torch.zeros(n, t + 2 * k, dtype=torch.long, device=device)
        seq[:, :k] = torch.randint(1, a + 1, (n, k), generator=generator, device=device)
        seq[:, t + k - 1] = a + 1  # the delimiter: recall starts at the next step
        return _one_hot(seq, a + 2)

    def targets(self, x: Tensor) -> Tensor:
        k = self.opts["symbols"]
        y = torch.zeros(x.shape[0], x.shape[1], dtype=torch.long, device=x.device)
        y[:, -k:] = x[:, :k].argmax(-1)
        return y

    def chance_loss(self, y: Tensor) -> float:
        k, t = self.opts["symbols"], self.opts["seq_len"]
        return k * math.log(self.opts["alphabet"]) / (t + 2 * k)

    def metrics(self, out: Tensor, y: Tensor) -> dict[str, Tensor]:
        k = self.opts["symbols"]
        recalled = (out[:, -k:].argmax(-1) == y[:, -k:]).float().mean()
        return {"accuracy": (out.argmax(-1) == y).float().mean(), "recalled": recalled}

    def solved(self, metrics: dict[str, float]) -> bool | None:
        return metrics["val_recalled"] > 0.99

    def is_correct(self, pred: Tensor, answer: Tensor) -> bool | None:
        k = self.opts["symbols"]
        return bool(torch.equal(pred[-k:], answer[-k:]))

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor) -> str:
        k = self.opts["symbols"]
        return (
            f"Input: {x[:k].argmax(-1).tolist()} then {self.opts['seq_len']} blanks -> "
            f"recalled {pred[-k:].tolist()} (answer {answer[-k:].tolist()})"
        )


class Recall(LongRangeTask):
    """Delayed recall: one of 8 symbols at t = 0, L blanks, name the symbol at the end."""

    name = "recall"
    kind = "classification"
    default_topology = "many-to-one"
    defaults: ClassVar[dict[str, Any]] = {
        **RAW,
        "hidden_size": 64,
        "epochs": 20,
        "lr": 3e-3,
        "batch_size": 50,
    }
    options: ClassVar[dict[str, Option]] = OPTIONS["recall"]

    @property
    def io(self) -> IOSpec:
        return IOSpec(
            input_size=self.opts["alphabet"] + 2,
            output_size=self.opts["alphabet"],
            input_len=self.opts["seq_len"] + 2,
            output_len=1,
        )

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        a, length = self.opts["alphabet"], self.opts["seq_len"] + 2
        seq = torch.zeros(n, length, dtype=torch.long, device=device)
        seq[:, 0] = torch.randint(1, a + 1, (n,), generator=generator, device=device)
        seq[:, -1] = a + 1  # delimiter: answer now
        return _one_hot(seq, a + 2)

    def targets(self, x: Tensor) -> Tensor:
        return (x[:, 0].argmax(-1) - 1).view(-1, 1)

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor) -> str:
        return (
            f"Input: symbol {int(x[0].argmax()) - 1} then {self.opts['seq_len']} blanks "
            f"-> Output: {int(pred)} (answer {int(answer)})"
        )

    def chance_loss(self, y: Tensor) -> float:
        return math.log(self.opts["alphabet"])


class Parity(LongRangeTask):
    """Parity of a bit sequence (many-to-one), or running parity at every step. With
    `min_len`, sequences of lengths min_len..seq_len are mixed in each batch, as
    Delétang et al. 2023 and xLSTM train it (lengths 1-40 and 3-40)."""

    name = "parity"
    kind = "binary"
    default_topology = "many-to-one"
    evaluable = ("seq_len", "min_len")  # scored at longer lengths than it trained on
    options: ClassVar[dict[str, Option]] = OPTIONS["parity"]

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if self.opts["running"]:
            self.default_topology = "many-to-many"  # type: ignore[misc]
        if _mixed(self) and self.opts["running"]:
            raise ConfigError(
                "task 'parity': min_len (mixed lengths) reads one answer per sequence; "
                "use it without running=true"
            )

    @property
    def io(self) -> IOSpec:
        t = self.opts["seq_len"]
        return IOSpec(
            input_size=1,
            output_size=1,
            input_len=t,
            output_len=t if self.opts["running"] else 1,
            padded_inputs=_mixed(self),
        )

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        t = self.opts["seq_len"]
        bits = torch.randint(0, 2, (n, t, 1), generator=generator, device=device).float()
        return _pad_after_lengths(bits, self, generator) if _mixed(self) else bits

    def targets(self, x: Tensor) -> Tensor:
        running = x.nan_to_num(0.0).cumsum(dim=1).remainder(2)  # a padded step adds 0
        return running if self.opts["running"] else running[:, -1:]

    def chance_loss(self, y: Tensor) -> float:
        return math.log(2)


class Order(LongRangeTask):
    """Temporal order: which of two marked symbols came first, among distractors
    (Hochreiter & Schmidhuber 1997 task 6a; Pascanu et al. 2013). Four classes. The
    marked symbols sit in 10-20% and 50-60% of the length (of min_len with mixed
    lengths: task 6a is min_len=100, seq_len=110)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if _mixed(self) and self.opts["min_len"] < 10:
            raise ConfigError(
                f"task 'order': min_len must be 0 or at least 10, as seq_len (got "
                f"{self.opts['min_len']}): the marked symbols are placed by it"
            )

    name = "order"
    kind = "classification"
    default_topology = "many-to-one"
    options: ClassVar[dict[str, Option]] = OPTIONS["order"]

    @property
    def io(self) -> IOSpec:
        return IOSpec(
            input_size=6,
            output_size=4,
            input_len=self.opts["seq_len"],
            output_len=1,
            padded_inputs=_mixed(self),
        )

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        mixed = _mixed(self)
        t = self.opts["min_len"] if mixed else self.opts["seq_len"]
        rows = torch.arange(n, device=device)
        # Symbols 0-3 are distractors; 4 and 5 are the relevant X and Y.
        seq = torch.randint(0, 4, (n, self.opts["seq_len"]), generator=generator, device=device)
        lo0, hi0 = int(0.1 * t), max(int(0.2 * t), int(0.1 * t) + 1)
        lo1, hi1 = int(0.5 * t), max(int(0.6 * t), int(0.5 * t) + 1)
        p0 = torch.randint(lo0, hi0, (n,), generator=generator, device=device)
        p1 = torch.randint(lo1, hi1, (n,), generator=generator, device=device)
        v = torch.randint(0, 2, (n, 2), generator=generator, device=device)
        seq[rows, p0] = 4 + v[:, 0]
        seq[rows, p1] = 4 + v[:, 1]
        x = _one_hot(seq, 6)
        return _pad_after_lengths(x, self, generator) if mixed else x

    def targets(self, x: Tensor) -> Tensor:
        sym = x.nan_to_num(0.0).argmax(-1)
        relevant = sym >= 4
        # The first and second relevant symbols, in time order.
        order = torch.where(relevant, torch.arange(x.shape[1], device=x.device), x.shape[1])
        first, second = order.sort(dim=1).values[:, :2].unbind(1)
        rows = torch.arange(x.shape[0], device=x.device)
        v0, v1 = sym[rows, first] - 4, sym[rows, second] - 4
        return (v0 + 2 * v1).view(-1, 1)

    def chance_loss(self, y: Tensor) -> float:
        return math.log(4)

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor) -> str:
        real = int((~x.isnan().any(-1)).sum())
        sym = x.nan_to_num(0.0).argmax(-1)
        events = [f"{'XY'[int(sym[t]) - 4]} at t={t + 1}" for t in (sym >= 4).nonzero().flatten()]
        return (
            f"Input: T={real}, {', '.join(events)} -> Output: class {int(pred)} "
            f"(answer {int(answer)})"
        )


LONG_RANGE = (Adding, Copy, Recall, Parity, Order)
