"""The gradient-flow probe: exact against plain autograd, underflow-free, any cell."""

from __future__ import annotations

import math

import pytest
import torch
from test_registry import EchoPlugin

import seqkit
from seqkit._core.errors import ConfigError
from seqkit._plugins.registry import load_registry
from seqkit._train.gradflow import gradient_flow


def naive_log10_grads(model, loss_fn, x, y, t_out_all: bool):
    """dL/dh_t by brute force: unroll through step keeping the graph, retain each state."""
    cell, s, states, outs = model.cell, None, [], []
    for x_t in x.unbind(1):
        h, s = cell.step(x_t, s)
        h_state = s[0] if isinstance(s, tuple) else s  # (layers, B, H); h is its top layer
        h_state.retain_grad()
        states.append(h_state)
        outs.append(h)
    seq = torch.stack(outs, 1)
    out = model.head(seq) if t_out_all else model.head(seq[:, -1]).unsqueeze(1)
    loss_fn(out, y).backward()
    return [math.log10(float(h.grad[-1].norm(dim=1).mean())) for h in states]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("topology", ["many-to-one", "many-to-many"])
def test_exact_against_brute_force_autograd(cell, topology):
    torch.manual_seed(0)
    t = 25
    task = seqkit.get_task("cumsum" if topology == "many-to-many" else "sum", seq_len=t)
    x, y = task.generate(6, torch.Generator().manual_seed(0), torch.device("cpu"))
    model = seqkit.build_model(cell, topology, 1, 12, 1).double()
    x, y = x.double() / 10, y.double() / 100
    flow = gradient_flow(model, task.loss, x, y)
    expected = naive_log10_grads(model, task.loss, x, y, topology == "many-to-many")
    assert flow.seq_len == t and len(flow.curve) == t
    assert max(abs(a - b) for a, b in zip(flow.curve, expected, strict=True)) < 1e-10


def test_no_underflow_where_float32_autograd_gives_zero():
    torch.manual_seed(0)
    task = seqkit.get_task("adding", seq_len=600)
    x, y = task.generate(8, torch.Generator().manual_seed(0), torch.device("cpu"))
    model = seqkit.build_model("rnn", "many-to-one", 2, 32, 1)
    flow = gradient_flow(model, task.loss, x, y)
    assert all(math.isfinite(v) for v in flow.curve)
    assert flow.curve[0] < -60  # far below float32's smallest normal (1e-38)
    wide = gradient_flow(model, task.loss, x, y, dtype=torch.float64)
    assert wide.dtype == "float64"
    # float32 and float64 agree on the decay to a small fraction of its span.
    assert abs(flow.curve[0] - wide.curve[0]) < 0.01 * abs(wide.curve[0])
    assert flow.steps_to_1e6_drop is not None and flow.steps_to_1e6_drop < 100


def test_lstm_reports_h_and_c_per_layer_and_forget_bias_slows_the_decay():
    task = seqkit.get_task("adding", seq_len=100)
    x, y = task.generate(16, torch.Generator().manual_seed(0), torch.device("cpu"))
    factors = {}
    for bias in (0.0, 3.0):
        torch.manual_seed(0)
        model = seqkit.build_model(
            "lstm", "many-to-one", 2, 32, 1, cell_options={"forget_bias": bias, "num_layers": 2}
        )
        flow = gradient_flow(model, task.loss, x, y)
        assert set(flow.log10_grad) == {"h1", "h2", "c1", "c2"} and flow.headline == "h2"
        factors[bias] = flow.log10_vanishing_factor
    assert factors[0.0] < -10 and factors[3.0] > factors[0.0] + 8


def test_third_party_cell_gets_the_probe_for_free():
    registry = load_registry(plugins=[EchoPlugin()])
    model = seqkit.build_model("echo", "many-to-one", 1, 8, 1, registry=registry)
    x = torch.randn(4, 10, 1)
    flow = gradient_flow(model, torch.nn.functional.mse_loss, x, torch.zeros(4, 1, 1))
    assert list(flow.log10_grad) == ["state0"] and len(flow.curve) == 10
    assert len(flow.hidden_norm) == 10 and all(v > 0 for v in flow.hidden_norm)


def test_model_is_left_untouched_and_seq2seq_is_refused():
    model = seqkit.build_model("gru", "many-to-one", 1, 8, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    gradient_flow(model, torch.nn.functional.mse_loss, torch.randn(2, 5, 1), torch.zeros(2, 1, 1))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.requires_grad and p.grad is None for p in model.parameters())
    s2s = seqkit.build_model("gru", "seq2seq", 1, 8, 1, output_len=3)
    with pytest.raises(ConfigError, match="exactly one cell"):
        gradient_flow(s2s, torch.nn.functional.mse_loss, torch.randn(2, 5, 1), torch.zeros(2, 3, 1))
