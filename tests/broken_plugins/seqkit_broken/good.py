"""A plugin that works: cell `goodcell`, an Elman RNN run one step at a time."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqkit import hookimpl

__version__ = "0.0.1"


class GoodCell(nn.Module):
    """Elman RNN, one step at a time (h_t = tanh(W x_t + U h_{t-1} + b))."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.output_size, self.num_directions = hidden_size, 1
        self.cell = nn.RNNCell(input_size, hidden_size)

    def step(self, x_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h = self.cell(x_t, state)
        return h, h

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        outputs = []
        for x_t in x.unbind(1):
            h, state = self.step(x_t, state)
            outputs.append(h)
        return torch.stack(outputs, 1), state


@hookimpl
def register_cells(register):
    register("goodcell", GoodCell, description="Elman RNN from the broken-plugins fixture")
