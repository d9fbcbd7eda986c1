"""Built-in tasks: the teaching notebook's experiments, with its sizes as defaults.

Every generator is vectorised (no Python loop over samples) and draws from the run's
`torch.Generator`, so data are reproducible by seed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from seqkit_plugins.tasks import OPTIONS
from torch import Tensor

from seqkit import ConfigError, IOSpec, Option, Task


class IntegerTask(Task):
    """Sequences of uniform integers in [low, high], one feature per step."""

    seq_len_default: ClassVar[int] = 1

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.low, self.high = int(options["low"]), int(options["high"])
        self.seq_len = int(options.get("seq_len", self.seq_len_default))
        if self.high < self.low:
            raise ConfigError(f"task '{self.name}': high ({self.high}) must be >= low ({self.low})")

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        x = torch.randint(
            self.low, self.high + 1, (n, self.seq_len, 1), generator=generator, device=device
        )
        return x.float()


class Square(IntegerTask):
    """One-to-one: x in 1..4 -> x^2 (notebook 3-1)."""

    name = "square"
    default_topology = "one-to-one"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 40,
        "epochs": 60,
        "lr": 5e-2,
        "batch_size": 100,
    }
    options: ClassVar[dict[str, Option]] = OPTIONS["square"]

    @property
    def io(self) -> IOSpec:
        return IOSpec(input_size=1, output_size=1, input_len=1, output_len=1)

    def targets(self, x: Tensor) -> Tensor:
        return x.square()

    def probes(self) -> Tensor:
        return torch.tensor([[[2.0]]])


class Multiples(IntegerTask):
    """One-to-many: x in 1..4 -> x, 2x, ..., 10x (notebook 3-2)."""

    name = "multiples"
    default_topology = "one-to-many"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 40,
        "epochs": 40,
        "lr": 2e-2,
        "batch_size": 100,
    }
    options: ClassVar[dict[str, Option]] = OPTIONS["multiples"]

    @property
    def io(self) -> IOSpec:
        return IOSpec(input_size=1, output_size=1, input_len=1, output_len=self.opts["count"])

    def targets(self, x: Tensor) -> Tensor:
        k = torch.arange(1, self.opts["count"] + 1, device=x.device, dtype=x.dtype)
        return x * k.view(1, -1, 1)

    def probes(self) -> Tensor:
        return torch.tensor([[[2.0]]])


class Sum(IntegerTask):
    """Many-to-one: 6 integers in 1..14 -> their sum (notebook 3-3)."""

    evaluable = ("seq_len",)  # a recurrent model reads any length

    name = "sum"
    default_topology = "many-to-one"
    seq_len_default = 6
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 50,
        "epochs": 2,
        "lr": 1e-2,
        "batch_size": 250,
    }
    options: ClassVar[dict[str, Option]] = OPTIONS["sum"]

    @property
    def io(self) -> IOSpec:
        return IOSpec(input_size=1, output_size=1, input_len=self.seq_len, output_len=1)

    def targets(self, x: Tensor) -> Tensor:
        return x.sum(dim=1, keepdim=True)

    def probes(self) -> Tensor:
        if self.seq_len == 6:
            return torch.tensor([[[2.0], [4.0], [6.0], [8.0], [10.0], [11.0]]])
        return super().probes()


class CumSum(IntegerTask):
    """Many-to-many: 5 integers in 0..30 -> running sums (notebook 3-4)."""

    evaluable = ("seq_len",)  # a recurrent model reads any length

    name = "cumsum"
    default_topology = "many-to-many"
    seq_len_default = 5
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 60,
        "epochs": 30,
        "lr": 2e-2,
        "batch_size": 100,
    }
    options: ClassVar[dict[str, Option]] = OPTIONS["cumsum"]

    @property
    def io(self) -> IOSpec:
        return IOSpec(input_size=1, output_size=1, input_len=self.seq_len, output_len=self.seq_len)

    def targets(self, x: Tensor) -> Tensor:
        return x.cumsum(dim=1)

    def probes(self) -> Tensor:
        if self.seq_len == 5:
            return torch.arange(10.0, 15.0).view(1, 5, 1)
        return super().probes()


class Toy(Task):
    """Two classes: is a run of consecutive numbers ascending (1) or descending (0)?

    Notebook 1-2 trains on the single sequence [[1,2],[3,4],[5,6]] with label 1; here
    that sequence is the probe, and the data are runs of 6 consecutive integers from a
    random start, laid out as (T=3, D=2), going up or down.
    """

    name = "toy"
    kind = "classification"
    default_topology = "many-to-one"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 20,
        "epochs": 20,
        "lr": 1e-2,
        "batch_size": 50,
    }
    options: ClassVar[dict[str, Option]] = OPTIONS["toy"]

    @property
    def io(self) -> IOSpec:
        return IOSpec(
            input_size=self.opts["input_size"],
            output_size=2,
            input_len=self.opts["seq_len"],
            output_len=1,
        )

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        t, d = self.opts["seq_len"], self.opts["input_size"]
        start = torch.randint(
            0, self.opts["max_start"] + 1, (n, 1), generator=generator, device=device
        )
        up = torch.randint(0, 2, (n, 1), generator=generator, device=device) * 2 - 1
        run = start + up * torch.arange(t * d, device=device)
        return run.view(n, t, d).float()

    def targets(self, x: Tensor) -> Tensor:
        return (x[:, -1, -1] > x[:, 0, 0]).long().view(-1, 1)

    def probes(self) -> Tensor:
        if self.io.input_len == 3 and self.io.input_size == 2:
            return torch.tensor(
                [[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[9.0, 8.0], [7.0, 6.0], [5.0, 4.0]]]
            )
        return super().probes()


class MeanSign(Task):
    """Binary: is the mean of a Gaussian (T, D) sequence positive? (notebook section 4).

    The notebook uses N=50, T=20000, D=10 (`--task-opt num_samples=50,seq_len=20000`).
    """

    evaluable = ("seq_len",)  # a recurrent model reads any length

    name = "meansign"
    kind = "binary"
    default_topology = "many-to-one"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 16,
        "epochs": 8,
        "lr": 1e-2,
        "batch_size": 100,
    }
    options: ClassVar[dict[str, Option]] = OPTIONS["meansign"]

    @property
    def io(self) -> IOSpec:
        return IOSpec(
            input_size=self.opts["input_size"],
            output_size=1,
            input_len=self.opts["seq_len"],
            output_len=1,
        )

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        shape = (n, self.opts["seq_len"], self.opts["input_size"])
        return torch.randn(shape, generator=generator, device=device)

    def targets(self, x: Tensor) -> Tensor:
        return (x.mean(dim=(1, 2)) > 0).float().view(-1, 1, 1)

    def probes(self) -> Tensor:
        """Three fixed sequences, the second the first negated: both labels appear."""
        g = torch.Generator().manual_seed(1234)
        x = self.inputs(2, g, torch.device("cpu"))
        return torch.stack([x[0], -x[0], x[1]])

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor) -> str:
        t, d = x.shape[-2:]
        return (
            f"Input: sequence (T={t}, D={d}, mean {float(x.mean()):+.4f}) -> "
            f"Output: {int(pred.item())} (answer {int(answer.item())})"
        )
