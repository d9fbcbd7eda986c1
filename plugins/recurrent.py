"""The built-in cells' implementation: `Recurrent` behind the Cell contract, and the
factories `rnn`, `lstm`, `gru` that `seqkit_plugins.cells` registers (lazily: this module
and torch are imported when a cell is first built).

Built-in cells: `rnn`, `lstm`, `gru`.

Two implementations of each, chosen by the cell option `impl`: `fused` runs torch's
`nn.RNN/LSTM/GRU` (cuDNN on CUDA, oneDNN for the CPU LSTM); `scratch` runs the equations
written out in `seqkit_plugins.scratch`. They compute the same function with the same
parameter names, so a state dict moves between them. `auto` (the default) holds torch's
module and, call by call, runs the same function another way where that measured faster
on this project's CPU (`python -m benchmarks.hardware`, one thread): the RNN up to hidden
size 128 and the GRU up to 32, on the CPU, on sequences of 16 steps or more, run their
time loops in `seqkit_plugins.sequence_kernels` (no autograd graph per step; a
hand-written backward) on the same parameters. Their step took 0.54x-0.87x (RNN) and
0.59x-0.93x (GRU) of torch's there; at larger sizes torch's was as fast or faster
(RNN H=256: 1.12x, GRU H=50-64: 1.08x-1.57x), and torch's CPU LSTM is one oneDNN kernel.
`kernels` (RNN and GRU) runs those loops on the CPU at any size and length; on CUDA and
under autocast it runs torch's module. With `impl=fastest` a long run times `fused`
against `kernels` and runs the faster (the option's `tune=`); `auto` is the rule above, so
that the same command computes the same numbers on any machine and under any load.
"""

from __future__ import annotations

from typing import Any

import torch
from seqkit_plugins.scratch import ScratchLayers, equations, gru_step
from torch import Tensor, nn

from seqkit import ConfigError

TORCH_MODULES: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

KERNEL_MAX_HIDDEN = {"rnn": 128, "gru": 32}
"""`impl=auto` runs these cells' CPU loops in seqkit_plugins.sequence_kernels up to this
hidden size (on sequences of 16+ steps): there they measured faster than torch's."""


