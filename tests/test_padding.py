"""Sequences of different lengths in one batch (issue 30): padding never changes the
answer. For every built-in cell (each implementation, stacked, bidirectional where the
topology allows) and every topology that reads more than one step, a padded batch gives
the same outputs and the same gradients as running each sequence alone, within 1e-6 in
float64; a cell or topology that does not take `lengths` is refused with one line."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

import seqkit
from seqkit import IOSpec

LENGTHS = (6, 4, 1)
STEPS, D, K, H, T_OUT = 6, 2, 3, 5, 3

CELLS = [
    ("rnn", {"impl": "fused"}),
    ("rnn", {"impl": "scratch"}),
    ("rnn", {"impl": "kernels"}),
    ("lstm", {"impl": "fused"}),
    ("lstm", {"impl": "scratch"}),
    ("gru", {"impl": "fused"}),
    ("gru", {"impl": "scratch"}),
    ("gru", {"impl": "kernels"}),
]
SHAPES = [{}, {"num_layers": 2}, {"bidirectional": True}]
TOPOLOGIES = ["many-to-one", "many-to-many", "seq2seq"]


def cases():
    for (cell, impl), shape, topology in itertools.product(CELLS, SHAPES, TOPOLOGIES):
        if topology == "seq2seq" and shape.get("bidirectional"):
            continue  # its decoder runs step by step: refused for a bidirectional cell
        name = f"{cell}-{impl['impl']}-{'-'.join(shape) or 'plain'}-{topology}"
        yield pytest.param(cell, {**impl, **shape}, topology, id=name)


def model_for(cell: str, options: dict, topology: str) -> nn.Module:
    out_len = {"many-to-one": 1, "many-to-many": STEPS, "seq2seq": T_OUT}[topology]
    io = IOSpec(D, K, STEPS, out_len, padded_inputs=True)
    torch.manual_seed(0)
    model = seqkit.build_model(cell, topology, io=io, hidden_size=H, cell_options=options)
    return model.double().eval()


def real(out: torch.Tensor, topology: str, length: int) -> torch.Tensor:
    """The outputs of one sequence that its targets score."""
    return out[:length] if topology == "many-to-many" else out


@pytest.mark.parametrize("cell, options, topology", list(cases()))
def test_a_padded_batch_equals_each_sequence_alone(cell, options, topology):
    model = model_for(cell, options, topology)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(len(LENGTHS), STEPS, D, generator=g, dtype=torch.float64)
    w = torch.randn(max(STEPS, T_OUT), K, generator=g, dtype=torch.float64)
    padded = x.clone()
    for b, n in enumerate(LENGTHS):
        padded[b, n:] = math.nan

    def loss(out: torch.Tensor, b: int) -> torch.Tensor:
        kept = real(out, topology, LENGTHS[b])
        return (kept * w[: kept.shape[0]]).sum()

    batch = model(padded)
    total = sum(loss(batch[b], b) for b in range(len(LENGTHS)))
    batch_grads = torch.autograd.grad(total, list(model.parameters()), allow_unused=True)

    alone_total = 0.0
    for b, n in enumerate(LENGTHS):
        alone = model(x[b : b + 1, :n])[0]
        assert torch.allclose(real(batch[b], topology, n), real(alone, topology, n), atol=1e-6)
        alone_total = alone_total + loss(alone, b)
    alone_grads = torch.autograd.grad(alone_total, list(model.parameters()), allow_unused=True)
    names = [n for n, _ in model.named_parameters()]
    for name, a, s in zip(names, batch_grads, alone_grads, strict=True):
        assert (a is None) == (s is None), name
        if a is not None:
            assert torch.allclose(a, s, atol=1e-6), (name, (a - s).abs().max().item())


def test_equal_lengths_take_the_plain_path():
    """A batch with no padding is handed over as it is, without lengths."""
    model = model_for("lstm", {}, "many-to-many")
    seen = {}
    inner = model.inner
    original = inner.forward

    def spy(x, lengths=None):
        seen["lengths"] = lengths
        return original(x, lengths)

    inner.forward = spy
    model(torch.randn(2, STEPS, D, dtype=torch.float64))
    assert seen["lengths"] is None


def test_a_cell_without_lengths_is_refused_with_one_line():
    class Plain(nn.Module):
        def __init__(self, input_size, hidden_size):
            super().__init__()
            self.inner = nn.GRU(input_size, hidden_size, batch_first=True)
            self.input_size, self.hidden_size = input_size, hidden_size
            self.output_size, self.num_directions = hidden_size, 1

        def forward(self, x, state=None):
            return self.inner(x, state)

        def step(self, x_t, state=None):
            _, state = self.inner(x_t.unsqueeze(1), state)
            return state[-1], state

    class Plugin:
        @seqkit.hookimpl
        def register_cells(self, register):
            register("plain", Plain)

    registry = seqkit.load_registry(strict=True)  # its own: the session's stays as it is
    registry.add_plugin(Plugin(), "plain-cell")
    io = IOSpec(D, K, STEPS, 1, padded_inputs=True)
    with pytest.raises(seqkit.ConfigError, match="cell 'plain' cannot read sequences of"):
        seqkit.build_model("plain", "many-to-one", io=io, registry=registry)


def test_variable_length_arrays_train_and_read_the_last_real_step(tmp_path):
    """Which of two symbols came last, in sequences of 3 to 12 steps: only the last real
    step answers, so a model that read padding, or the padded end, would be at chance."""
    rng = np.random.default_rng(0)
    n, longest = 600, 12
    lengths = rng.integers(3, longest + 1, n)
    x = np.zeros((n, longest, 2), dtype=np.float32)
    x[..., 0] = rng.normal(0, 1, (n, longest))
    y = np.zeros(n, dtype=np.int64)
    for i, length in enumerate(lengths):
        y[i] = rng.integers(0, 2)
        x[i, length - 1, 1] = 1.0 if y[i] else -1.0  # the answer sits at the last real step
    data = seqkit.from_arrays(x, y, lengths=lengths)
    result = seqkit.run(cell="gru", data=data, epochs=15, seed=0, device="cpu", quiet=True)
    assert result.task.io.padded_inputs
    assert result.test["test_accuracy"] > 0.95
    padded = result.task.splits.train[0]
    assert torch.isnan(padded).any()  # stored padded, NaN after each end


def test_lists_of_sequences_and_per_step_targets_are_padded_and_masked():
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=(n, 2)).astype(np.float32) for n in (5, 3, 7) * 40]
    ys = [(s[:, 0] > 0).astype(np.int64) for s in xs]  # a class per step
    task = seqkit.get_task("arrays", **seqkit.from_arrays(xs, ys).options)
    x, y = task.splits.train
    assert task.io == IOSpec(2, 2, 7, 7, padded_inputs=True) and task.partial_targets
    lengths = (~torch.isnan(x).any(-1)).sum(1)
    assert set(lengths.tolist()) == {3, 5, 7}
    for i in range(x.shape[0]):
        n = int(lengths[i])
        assert (y[i, n:] == seqkit.IGNORE).all() and (y[i, :n] >= 0).all()
    # the chance level counts only the real steps: both classes about equally often
    assert task.chance_loss(y) == pytest.approx(math.log(2), abs=0.05)


def test_bad_lengths_are_one_line(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, X=np.zeros((4, 3, 1)), y=np.zeros(4), lengths=np.array([3, 0, 2, 1]))
    with pytest.raises(seqkit.ConfigError, match=r"lengths must lie in 1\.\.3"):
        seqkit.get_task("arrays", path=str(path)).splits  # noqa: B018


def test_tbptt_and_probes_are_refused_for_padded_data():
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(n, 1)).astype(np.float32) for n in (4, 6) * 30]
    data = seqkit.from_arrays(xs, [i % 2 for i in range(60)])
    with pytest.raises(seqkit.ConfigError, match="--tbptt is not offered yet for sequences"):
        seqkit.run(cell="gru", data=data, tbptt=2, quiet=True, device="cpu")
