"""The written-out cells compute exactly torch's function, gradients included."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from seqkit_plugins.recurrent import Recurrent

import seqkit


def _pair(kind, d, h, layers, bidirectional, dtype, relu=False):
    extra = {"nonlinearity": "relu" if relu else "tanh"} if kind == "rnn" else {}
    fused = Recurrent(
        kind, d, h, num_layers=layers, bidirectional=bidirectional, impl="fused", **extra
    )
    scratch = Recurrent(
        kind, d, h, num_layers=layers, bidirectional=bidirectional, impl="scratch", **extra
    )
    scratch.load_state_dict(fused.state_dict())
    return fused.to(dtype), scratch.to(dtype)


def _flat(state):
    return list(state) if isinstance(state, tuple) else [state]


def _run(cell, x, state):
    out, final = cell(x, state)
    loss = out.square().sum() + sum(s.sin().sum() for s in _flat(final))
    grads = torch.autograd.grad(loss, [*cell.parameters(), x])
    return out, _flat(final), grads


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(["rnn", "lstm", "gru"]),
    b=st.integers(1, 4),
    t=st.integers(1, 7),
    d=st.integers(1, 5),
    h=st.integers(1, 6),
    layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    with_state=st.booleans(),
    relu=st.booleans(),
    dtype=st.sampled_from([torch.float64, torch.float32]),
    seed=st.integers(0, 10_000),
)
def test_scratch_equals_torch(
    kind, b, t, d, h, layers, bidirectional, with_state, relu, dtype, seed
):
    torch.manual_seed(seed)
    fused, scratch = _pair(kind, d, h, layers, bidirectional, dtype, relu)
    x = torch.randn(b, t, d, dtype=dtype, requires_grad=True)
    state = None
    if with_state:
        shape = (layers * (2 if bidirectional else 1), b, h)
        state = torch.randn(shape, dtype=dtype)
        state = (state, torch.randn(shape, dtype=dtype)) if kind == "lstm" else state
    tol = {"rtol": 0, "atol": 1e-10} if dtype == torch.float64 else {"rtol": 1e-5, "atol": 1e-5}
    ref, got = _run(fused, x, state), _run(scratch, x, state)
    torch.testing.assert_close(got[0], ref[0], **tol)
    for a, e in zip(got[1], ref[1], strict=True):
        torch.testing.assert_close(a, e, **tol)
    for a, e in zip(got[2], ref[2], strict=True):  # every parameter, and the input
        torch.testing.assert_close(a, e, **tol)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_state_dict_moves_both_ways(kind):
    torch.manual_seed(0)
    fused = Recurrent(kind, 3, 5, num_layers=2, bidirectional=True)
    scratch = Recurrent(kind, 3, 5, num_layers=2, bidirectional=True, impl="scratch")
    assert fused.state_dict().keys() == scratch.state_dict().keys()
    x = torch.randn(2, 4, 3)
    scratch.load_state_dict(fused.state_dict())
    torch.testing.assert_close(scratch(x)[0], fused(x)[0])
    torch.manual_seed(1)
    scratch2 = Recurrent(kind, 3, 5, num_layers=2, bidirectional=True, impl="scratch")
    fused.load_state_dict(scratch2.state_dict())
    torch.testing.assert_close(fused(x)[0], scratch2(x)[0])


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(0)
    cell = Recurrent("gru", 3, 8, num_layers=2, dropout=0.5, impl="scratch")
    x = torch.randn(4, 5, 3)
    cell.train()
    assert not torch.equal(cell(x)[0], cell(x)[0])
    cell.eval()
    assert torch.equal(cell(x)[0], cell(x)[0])


def test_scratch_trains_from_the_command_line_option():
    result = seqkit.run(
        cell="lstm",
        task="sum",
        cell_options={"impl": "scratch"},
        device="cpu",
        epochs=10,
        task_options={"num_samples": 5000},
    )
    assert result.config.cell_options["impl"] == "scratch"
    assert result.metrics["val_loss"] < 0.01 * result.chance_loss


@pytest.mark.parametrize(
    ("kind", "t", "hidden", "written_out"),
    [
        ("rnn", 40, 6, True),
        ("rnn", 6, 6, False),  # short: torch's
        ("gru", 40, 6, True),
        ("gru", 40, 64, False),  # above KERNEL_MAX_HIDDEN: torch's
        ("lstm", 40, 6, False),  # oneDNN's kernel
    ],
)
def test_auto_takes_the_sequence_kernels_where_they_are_faster(kind, t, hidden, written_out):
    torch.manual_seed(0)
    auto = Recurrent(kind, 3, hidden, num_layers=2, bidirectional=True).double()
    fused = Recurrent(kind, 3, hidden, num_layers=2, bidirectional=True, impl="fused").double()
    fused.load_state_dict(auto.state_dict())
    assert list(auto.state_dict()) == list(fused.state_dict())  # one set of weights
    calls = []
    auto.rnn.register_forward_hook(lambda *a: calls.append("torch"))
    x = torch.randn(4, t, 3, dtype=torch.float64, requires_grad=True)
    (out_a, fin_a, grads_a), (out_f, fin_f, grads_f) = _run(auto, x, None), _run(fused, x, None)
    assert calls == ([] if written_out else ["torch"])
    torch.testing.assert_close(out_a, out_f, rtol=0, atol=1e-12)
    for a, f in zip([*fin_a, *grads_a], [*fin_f, *grads_f], strict=True):
        torch.testing.assert_close(a, f, rtol=0, atol=1e-10)


@pytest.mark.parametrize(("kind", "relu"), [("rnn", False), ("rnn", True), ("gru", False)])
def test_sequence_kernels_equal_torch_with_an_initial_state(kind, relu):
    extra = {"nonlinearity": "relu"} if relu else {}
    torch.manual_seed(1)
    auto = Recurrent(kind, 2, 5, num_layers=2, **extra).double()
    fused = Recurrent(kind, 2, 5, num_layers=2, impl="fused", **extra).double()
    fused.load_state_dict(auto.state_dict())
    x = torch.randn(3, 30, 2, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    (out_a, fin_a, grads_a), (out_f, fin_f, grads_f) = _run(auto, x, h0), _run(fused, x, h0)
    torch.testing.assert_close(out_a, out_f, rtol=0, atol=1e-12)
    d_h0 = [torch.autograd.grad(m(x, h0)[0].sum(), h0)[0] for m in (auto, fused)]
    torch.testing.assert_close(d_h0[0], d_h0[1], rtol=0, atol=1e-12)
    for a, f in zip([*fin_a, *grads_a], [*fin_f, *grads_f], strict=True):
        torch.testing.assert_close(a, f, rtol=0, atol=1e-10)


def test_auto_leaves_the_seeded_initialisation_of_later_modules_as_fused_does():
    models = []
    for impl in ("auto", "fused"):
        torch.manual_seed(0)
        models.append(
            seqkit.build_model(
                "gru", "many-to-one", input_size=3, hidden_size=16, output_size=1,
                cell_options={"impl": impl},
            )
        )  # fmt: skip
    for a, f in zip(models[0].state_dict().values(), models[1].state_dict().values(), strict=True):
        assert torch.equal(a, f)


def test_auto_follows_parameters_replaced_by_load_state_dict_assign():
    torch.manual_seed(0)
    auto, fused = Recurrent("rnn", 3, 8), Recurrent("rnn", 3, 8, impl="fused")
    auto.load_state_dict(fused.state_dict(), assign=True)
    x = torch.randn(2, 20, 3)
    torch.testing.assert_close(auto(x)[0], fused(x)[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", ["rnn", "gru"])
def test_auto_under_cpu_autocast_runs_torchs_module(kind):
    torch.manual_seed(0)
    auto, fused = Recurrent(kind, 3, 16), Recurrent(kind, 3, 16, impl="fused")
    fused.load_state_dict(auto.state_dict())
    x = torch.randn(4, 20, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out_a, out_f = auto(x)[0], fused(x)[0]
    out_a.float().sum().backward()
    assert out_a.dtype == out_f.dtype and torch.equal(out_a, out_f)  # torch's own path
