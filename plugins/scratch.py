"""RNN, LSTM and GRU written out, one gate per line: the same functions as torch's.

Parameters carry torch's names and gate orders (`weight_ih_l{k}[_reverse]`,
`weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`; LSTM gates i, f, g, o; GRU r, z, n),
so a state dict moves between these and `nn.RNN/LSTM/GRU` in both directions, and the
outputs, final states and gradients agree with torch's to rounding.

Shapes: x `(B, T, D)`; per layer and direction, W_ih `(G*H, D_in)`, W_hh `(G*H, H)`,
b_ih, b_hh `(G*H,)` with G = 1 (RNN), 4 (LSTM), 3 (GRU); state h `(L*dirs, B, H)`
(LSTM: `(h, c)`), as torch lays it out.

Speed: the input projection of a whole sequence is one matmul, hoisted out of the time
loop and split into per-step tensors with `unbind` (indexing `gx[:, t]` inside the loop
is far slower); the gates of a step share one recurrent matmul; for RNN and LSTM the
recurrent weight's gradient is one matmul over all steps (`RecurrentWeightGrad`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from seqkit_plugins.sequence_kernels import GRUSequence, RNNSequence
from torch import Tensor, nn

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def rnn_step(gx: Tensor, h: Tensor, w_hh_t: Tensor, relu: bool) -> Tensor:
    """h' = act(W_ih x + b_ih + W_hh h + b_hh). gx = W_ih x + b_ih + b_hh: (B, H)."""
    a = torch.addmm(gx, h, w_hh_t)
    return torch.relu(a) if relu else torch.tanh(a)