class Recurrent(nn.Module):
    """A recurrent layer stack behind the Cell contract.

    `forward(x (B, T, D), state)` -> `(outputs (B, T, H * dirs), state)`, where the state
    is torch's: `h (layers * dirs, B, H)`, and for LSTM the pair `(h, c)`.
    """

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: str = "auto",
        init: str = "default",
        init_gain: float = 1.0,
        forget_bias: float = 0.0,
        **extra: Any,
    ) -> None:
        super().__init__()
        if dropout > 0 and num_layers == 1:
            raise ConfigError(
                "cell option 'dropout' acts between stacked layers: set num_layers > 1 or dropout=0"
            )
        self.kind, self.impl = kind, impl
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.output_size = hidden_size * self.num_directions
        sizes = dict(num_layers=num_layers, dropout=dropout, bidirectional=bidirectional)
        if impl == "scratch":
            self.rnn: nn.Module = ScratchLayers(kind, input_size, hidden_size, **sizes, **extra)
        else:
            self.rnn = TORCH_MODULES[kind](
                input_size, hidden_size, batch_first=True, **sizes, **extra
            )
        init_recurrent(self.rnn, kind, hidden_size, init, init_gain, forget_bias)
        self._written_out: ScratchLayers | None = None
        if impl == "kernels" and kind not in KERNEL_MAX_HIDDEN:
            raise ConfigError(f"cell '{kind}' has no impl=kernels; use impl=fused or scratch")
        if impl == "kernels" or (impl == "auto" and hidden_size <= KERNEL_MAX_HIDDEN.get(kind, 0)):
            # Outside the module tree, on torch's module's Parameter objects (rebound at
            # each use): one set of weights, one state dict. Its own initial weights are
            # drawn on a forked RNG, so the seeded initialisation of everything built
            # after this cell is the same as with impl=fused.
            with torch.random.fork_rng(devices=[]):
                written = ScratchLayers(
                    kind, input_size, hidden_size, **sizes, **extra, kernels=True
                )
            object.__setattr__(self, "_written_out", written)

    def forward(
        self, x: Tensor, state: Any = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, Any]:
        """`lengths (B,)`: each sequence's real steps (the rest is padding). torch's
        module then reads a packed sequence, so its state stops at each one's end and a
        backward direction starts there; the written-out layers do the same by masking.
        Outputs at padded steps are zeros (fused) or the state carried (scratch)."""
        if lengths is not None:
            return self._forward_padded(x, state, lengths)
        written = self._written_out
        if (
            written is not None
            and x.device.type == "cpu"
            and (x.shape[1] >= 16 or self.impl == "kernels")
            and not torch.is_autocast_enabled("cpu")  # the kernels are float32/64 only
            and not torch.jit.is_tracing()  # an export keeps torch's module: any length
        ):
            written._parameters.update(self.rnn._parameters)  # after assign=True too
            written.train(self.training)
            return written(x, state)
        out, state = self.rnn(x, state)
        return out, state

    def _forward_padded(self, x: Tensor, state: Any, lengths: Tensor) -> tuple[Tensor, Any]:
        if isinstance(self.rnn, ScratchLayers):
            return self.rnn(x, state, lengths)
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, state = self.rnn(packed, state)
        padded, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return padded, state

    def step(self, x_t: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """`x_t (B, D)` -> `h_t (B, H)`, new state. `h_t` is a view of the new state's top
        layer, so a gradient on the state is the total derivative through both uses."""
        if self.num_directions != 1:
            raise ConfigError(
                "step-by-step use needs a unidirectional cell: a bidirectional layer must "
                "see the whole sequence first (use bidirectional=false)"
            )
        _, state = self.rnn(x_t.unsqueeze(1), state)
        h = state[0] if self.kind == "lstm" else state
        return h[-1], state

    @property
    def headline_part(self) -> str:
        """The state part the gradient probe reports as h_t: the top layer's h."""
        return "h" if self.num_layers == 1 else f"h{self.num_layers}"

    def state_parts(self, state: Any) -> dict[str, Tensor]:
        """Named (B, H) pieces of a state, per layer (and c for LSTM), for diagnostics."""
        pieces = zip(("h", "c"), state, strict=True) if self.kind == "lstm" else [("h", state)]
        parts = {}
        for name, tensor in pieces:
            for k in range(tensor.shape[0]):
                suffix = "" if tensor.shape[0] == 1 else str(k // self.num_directions + 1)
                if self.num_directions == 2:
                    suffix += "fb"[k % 2]
                parts[f"{name}{suffix}"] = tensor[k]
        return parts

    def recurrent_matrices(self) -> dict[str, Tensor]:
        """Each layer's and direction's recurrent matrix, one (H, H) block per gate."""
        out = {}
        for name, w in self.rnn.named_parameters():
            if name.startswith("weight_hh"):
                blocks = w.detach().split(self.hidden_size)
                gates = {"rnn": [""], "lstm": "ifgo", "gru": "rzn"}[self.kind]
                for gate, block in zip(gates, blocks, strict=True):
                    out[f"{name}{'[' + gate + ']' if gate else ''}"] = block
        return out

    @torch.no_grad()
    def forget_gates(self, x: Tensor) -> Tensor | None:
        """Layer 1's batch-mean keep gate at each step, `(T,)`: the fraction of the old
        state carried on. LSTM: f_t. GRU: z_t in torch's h' = (1 - z) n + z h (written
        1 - z_t in papers that put z on the candidate). None for the RNN."""
        if self.kind == "rnn":
            return None
        w_ih, w_hh = self.rnn.weight_ih_l0, self.rnn.weight_hh_l0
        b_ih, b_hh = self.rnn.bias_ih_l0, self.rnn.bias_hh_l0
        h = x.new_zeros(x.shape[0], self.hidden_size)
        c, means = torch.zeros_like(h), []
        for x_t in x.unbind(1):
            gx, gh = x_t @ w_ih.t() + b_ih, h @ w_hh.t() + b_hh
            if self.kind == "lstm":
                i, f, g, o = (gx + gh).chunk(4, dim=1)
                keep = torch.sigmoid(f)
                c = keep * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
            else:
                keep = torch.sigmoid(gx.chunk(3, dim=1)[1] + gh.chunk(3, dim=1)[1])
                h = gru_step(gx, h, w_hh.t(), b_hh)
            means.append(keep.mean())
        return torch.stack(means)

    def equations(self, batch_size: int) -> list[str]:
        """The per-step equations with the shapes of each term (for `seqkit explain`)."""
        relu = getattr(self.rnn, "nonlinearity", "tanh") == "relu" or getattr(
            self.rnn, "relu", False
        )
        return equations(
            self.kind,
            batch_size,
            self.input_size,
            self.hidden_size,
            self.num_layers,
            self.num_directions,
            relu,
        )

    def extra_repr(self) -> str:
        return f"impl={self.impl}, output_size={self.output_size}"


def init_recurrent(
    rnn: nn.Module, kind: str, hidden: int, init: str, gain: float, forget_bias: float
) -> None:
    """Initialise every recurrent matrix W_hh (per gate block) and the LSTM forget bias.

    `orthogonal`: each (H, H) gate block orthogonal, times `gain` (spectral radius = gain);
    `identity`: each block `gain * I`. `forget_bias`: torch's LSTM adds two bias vectors,
    so the forget slice (gate order i, f, g, o) of b_ih is set and that of b_hh zeroed;
    0 leaves torch's initialisation as it is.
    """
    with torch.no_grad():
        for name, param in rnn.named_parameters():
            if name.startswith("weight_hh") and init != "default":
                for block in param.split(hidden, dim=0):
                    if init == "orthogonal":
                        nn.init.orthogonal_(block, gain=gain)
                    else:
                        block.copy_(torch.eye(hidden) * gain)
            if kind == "lstm" and forget_bias and name.startswith("bias_"):
                forget = param[hidden : 2 * hidden]
                forget.fill_(forget_bias if name.startswith("bias_ih") else 0.0)


def rnn(input_size: int, hidden_size: int, nonlinearity: str = "tanh", **opts: Any) -> nn.Module:
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""
    return Recurrent("rnn", input_size, hidden_size, nonlinearity=nonlinearity, **opts)


def lstm(input_size: int, hidden_size: int, **opts: Any) -> nn.Module:
    """LSTM (Hochreiter & Schmidhuber 1997): gated cell state c_t beside h_t."""
    return Recurrent("lstm", input_size, hidden_size, **opts)


def gru(input_size: int, hidden_size: int, **opts: Any) -> nn.Module:
    """GRU (Cho et al. 2014): update and reset gates, one state vector."""
    return Recurrent("gru", input_size, hidden_size, **opts)
