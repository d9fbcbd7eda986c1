"""Per-timestep gradient flow `log10 ||dL/dh_t||`, exact at any length, for any cell.

The gradient of a fused module's `outputs` tensor is not `dL/dh_t`: it holds only the
direct dependence of the loss on each output slot (zero before the last step when the
loss is read there). The total derivative runs through the recurrence, so the probe
works on the states themselves, through the cell's public `step(x_t, state)`:

1. The topology runs as usual, but the cell's `forward` is replaced for this one call by
   an unroll through `step` without a graph. Its outputs and final state come back as
   leaves, so one backward pass gives the loss's direct gradient on every output `h_t`
   (`d_t`) and on the final state, wherever the task puts its loss.
2. Walking back from t = T, the gradient on state `s_t` is `G_t = g_t + d_t` (what
   reaches it from later steps, plus its own direct term, routed into the state by
   autograd: a cell's `h_t` is read from its state), and `g_(t-1)` is the
   vector-Jacobian product of `s_t = step(x_t, s_(t-1))` with `G_t`.
3. The vector is renormalised at every step and the log of the scale removed is
   accumulated: no underflow in float32 or float64, at T = 20000 as at T = 20.

Norms are batch means of per-sequence norms, for each named part of the state (per
layer; `c` for an LSTM), from the cell's optional `state_parts(state)`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._core.errors import ConfigError
from seqkit._model.state import rebuild, tensors
from seqkit._plugins.interfaces import Cell, NamedStateParts

LN10 = math.log(10.0)


@dataclass
class GradientFlow:
    """What one probe measured. `log10_grad[part][t-1]` = log10 batch-mean ||dL/ds_t||."""

    seq_len: int
    log10_grad: dict[str, list[float]]
    hidden_norm: list[float]
    headline: str
    """The part that stands for `h_t`: the top layer's hidden state."""
    dtype: str = "float32"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def curve(self) -> list[float]:
        return self.log10_grad[self.headline]

    @property
    def log10_vanishing_factor(self) -> float:
        """log10 of ||dL/dh_1|| / ||dL/dh_T||: very negative when gradients vanish."""
        return self.curve[0] - self.curve[-1]

    @property
    def steps_to_1e6_drop(self) -> int | None:
        """How many steps back from T until the norm is below 1e-6 of its value at T."""
        end = self.curve[-1]
        for lag, value in enumerate(reversed(self.curve)):
            if value < end - 6:
                return lag
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq_len": self.seq_len,
            "dtype": self.dtype,
            "headline": self.headline,
            "log10_grad": self.log10_grad,
            "hidden_norm": self.hidden_norm,
            "log10_vanishing_factor": self.log10_vanishing_factor,
            "steps_to_1e6_drop": self.steps_to_1e6_drop,
            **self.extra,
        }


def find_cell(model: nn.Module) -> nn.Module:
    """The one submodule that satisfies the Cell contract (has `step` and `output_size`)."""
    cells = [m for m in model.modules() if isinstance(m, Cell)]
    if len(cells) != 1:
        raise ConfigError(
            f"the gradient probe needs a model with exactly one cell (found {len(cells)}); "
            "seq2seq has two"
        )
    return cells[0]


ONE_PASS = (
    "the gradient probe needs a topology that runs the cell over the sequence once, "
    "through its forward (not one that calls only step, as seq2seq or feed=prediction do)"
)


def check_probe_fits(model: nn.Module, x: Tensor) -> None:
    """ConfigError unless `model` has one cell and runs its `forward` once on `x`, as the
    probe's unroll needs (a topology that drives the cell by `step` alone does not)."""
    cell = find_cell(model)
    calls = []
    handle = cell.register_forward_pre_hook(lambda mod, args: calls.append(1))
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        handle.remove()
    if len(calls) != 1:
        raise ConfigError(ONE_PASS)


def state_parts(cell: nn.Module, state: Any, batch: int) -> dict[str, Tensor]:
    """Named `(B, n)` views of a state: the cell's own naming if it offers one."""
    if isinstance(cell, NamedStateParts):
        return {k: v.reshape(batch, -1) for k, v in cell.state_parts(state).items()}
    parts: dict[str, Tensor] = {}
    for i, t in enumerate(tensors(state)):
        if t.dim() == 3 and t.shape[1] == batch and t.shape[0] != batch:  # (layers, B, H)
            for layer in range(t.shape[0]):
                parts[f"state{i}[{layer + 1}]"] = t[layer]
        else:
            parts[f"state{i}"] = t.reshape(batch, -1)
    return parts


