"""Truncated backpropagation through time: state carried across chunks, gradients not."""

from __future__ import annotations

import pytest
import torch

import seqkit
from seqkit._core.errors import ConfigError
from seqkit._model import tbptt


def _model(topology: str, cell: str = "lstm") -> torch.nn.Module:
    torch.manual_seed(0)
    return seqkit.build_model(cell, topology, input_size=3, hidden_size=8, output_size=2)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_chunk_outputs_equal_the_full_pass_so_the_state_is_carried(cell):
    model = _model("many-to-many", cell)
    x, y = torch.randn(4, 10, 3), torch.randn(4, 10, 2)
    full = model(x)
    pieces = [out.detach() for out, _, _ in tbptt.chunks(model, x, y, k=3)]
    assert [p.shape[1] for p in pieces] == [3, 3, 3, 1]
    torch.testing.assert_close(torch.cat(pieces, dim=1), full.detach(), rtol=0, atol=1e-6)
    # A state reset at each border would differ: the test above can fail.
    reset = torch.cat([model.forward_chunk(x[:, s : s + 3])[0] for s in range(0, 10, 3)], 1)
    assert (reset[:, 3:] - full[:, 3:]).abs().max() > 1e-3


def test_many_to_one_chunks_end_with_the_full_prediction():
    model = _model("many-to-one", "gru")
    x, y = torch.randn(4, 10, 3), torch.randn(4, 1, 2)
    (piece,) = list(tbptt.chunks(model, x, y, k=4))  # only the last chunk has a loss
    out, target, share = piece
    torch.testing.assert_close(out, model(x), rtol=0, atol=1e-6)
    assert target is y and share == 1.0


@pytest.mark.parametrize("topology", ["many-to-many", "many-to-one"])
def test_no_gradient_crosses_a_chunk_border(topology):
    model = _model(topology)
    x = torch.randn(2, 9, 3, requires_grad=True)
    y = torch.randn(2, 9 if topology == "many-to-many" else 1, 2)
    grads = []
    for out, target, _ in tbptt.chunks(model, x, y, k=3):
        (g,) = torch.autograd.grad(torch.nn.functional.mse_loss(out, target), x)
        grads.append(g.abs().sum(dim=(0, 2)))  # per time step
    last = grads[-1]
    assert (last[6:] > 0).all()  # the chunk's own steps get a gradient...
    assert (last[:6] == 0).all()  # ...the earlier chunks none, though their state fed it
    if topology == "many-to-many":
        assert len(grads) == 3 and (grads[1][3:6] > 0).all() and (grads[1][:3] == 0).all()


def test_one_chunk_as_long_as_the_sequence_is_plain_backprop_bit_for_bit():
    kw = dict(cell="gru", task="cumsum", seed=3, device="cpu", epochs=2)
    plain, chunked = seqkit.run(**kw), seqkit.run(**kw, tbptt=5)
    assert plain.history.epochs[-1]["val_loss"] == chunked.history.epochs[-1]["val_loss"]
    for a, b in zip(plain.model.parameters(), chunked.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_training_with_chunks_learns_and_steps_once_per_chunk():
    r = seqkit.run(cell="lstm", task="cumsum", seed=1, device="cpu", epochs=20, tbptt=2)
    assert r.metrics["val_loss"] < 0.01 * r.chance_loss
    out, ans = r.examples[0]["output"], r.examples[0]["answer"]
    assert max(abs(o - a) for o, a in zip(out, ans, strict=True)) < 1.5
    # Every batch of T=5 steps in chunks of 2 is 3 optimizer updates.
    batches = -(-r.config.task_options["num_samples"] // r.config.batch_size)
    assert r.history.epochs[0]["step"] == batches * 3


def test_long_sequence_many_to_one_learns_with_chunks():
    # T=100 in chunks of 25: the last chunk's loss trains the state the first three built.
    r = seqkit.run(
        cell="lstm",
        task="meansign",
        seed=0,
        device="cpu",
        epochs=6,
        tbptt=25,
        task_options={"num_samples": 3000, "seq_len": 100},
    )
    assert r.metrics["val_accuracy"] > 0.85 and r.metrics["val_loss"] < 0.5 * r.chance_loss


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(task="multiples"), "'one-to-many' does not"),
        (dict(task="sum", topology="seq2seq"), "'seq2seq' does not"),
        (dict(task="sum", cell_options={"bidirectional": True}), "unidirectional cell"),
        (dict(task="sum", tbptt=-1), "--tbptt must be an integer >= 0"),
    ],
)
def test_tbptt_misfits_are_clear_errors(settings, message):
    with pytest.raises(ConfigError, match=message):
        seqkit.run(**{"cell": "gru", "tbptt": 2, **settings})
