"""The minGRU cell (Feng et al. 2024), behind seqkit's Cell contract. Imported, with
torch, when seqkit first builds a `mingru` cell."""

from __future__ import annotations

import torch
from torch import Tensor, nn

State = tuple[Tensor, ...]
"""minGRU's state: one `h (B, H)` per layer, bottom layer first."""


class MinGRULayer(nn.Module):
    """One minGRU layer. Gate and candidate depend on the input only, not on h_{t-1}::

        z_t  = sigmoid(Linear_z(x_t))                 update gate      (B, H)
        h~_t = Linear_h(x_t)                          candidate state  (B, H)
        h_t  = (1 - z_t) * h_{t-1} + z_t * h~_t       new state        (B, H)

    with h_0 = 0 unless a state is given.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.linear_z = nn.Linear(input_size, hidden_size)
        self.linear_h = nn.Linear(input_size, hidden_size)

    def initial(self, x: Tensor) -> Tensor:
        """The zero state `(B, H)` for a batch `x (B, ..., D)`, on x's device and dtype."""
        return x.new_zeros(x.shape[0], self.hidden_size)

    def forward(self, x: Tensor, h: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """`x (B, T, D)`, `h_0 (B, H)` -> `outputs h_1..h_T (B, T, H)`, `h_T (B, H)`.

        Both input projections are computed for all T steps at once (two matmuls); only
        the cheap elementwise recurrence loops over time.
        """
        z = torch.sigmoid(self.linear_z(x))  # (B, T, H)
        h_tilde = self.linear_h(x)  # (B, T, H)
        h = self.initial(x) if h is None else h
        outputs = []
        for z_t, h_tilde_t in zip(z.unbind(1), h_tilde.unbind(1), strict=True):
            h = (1 - z_t) * h + z_t * h_tilde_t
            outputs.append(h)
        if not outputs:  # T = 0: no step, the state passes through
            return x.new_zeros(x.shape[0], 0, self.hidden_size), h
        return torch.stack(outputs, dim=1), h

    def step(self, x_t: Tensor, h: Tensor | None = None) -> Tensor:
        """One step: `x_t (B, D)`, `h_{t-1} (B, H)` -> `h_t (B, H)`."""
        h = self.initial(x_t) if h is None else h
        z_t = torch.sigmoid(self.linear_z(x_t))
        return (1 - z_t) * h + z_t * self.linear_h(x_t)


class MinGRU(nn.Module):
    """A stack of `num_layers` minGRU layers behind seqkit's Cell contract.

    Layer 1 reads `x (B, T, D)`; layer l > 1 reads the outputs `(B, T, H)` of layer
    l - 1. The cell's outputs are the top layer's. The state is a tuple of per-layer
    `h (B, H)`, bottom first; `None` means all zeros.
    """

    num_directions = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.output_size = hidden_size
        self.num_layers = num_layers
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.layers = nn.ModuleList(MinGRULayer(d, hidden_size) for d in sizes)

    def _states(self, state: State | None) -> list[Tensor | None]:
        if state is None:
            return [None] * self.num_layers
        if len(state) != self.num_layers:
            raise ValueError(
                f"minGRU state has {len(state)} layers, the cell has {self.num_layers}"
            )
        return list(state)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """`x (B, T, D)` -> `outputs (B, T, H)` (top layer), state: per-layer `h_T (B, H)`."""
        final = []
        for layer, h in zip(self.layers, self._states(state), strict=True):
            x, h_last = layer(x, h)
            final.append(h_last)
        return x, tuple(final)

    def step(self, x_t: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """One time step: `x_t (B, D)` -> `h_t (B, H)` (top layer), new state."""
        new = []
        for layer, h in zip(self.layers, self._states(state), strict=True):
            x_t = layer.step(x_t, h)
            new.append(x_t)
        return x_t, tuple(new)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, num_layers={self.num_layers}"


def mingru(input_size: int, hidden_size: int, num_layers: int = 1) -> nn.Module:
    """minGRU (Feng et al. 2024): h_t = (1 - z_t) h_{t-1} + z_t h~_t, gates from x_t only."""
    return MinGRU(input_size, hidden_size, num_layers=num_layers)