@contextmanager
def unrolled(cell: Any, record: dict[str, Any]) -> Iterator[None]:
    """Replace `cell.forward` by a graph-free unroll through `step` that returns leaves."""

    def forward(x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        if "x" in record:
            raise ConfigError(ONE_PASS)
        record["x"], record["state0"] = x.detach(), state
        outs, states, s = [], [], state
        with torch.no_grad():
            for x_t in x.unbind(1):
                h, s = cell.step(x_t, s)
                outs.append(h)
                states.append(s)
        record["states"] = states
        record["y"] = torch.stack(outs, 1).requires_grad_()
        record["final"] = rebuild(s, (t.detach().requires_grad_() for t in tensors(s)))
        return record["y"], record["final"]

    cell.forward = forward
    try:
        yield
    finally:
        del cell.forward


def gradient_flow(
    model: nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    x: Tensor,
    y: Tensor,
    dtype: torch.dtype | None = None,
) -> GradientFlow:
    """Measure `log10 ||dL/dh_t||` for t = 1..T on the batch `(x, y)`.

    `model` maps `(B, T, D)` to the task's outputs and is left untouched (a copy is probed
    in eval mode, in `dtype` if given); `loss_fn(outputs, targets)` is the task's loss.
    """
    model = copy.deepcopy(model).eval()
    if dtype is not None:
        model = model.to(dtype)
        x = x.to(dtype)
        y = y.to(dtype) if y.is_floating_point() else y
    cell: Any = find_cell(model)
    for p in model.parameters():
        p.requires_grad_(False)  # only the states' gradients are wanted

    record: dict[str, Any] = {}
    with unrolled(cell, record):
        loss = loss_fn(model(x), y)
    if "final" not in record:
        raise ConfigError(ONE_PASS)
    finals = tensors(record["final"])
    direct = torch.autograd.grad(loss, [record["y"], *finals], allow_unused=True)
    d_out = direct[0] if direct[0] is not None else torch.zeros_like(record["y"])
    xs, states, batch = record["x"].unbind(1), record["states"], x.shape[0]
    steps = len(xs)

    # g: gradient reaching s_t from later steps, as (scaled vector pytree, log scale).
    g = [
        d if d is not None else torch.zeros_like(t) for d, t in zip(direct[1:], finals, strict=True)
    ]
    log_g = 0.0
    curves: dict[str, list[float]] = {}
    for t in range(steps, 0, -1):
        prev = states[t - 2] if t > 1 else record["state0"]
        prev_leaves = [p.detach().requires_grad_() for p in tensors(prev)]
        with torch.enable_grad():
            # x_t as a leaf keeps a graph even at t = 1, where there is no state to vary.
            x_t = xs[t - 1].detach().requires_grad_()
            state_in = rebuild(prev, iter(prev_leaves)) if prev_leaves else prev
            h, new = cell.step(x_t, state_in)
            new_t = tensors(new)
            # Route the direct term d_t into the state (h_t is read from the state).
            embed = torch.autograd.grad(
                h, new_t, d_out[:, t - 1], retain_graph=True, allow_unused=True
            )
            if all(e is None for e in embed):
                raise ConfigError(
                    "the cell's step output is not computed from its new "
                    "state, so dL/dh_t cannot be routed into the state"
                )
            e = [
                v if v is not None else torch.zeros_like(s)
                for v, s in zip(embed, new_t, strict=True)
            ]
            total, log_total = _add_scaled(g, log_g, e)
            norm = max(float(v.reshape(batch, -1).norm(dim=1).max()) for v in total)
            if norm > 0 and math.isfinite(norm):
                total = [v / norm for v in total]
                log_total += math.log(norm)
            parts = state_parts(cell, rebuild(new, iter(total)), batch)
            for name, v in parts.items():
                mean = float(v.norm(dim=1).mean())
                value = (math.log(mean) + log_total) / LN10 if mean > 0 else -math.inf
                curves.setdefault(name, []).append(value)
            if prev_leaves:
                back = torch.autograd.grad(new_t, prev_leaves, total, allow_unused=True)
                g = [
                    b if b is not None else torch.zeros_like(p)
                    for b, p in zip(back, prev_leaves, strict=True)
                ]
                log_g = log_total
    for values in curves.values():
        values.reverse()
    hidden = [float(v) for v in record["y"].detach().norm(dim=2).mean(dim=0)]
    return GradientFlow(
        steps,
        curves,
        hidden,
        headline=_headline(cell, curves),
        dtype=str(x.dtype).removeprefix("torch."),
    )


def _add_scaled(a: list[Tensor], log_a: float, b: list[Tensor]) -> tuple[list[Tensor], float]:
    """`exp(log_a) * a + b` as (vectors, log scale), without overflow or underflow.

    Both terms are brought to the larger of their scales; the smaller one's factor is
    exp of a non-positive number, which at worst rounds to 0, where it is negligible."""
    if all(not bool(v.any()) for v in b):
        return a, log_a
    top = max(log_a, 0.0)
    fa, fb = math.exp(log_a - top), math.exp(-top)
    return [u * fa + v * fb for u, v in zip(a, b, strict=True)], top


def _headline(cell: nn.Module, curves: dict[str, list[float]]) -> str:
    if isinstance(cell, NamedStateParts) and cell.headline_part in curves:
        return cell.headline_part
    return next(iter(curves))
