"""The `maxval` task. Imported, with torch, when seqkit first builds it."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from seqkit import ConfigError, IOSpec, Option, Task
from seqkit_mingru import MAXVAL_OPTIONS


class MaxVal(Task):
    """Many-to-one: 8 integers in 0..20 -> their maximum."""

    name = "maxval"
    kind = "regression"
    default_topology = "many-to-one"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 32,
        "epochs": 20,
        "lr": 5e-2,
        "batch_size": 100,
    }
    options: ClassVar[dict[str, Option]] = MAXVAL_OPTIONS

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.seq_len, self.low, self.high = options["seq_len"], options["low"], options["high"]
        if self.high < self.low:
            raise ConfigError(f"task 'maxval': high ({self.high}) must be >= low ({self.low})")

    @property
    def io(self) -> IOSpec:
        return IOSpec(input_size=1, output_size=1, input_len=self.seq_len, output_len=1)

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        """`(n, seq_len, 1)` uniform integers in [low, high], as floats."""
        x = torch.randint(
            self.low, self.high + 1, (n, self.seq_len, 1), generator=generator, device=device
        )
        return x.float()

    def targets(self, x: Tensor) -> Tensor:
        """`(B, T, 1)` -> the maximum over time, `(B, 1, 1)`."""
        return x.amax(dim=1, keepdim=True)

    def probes(self) -> Tensor:
        """Hand-picked sequences for the defaults (the maximum early, late, in the middle)."""
        if (self.seq_len, self.low, self.high) == (8, 0, 20):
            return torch.tensor(
                [[17, 3, 5, 0, 12, 9, 2, 4], [1, 6, 2, 8, 3, 7, 5, 19], [4, 4, 11, 4, 4, 4, 4, 4]],
                dtype=torch.float32,
            ).unsqueeze(-1)
        return super().probes()
