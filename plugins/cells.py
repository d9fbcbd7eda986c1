"""Built-in cells: `rnn`, `lstm`, `gru`, backed by torch's fused `nn.RNN/LSTM/GRU`."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from seqkit import hookimpl
from seqkit.errors import ConfigError
from seqkit.options import Option

COMMON = {
    "num_layers": Option(1, "stacked recurrent layers", min=1, max=64),
    "dropout": Option(
        0.0, "dropout between stacked layers (needs num_layers > 1)", min=0.0, max=0.99
    ),
    "bidirectional": Option(False, "also run the sequence backwards; outputs [fwd | bwd]"),
}


class TorchRecurrent(nn.Module):
    """A torch fused recurrent module behind the Cell contract.

    `forward(x (B, T, D), state)` -> `(outputs (B, T, H * dirs), state)`, where the state
    is torch's: `h (layers * dirs, B, H)`, and for LSTM the pair `(h, c)`.
    """

    def __init__(
        self,
        module: type[nn.RNNBase],
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        **extra: Any,
    ) -> None:
        super().__init__()
        if dropout > 0 and num_layers == 1:
            raise ConfigError(
                "cell option 'dropout' acts between stacked layers: set num_layers > 1 or dropout=0"
            )
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.output_size = hidden_size * self.num_directions
        self.rnn = module(
            input_size,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            batch_first=True,
            **extra,
        )

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        return self.rnn(x, state)

    def step(self, x_t: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """`x_t (B, D)` -> `h_t (B, H)`, new state."""
        if self.num_directions != 1:
            raise ConfigError(
                "step-by-step use needs a unidirectional cell: a bidirectional layer must "
                "see the whole sequence first (use bidirectional=false)"
            )
        out, state = self.rnn(x_t.unsqueeze(1), state)
        return out.squeeze(1), state

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


def rnn(input_size: int, hidden_size: int, nonlinearity: str = "tanh", **opts: Any) -> nn.Module:
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""
    return TorchRecurrent(nn.RNN, input_size, hidden_size, nonlinearity=nonlinearity, **opts)


def lstm(input_size: int, hidden_size: int, **opts: Any) -> nn.Module:
    """LSTM (Hochreiter & Schmidhuber 1997): gated cell state c_t beside h_t."""
    return TorchRecurrent(nn.LSTM, input_size, hidden_size, **opts)


def gru(input_size: int, hidden_size: int, **opts: Any) -> nn.Module:
    """GRU (Cho et al. 2014): update and reset gates, one state vector."""
    return TorchRecurrent(nn.GRU, input_size, hidden_size, **opts)


@hookimpl
def register_cells(register: Any) -> None:
    register(
        "rnn",
        rnn,
        description="Elman RNN, tanh (or relu) (torch nn.RNN)",
        options={**COMMON, "nonlinearity": Option("tanh", "activation", choices=("tanh", "relu"))},
    )
    register("lstm", lstm, description="Long short-term memory (torch nn.LSTM)", options=COMMON)
    register("gru", gru, description="Gated recurrent unit (torch nn.GRU)", options=COMMON)
