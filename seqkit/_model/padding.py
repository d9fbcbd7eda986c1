"""Sequences of different lengths in one batch (`IOSpec.padded_inputs`).

A data set of variable-length sequences is stored padded to its longest: the steps after
a sequence's end are NaN in the inputs, and its targets there are not scored (IGNORE or
NaN, `seqkit._plugins.objectives`). `PaddedInputs` reads each sequence's length from the
NaNs, puts zeros in their place, and hands the lengths to the topology, which hands them
to its cells: torch's fused modules then run on a packed sequence
(`pack_padded_sequence`), a cell written out step by step keeps its state past the end,
and a bidirectional cell's backward direction starts at each sequence's own last step.
Padding never changes a real step's output. A task whose sequences all have one length
does not set `padded_inputs`, and pays nothing for this.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._core.errors import ConfigError
from seqkit._plugins.interfaces import Cell


def takes_lengths(module: nn.Module) -> bool:
    """Whether `module.forward` takes `lengths` (how a cell or topology says that it
    reads padded batches)."""
    return "lengths" in inspect.signature(module.forward).parameters


def lengths_of(x: Tensor) -> Tensor:
    """Each sequence's length, `(B,)` int64 on the CPU: its steps before the first step
    whose inputs are NaN."""
    real = ~torch.isnan(x).any(-1)  # (B, T)
    return real.cumprod(1).sum(1).cpu()


class PaddedInputs(nn.Module):
    """`inner(x with NaN steps as 0, lengths=...)`: `x (B, T, D)` -> the topology's
    outputs; `lengths` is None when no sequence of the batch is padded."""

    def __init__(self, inner: nn.Module, cell: str, topology: str) -> None:
        super().__init__()
        if not takes_lengths(inner):
            raise ConfigError(
                f"topology '{topology}' cannot read sequences of different lengths (its "
                "forward takes no `lengths`); this task's sequences have different lengths"
            )
        for module in inner.modules():
            if isinstance(module, Cell) and not takes_lengths(module):
                raise ConfigError(
                    f"cell '{cell}' cannot read sequences of different lengths (its forward "
                    "takes no `lengths`, see docs/plugins.md); this task's sequences have "
                    "different lengths"
                )
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        lengths = lengths_of(x)
        if bool((lengths == x.shape[1]).all()):
            return self.inner(x)
        if bool((lengths == 0).any()):
            raise ConfigError("a sequence of length 0 (its first step is NaN) cannot be read")
        return self.inner(x.nan_to_num(0.0), lengths=lengths)

    @property
    def chunk_targets(self) -> Any:
        return None  # truncated BPTT would cut through sequences' ends: not offered
