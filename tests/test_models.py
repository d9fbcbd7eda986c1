"""Shapes of every cell x topology, step vs forward, and the wiring's own rules."""

from __future__ import annotations

import itertools

import pytest
import torch

import seqkit
from seqkit._core.errors import ConfigError

CELLS = ["rnn", "lstm", "gru"]
B, T, D, H, K = 3, 7, 4, 6, 2


@pytest.mark.parametrize(
    "cell, layers, bidirectional", list(itertools.product(CELLS, [1, 2], [False, True]))
)
def test_cell_contract_shapes(registry, cell, layers, bidirectional):
    module = registry.get("cell", cell).factory(
        D, H, num_layers=layers, bidirectional=bidirectional
    )
    dirs = 2 if bidirectional else 1
    assert module.output_size == H * dirs
    out, state = module(torch.randn(B, T, D))
    assert out.shape == (B, T, H * dirs)
    h = state[0] if cell == "lstm" else state
    assert h.shape == (layers * dirs, B, H)


@pytest.mark.parametrize("cell", CELLS)
def test_step_by_step_equals_forward(registry, cell):
    torch.manual_seed(0)
    module = registry.get("cell", cell).factory(D, H, num_layers=2).double()
    x = torch.randn(B, T, D, dtype=torch.float64)
    out, final = module(x)
    state, steps = None, []
    for x_t in x.unbind(1):
        h_t, state = module.step(x_t, state)
        steps.append(h_t)
    torch.testing.assert_close(torch.stack(steps, 1), out, rtol=0, atol=1e-12)
    for a, b in zip(
        final if cell == "lstm" else [final], state if cell == "lstm" else [state], strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_rnn_relu_option(registry):
    module = registry.get("cell", "rnn").factory(D, H, nonlinearity="relu")
    out, _ = module(torch.randn(B, T, D))
    assert module.rnn.nonlinearity == "relu" and (out >= 0).all()


def test_dropout_needs_stacked_layers():
    with pytest.raises(ConfigError, match="num_layers > 1"):
        seqkit.build_model("gru", "many-to-one", 1, 8, 1, cell_options={"dropout": 0.2})


TOPOLOGY_IO = {
    "one-to-one": (1, 1),
    "one-to-many": (1, 5),
    "many-to-one": (T, 1),
    "many-to-many": (T, T),
    "seq2seq": (T, 4),
}


@pytest.mark.parametrize(
    "cell, topology, layers, bidirectional",
    list(itertools.product(CELLS, TOPOLOGY_IO, [1, 2], [False, True])),
)
def test_every_cell_in_every_topology(cell, topology, layers, bidirectional):
    t_in, t_out = TOPOLOGY_IO[topology]
    build = lambda: seqkit.build_model(  # noqa: E731
        cell,
        topology,
        D,
        H,
        K,
        input_len=t_in,
        output_len=t_out,
        cell_options={"num_layers": layers, "bidirectional": bidirectional},
    )
    if topology == "seq2seq" and bidirectional:
        with pytest.raises(ConfigError, match="unidirectional"):
            build()
        return
    model = build()
    y = model(torch.randn(B, t_in, D))
    assert y.shape == (B, t_out, K)
    y.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_one_to_many_feeds_back_predictions():
    torch.manual_seed(0)
    model = seqkit.build_model(
        "gru",
        "one-to-many",
        1,
        8,
        1,
        input_len=1,
        output_len=6,
        topology_options={"feed": "prediction"},
    )
    x = torch.randn(2, 1, 1)
    y = model(x)
    # Replay by hand: each later step reads the previous prediction.
    h, state = model.cell.step(x[:, 0])
    expected = [model.head(h)]
    for _ in range(5):
        h, state = model.cell.step(expected[-1], state)
        expected.append(model.head(h))
    torch.testing.assert_close(y, torch.stack(expected, 1))


def test_one_to_many_zeros_is_a_real_unroll():
    model = seqkit.build_model("rnn", "one-to-many", 1, 8, 1, input_len=1, output_len=10)
    y = model(torch.ones(1, 1, 1))
    # Outputs differ per step because the state evolves, not one 10-wide layer.
    assert y.shape == (1, 10, 1) and y.squeeze().unique().numel() == 10


def test_many_to_one_bidirectional_reads_backward_half_at_t0():
    torch.manual_seed(0)
    model = seqkit.build_model("gru", "many-to-one", D, H, K, cell_options={"bidirectional": True})
    x = torch.randn(B, T, D)
    _, h_n = model.cell(x)  # (2, B, H): forward final, backward final
    expected = model.head(torch.cat([h_n[0], h_n[1]], dim=-1)).unsqueeze(1)
    torch.testing.assert_close(model(x), expected)


@pytest.mark.parametrize(
    "topology, t_in, t_out, reason",
    [
        ("one-to-one", 5, 5, "emits one output step"),
        ("one-to-one", 5, 1, "reads one step"),
        ("many-to-many", 5, 3, "use seq2seq"),
        ("many-to-one", 5, 5, "emits one output step"),
        ("one-to-many", 5, 3, "reads one step"),
    ],
)
def test_topology_that_cannot_serve_names_the_reason(topology, t_in, t_out, reason):
    with pytest.raises(ConfigError, match=f"topology '{topology}' cannot serve.*{reason}"):
        seqkit.build_model("gru", topology, 1, 8, 1, input_len=t_in, output_len=t_out)


def test_plan_rejects_one_to_one_for_cumsum():
    with pytest.raises(ConfigError, match="one-to-one"):
        seqkit.plan(seqkit.RunConfig(task="cumsum", cell="gru", topology="one-to-one"))