def lstm_step(gx: Tensor, h: Tensor, c: Tensor, w_hh_t: Tensor) -> tuple[Tensor, Tensor]:
    """One LSTM step. gx = W_ih x + b_ih + b_hh: (B, 4H); h, c: (B, H); w_hh_t: (H, 4H).

    i = σ(.)  input gate      f = σ(.)  forget gate
    g = tanh(.) candidate     o = σ(.)  output gate
    c' = f * c + i * g        h' = o * tanh(c')
    """
    i, f, g, o = torch.addmm(gx, h, w_hh_t).chunk(4, dim=1)
    i = torch.sigmoid(i)
    f = torch.sigmoid(f)
    g = torch.tanh(g)
    o = torch.sigmoid(o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return h, c


def gru_step(gx: Tensor, h: Tensor, w_hh_t: Tensor, b_hh: Tensor) -> Tensor:
    """One GRU step. gx = W_ih x + b_ih: (B, 3H); h: (B, H); w_hh_t: (H, 3H).

    r = σ(W_ir x + b_ir + W_hr h + b_hr)           reset gate
    z = σ(W_iz x + b_iz + W_hz h + b_hz)           update gate
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))  candidate (r scales W_hn h + b_hn)
    h' = (1 - z) * n + z * h
    """
    x_r, x_z, x_n = gx.chunk(3, dim=1)
    h_r, h_z, h_n = torch.addmm(b_hh, h, w_hh_t).chunk(3, dim=1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


class RecurrentWeightGrad(torch.autograd.Function):
    """Identity on `gx (B, T, G*H)` whose backward also gives W_hh's gradient in one matmul.

    The time loop (RNN, LSTM) computes gates_t = gx_t + h_(t-1) @ W_hh^T with a detached
    W_hh, so the gradient reaching `gx_t` is exactly d(gates_t). Left to autograd, the
    loop would make one (G*H, H) weight gradient per step and sum them (T small matmuls
    and T full-matrix additions); here
    dW_hh = sum_t d(gates_t)^T h_(t-1) is a single matmul over all steps. The loop
    appends each h_(t-1) to `h_prev` as it runs.
    """

    @staticmethod
    def forward(ctx: Any, z: Tensor, w_hh: Tensor, h_prev: list[Tensor]) -> Tensor:
        ctx.h_prev, ctx.w_dtype = h_prev, w_hh.dtype
        return z.view_as(z)

    @staticmethod
    def backward(ctx: Any, dz: Tensor) -> tuple[Tensor, Tensor, None]:
        # Under autocast the states may mix float32 (h_0) and the autocast dtype.
        h_prev = torch.stack([h.to(dz.dtype) for h in ctx.h_prev], dim=1)  # (B, T, H)
        dw = dz.reshape(-1, dz.shape[-1]).t() @ h_prev.reshape(-1, h_prev.shape[-1])
        return dz, dw.to(ctx.w_dtype), None


class ScratchLayers(nn.Module):
    """A stack of recurrent layers with torch's parameter names, written out."""

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
        kernels: bool = False,
    ) -> None:
        super().__init__()
        self.kind, self.hidden_size, self.num_layers = kind, hidden_size, num_layers
        # kernels: run the RNN and GRU loops in seqkit_plugins.sequence_kernels (a
        # hand-written backward) instead of step by step under autograd; same function.
        self.kernels = kernels and kind in ("rnn", "gru")
        self.dirs, self.dropout = (2 if bidirectional else 1), dropout
        self.relu = nonlinearity == "relu"
        gh = GATES[kind] * hidden_size
        for layer in range(num_layers):
            d_in = input_size if layer == 0 else hidden_size * self.dirs
            for suffix in ("", "_reverse")[: self.dirs]:
                name = f"l{layer}{suffix}"
                setattr(self, f"weight_ih_{name}", nn.Parameter(torch.empty(gh, d_in)))
                setattr(self, f"weight_hh_{name}", nn.Parameter(torch.empty(gh, hidden_size)))
                setattr(self, f"bias_ih_{name}", nn.Parameter(torch.empty(gh)))
                setattr(self, f"bias_hh_{name}", nn.Parameter(torch.empty(gh)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's initialisation: every weight from U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def weights(self, layer: int, direction: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        name = f"l{layer}{'_reverse' if direction else ''}"
        return (
            getattr(self, f"weight_ih_{name}"),
            getattr(self, f"weight_hh_{name}"),
            getattr(self, f"bias_ih_{name}"),
            getattr(self, f"bias_hh_{name}"),
        )

    def initial_state(self, x: Tensor) -> Any:
        h = x.new_zeros(self.num_layers * self.dirs, x.shape[0], self.hidden_size)
        return (h, torch.zeros_like(h)) if self.kind == "lstm" else h

    def forward(
        self, x: Tensor, state: Any = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, Any]:
        """x (B, T, D) -> outputs (B, T, H * dirs), final state (torch's layout).

        `lengths (B,)`: each sequence's real steps. The state is then kept unchanged past
        a sequence's end (its final state is the one at its last real step), and the
        backward direction reads each sequence reversed within its own length."""
        state = self.initial_state(x) if state is None else state
        h0, c0 = state if self.kind == "lstm" else (state, None)
        live, order = None, None
        if lengths is not None:
            steps = torch.arange(x.shape[1], device=x.device)
            ends = lengths.to(x.device).unsqueeze(1)
            live = (steps < ends).unsqueeze(-1)  # (B, T, 1): real steps
            # each sequence reversed within its length, padding left where it is
            order = torch.where(steps < ends, ends - 1 - steps, steps)
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(self.dirs):
                k = layer * self.dirs + direction
                seq = _reversed(x, order) if direction else x
                c_k = c0[k] if c0 is not None else None
                out, h_k, c_k = self.run_direction(seq, layer, direction, h0[k], c_k, live)
                outs.append(_reversed(out, order) if direction else out)
                finals_h.append(h_k)
                finals_c.append(c_k)
            x = torch.cat(outs, dim=2) if self.dirs == 2 else outs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = nn.functional.dropout(x, self.dropout, training=True)
        h_n = torch.stack(finals_h)
        if self.kind == "lstm":
            return x, (h_n, torch.stack(finals_c))  # type: ignore[arg-type]
        return x, h_n

    def run_direction(
        self,
        x: Tensor,
        layer: int,
        direction: int,
        h: Tensor,
        c: Tensor | None,
        live: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """One layer, one direction, over the whole sequence: (B, T, D_in) -> (B, T, H).
        `live (B, T, 1)`: the real steps; at the others the state is carried unchanged."""
        w_ih, w_hh, b_ih, b_hh = self.weights(layer, direction)
        b, t = x.shape[0], x.shape[1]
        gx = torch.addmm(
            b_ih if self.kind == "gru" else b_ih + b_hh, x.reshape(b * t, -1), w_ih.t()
        ).view(b, t, -1)
        if live is not None:
            return self.run_masked(gx, w_hh, b_hh, h, c, live)
        if self.kernels:
            if self.kind == "gru":
                out = GRUSequence.apply(gx, h, w_hh, b_hh)
            else:
                out = RNNSequence.apply(gx, h, w_hh, self.relu)
            return out, out[:, -1], c
        outs: list[Tensor] = []
        if self.kind == "gru":
            # b_hn sits inside r * (W_hn h + b_hn), so the GRU keeps b_hh in its step; its
            # weight gradient is left to autograd, which measured faster at H=256 and within
            # 1.05x of torch's at H=512.
            w_hh_t = w_hh.t()
            for gx_t in gx.unbind(1):
                h = gru_step(gx_t, h, w_hh_t, b_hh)
                outs.append(h)
            return torch.stack(outs, dim=1), h, c
        h_prev: list[Tensor] = []
        if torch.is_grad_enabled():  # no gradient (inference, export): no function to trace
            gx = RecurrentWeightGrad.apply(gx, w_hh, h_prev)
        w_hh_t = w_hh.detach().t()  # its gradient comes from RecurrentWeightGrad
        for gx_t in gx.unbind(1):
            h_prev.append(h)
            if self.kind == "lstm":
                assert c is not None
                h, c = lstm_step(gx_t, h, c, w_hh_t)
            else:
                h = rnn_step(gx_t, h, w_hh_t, self.relu)
            outs.append(h)
        return torch.stack(outs, dim=1), h, c

    def run_masked(
        self,
        gx: Tensor,
        w_hh: Tensor,
        b_hh: Tensor,
        h: Tensor,
        c: Tensor | None,
        live: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """The time loop with autograd's own gradients, the state kept past each
        sequence's end: `h_t = live_t ? step(h_{t-1}) : h_{t-1}` (and `c_t`)."""
        outs: list[Tensor] = []
        w_hh_t = w_hh.t()
        for gx_t, live_t in zip(gx.unbind(1), live.unbind(1), strict=True):
            if self.kind == "gru":
                new_h, new_c = gru_step(gx_t, h, w_hh_t, b_hh), c
            elif self.kind == "lstm":
                assert c is not None
                new_h, new_c = lstm_step(gx_t, h, c, w_hh_t)
            else:
                new_h, new_c = rnn_step(gx_t, h, w_hh_t, self.relu), c
            h = torch.where(live_t, new_h, h)
            if c is not None and new_c is not None:
                c = torch.where(live_t, new_c, c)
            outs.append(h)
        return torch.stack(outs, dim=1), h, c


def _reversed(x: Tensor, order: Tensor | None) -> Tensor:
    """`x (B, T, F)` reversed in time: the whole of it, or (with `order (B, T)`) each
    sequence within its own length."""
    if order is None:
        return x.flip(1)
    return x.gather(1, order.unsqueeze(-1).expand_as(x))


def equations(kind: str, b: int, d: int, h: int, layers: int, dirs: int, relu: bool) -> list[str]:
    """The per-step equations of layer 1 with the shape of every term, for `seqkit explain`."""
    act = "relu" if relu else "tanh"
    g = GATES[kind]
    lines = [f"x_t ({b}, {d}), h_(t-1) ({b}, {h})  [batch B={b}, input D={d}, hidden H={h}]"]
    if kind == "rnn":
        lines.append(
            f"h_t ({b}, {h}) = {act}(x_t @ W_ih^T ({d}, {h}) + b_ih ({h}) "
            f"+ h_(t-1) @ W_hh^T ({h}, {h}) + b_hh ({h}))"
        )
    elif kind == "lstm":
        lines += [
            f"gates ({b}, {g * h}) = x_t @ W_ih^T ({d}, {g * h}) + b_ih ({g * h}) "
            f"+ h_(t-1) @ W_hh^T ({h}, {g * h}) + b_hh ({g * h})",
            f"i, f, g, o = split(gates) -> 4 x ({b}, {h})",
            "i = sigmoid(i)  input gate;  f = sigmoid(f)  forget gate",
            "g = tanh(g)  candidate;  o = sigmoid(o)  output gate",
            f"c_t ({b}, {h}) = f * c_(t-1) + i * g",
            f"h_t ({b}, {h}) = o * tanh(c_t)",
        ]
    else:
        lines += [
            f"gx ({b}, {g * h}) = x_t @ W_ih^T ({d}, {g * h}) + b_ih -> x_r, x_z, x_n",
            f"gh ({b}, {g * h}) = h_(t-1) @ W_hh^T ({h}, {g * h}) + b_hh -> h_r, h_z, h_n",
            f"r ({b}, {h}) = sigmoid(x_r + h_r)  reset gate",
            f"z ({b}, {h}) = sigmoid(x_z + h_z)  update gate",
            f"n ({b}, {h}) = tanh(x_n + r * h_n)  candidate",
            f"h_t ({b}, {h}) = (1 - z) * n + z * h_(t-1)",
        ]
    if layers > 1 or dirs > 1:
        lines.append(
            f"{layers} layer(s) x {dirs} direction(s): layer k > 1 reads the previous layer's "
            f"outputs, D = {h * dirs}"
            + ("; the backward direction reads the sequence reversed" if dirs > 1 else "")
        )
    return lines
