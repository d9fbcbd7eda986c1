"""Whole-sequence autograd Functions for the RNN and GRU time loops on the CPU.

On a CPU, a small recurrent layer's step is a handful of tiny operations, and autograd's
per-operation bookkeeping costs more than their arithmetic. These Functions run the
loop without recording a graph and write the backward pass by hand: per time step the
RNN does 2 operations forward and 2 back, the GRU 6 and 4, with every factor that does
not depend on the incoming gradient computed for all steps at once before the loop.
The input projections (`gx`, with their biases) stay outside, as one autograd matmul.

Conventions are torch's (`nn.RNN`, `nn.GRU`), for one layer and one direction:
`gx (B, T, G*H)` is `x_t @ W_ih^T + b_ih` (RNN: `+ b_hh` too), `h0 (B, H)`,
`w_hh (G*H, H)`; the output is every step's h, `(B, T, H)`. Tested equal to torch's
modules in float64, gradients included (tests/test_scratch_cells.py).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


class RNNSequence(torch.autograd.Function):
    """h_t = act(gx_t + h_(t-1) @ W_hh^T), act = tanh or relu."""

    @staticmethod
    def forward(ctx: Any, gx: Tensor, h0: Tensor, w_hh: Tensor, relu: bool) -> Tensor:
        w_t, h, hs = w_hh.t(), h0, []
        act = torch.relu if relu else torch.tanh
        for gx_t in gx.unbind(1):
            h = act(torch.addmm(gx_t, h, w_t))
            hs.append(h)
        out = torch.stack(hs, dim=1)
        ctx.relu = relu
        ctx.save_for_backward(w_hh, h0, out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, d_out: Tensor) -> tuple[Tensor, Tensor, Tensor, None]:
        w_hh, h0, out = ctx.saved_tensors
        slope = (out > 0).to(out.dtype) if ctx.relu else 1 - out * out  # act'(a_t)
        steps = out.shape[1]
        g, da = d_out[:, -1], [Tensor()] * steps
        for t in range(steps - 1, 0, -1):
            da[t] = g * slope[:, t]
            g = torch.addmm(d_out[:, t - 1], da[t], w_hh)  # dL/dh_(t-1)
        da[0] = g * slope[:, 0]
        d_a = torch.stack(da, dim=1)
        h_prev = torch.cat([h0.unsqueeze(1), out[:, :-1]], dim=1)
        d_w = d_a.flatten(0, 1).t() @ h_prev.flatten(0, 1)
        return d_a, da[0] @ w_hh, d_w, None


class GRUSequence(torch.autograd.Function):
    """torch's GRU: r, z = sigmoid(gx_rz + gh_rz); n = tanh(gx_n + r * gh_n);
    h_t = (1 - z) n + z h_(t-1), with gh = h_(t-1) @ W_hh^T + b_hh."""

    @staticmethod
    def forward(ctx: Any, gx: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
        hidden = h0.shape[1]
        w_t, h = w_hh.t(), h0
        hs, rzs, ns, ghs = [], [], [], []
        for gx_t in gx.unbind(1):
            gh = torch.addmm(b_hh, h, w_t)
            rz = torch.sigmoid(gx_t[:, : 2 * hidden] + gh[:, : 2 * hidden])
            n = torch.tanh(
                torch.addcmul(gx_t[:, 2 * hidden :], rz[:, :hidden], gh[:, 2 * hidden :])
            )
            h = torch.lerp(n, h, rz[:, hidden:])  # n + z (h - n)
            hs.append(h)
            rzs.append(rz)
            ns.append(n)
            ghs.append(gh)
        out = torch.stack(hs, dim=1)
        ctx.save_for_backward(
            w_hh, h0, out, torch.stack(rzs, dim=1), torch.stack(ns, dim=1), torch.stack(ghs, 1)
        )
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, d_out: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        w_hh, h0, out, rz, n, gh = ctx.saved_tensors
        batch, steps, hidden = out.shape
        r, z = rz[..., :hidden], rz[..., hidden:]
        h_prev = torch.cat([h0.unsqueeze(1), out[:, :-1]], dim=1)
        # dL/d(pre-activation) = dL/dh_t * factor, for every factor free of dL/dh_t:
        d_n = (1 - z) * (1 - n * n)  # through n's tanh
        factors = torch.stack(
            [
                d_n * gh[..., 2 * hidden :] * r * (1 - r),  # r's pre-activation
                (h_prev - n) * z * (1 - z),  # z's pre-activation
                d_n * r,  # gh_n
            ],
            dim=2,
        )  # (B, T, 3, H)
        g, dgh, gs = d_out[:, -1], [Tensor()] * steps, [Tensor()] * steps
        for t in range(steps - 1, -1, -1):
            gs[t] = g
            dgh[t] = (factors[:, t] * g.unsqueeze(1)).view(batch, 3 * hidden)
            carry = torch.addcmul(d_out[:, t - 1], g, z[:, t]) if t else g * z[:, 0]
            g = torch.addmm(carry, dgh[t], w_hh)  # dL/dh_(t-1)
        d_gh = torch.stack(dgh, dim=1)  # (B, T, 3H)
        d_gx = torch.cat([d_gh[..., : 2 * hidden], torch.stack(gs, dim=1) * d_n], dim=-1)
        d_w = d_gh.flatten(0, 1).t() @ h_prev.flatten(0, 1)
        return d_gx, g, d_w, d_gh.sum(dim=(0, 1))
