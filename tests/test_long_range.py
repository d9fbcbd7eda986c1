"""Long-range tasks: generation rules, baselines, fresh data; cell options from the papers."""

from __future__ import annotations

import math

import pytest
import torch
from seqkit_plugins.recurrent import lstm, rnn

import seqkit
import seqkit._run.runner  # make_data: internal, imported by name

CPU = torch.device("cpu")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_adding_marks_one_value_in_each_half():
    task = seqkit.get_task("adding", seq_len=40)
    x, y = task.generate(500, gen(), CPU)
    marks = x[:, :, 1]
    assert (marks.sum(1) == 2).all()
    assert (marks[:, :20].sum(1) == 1).all() and (marks[:, 20:].sum(1) == 1).all()
    assert torch.allclose(y.flatten(), (x[:, :, 0] * marks).sum(1))
    assert task.chance_loss(y) == pytest.approx(1 / 6)
    # Predicting 1 really does cost about 1/6: the documented baseline holds in the data.
    assert float(((y - 1) ** 2).mean()) == pytest.approx(1 / 6, rel=0.15)
    assert task.reference_losses == {"chance (predict 1)": 1 / 6, "one number stored": 1 / 12}
    assert task.solved({"val_loss": 0.005}) and not task.solved({"val_loss": 0.05})


def test_adding_hochreiter_variant():
    task = seqkit.get_task("adding", seq_len=60, variant="hochreiter1997")
    x, y = task.generate(300, gen(), CPU)
    marked = x[:, :, 1] == 1
    assert (marked.sum(1) == 2).all() and marked[:, :10].any(1).all()
    assert x[:, :, 0].min() < -0.9 and x[:, :, 0].max() > 0.9
    assert torch.allclose(y.flatten(), 0.5 + (x[:, :, 0] * marked).sum(1) / 4)
    assert task.chance_loss(y) == pytest.approx(1 / 24)


def test_copy_recalls_the_first_symbols_after_the_delimiter():
    task = seqkit.get_task("copy", seq_len=7, symbols=3, alphabet=4)
    x, y = task.generate(50, gen(), CPU)
    assert x.shape == (50, 7 + 6, 6) and y.shape == (50, 13)
    sym = x.argmax(-1)
    assert (sym[:, :3] >= 1).all() and (sym[:, :3] <= 4).all()
    assert (sym[:, 3 + 7 - 1] == 5).all()  # the delimiter
    assert torch.equal(y[:, -3:], sym[:, :3]) and (y[:, :-3] == 0).all()
    assert task.chance_loss(y) == pytest.approx(3 * math.log(4) / 13)
    perfect = torch.nn.functional.one_hot(y, 5).float() * 50
    assert task.metrics(perfect, y)["recalled"] == 1.0


def test_recall_parity_order_labels():
    recall = seqkit.get_task("recall", seq_len=5)
    x, y = recall.generate(100, gen(), CPU)
    assert x.shape == (100, 7, 10) and torch.equal(y[:, 0], x[:, 0].argmax(-1) - 1)
    parity = seqkit.get_task("parity", seq_len=6, running=True)
    x, y = parity.generate(100, gen(), CPU)
    assert torch.equal(y[:, :, 0], x[:, :, 0].cumsum(1) % 2)
    assert parity.default_topology == "many-to-many"
    order = seqkit.get_task("order", seq_len=30)
    x, y = order.generate(400, gen(), CPU)
    sym = x.argmax(-1)
    relevant = (sym >= 4).nonzero()
    assert relevant.shape[0] == 800  # exactly two relevant symbols per sequence
    pos = relevant[:, 1].view(400, 2)
    assert (pos[:, 0] >= 3).all() and (pos[:, 0] < 6).all() and (pos[:, 1] >= 15).all()
    v = sym.gather(1, pos) - 4
    assert torch.equal(y[:, 0], v[:, 0] + 2 * v[:, 1])
    assert set(y.flatten().tolist()) == {0, 1, 2, 3}


def test_mixed_lengths_pad_each_sequence_after_its_own_end():
    """parity and order with min_len: lengths drawn from min_len..seq_len, the steps
    after each end NaN (IOSpec.padded_inputs), answers over the real steps alone."""
    parity = seqkit.get_task("parity", seq_len=12, min_len=2)
    assert parity.io.padded_inputs and not seqkit.get_task("parity", seq_len=12).io.padded_inputs
    x, y = parity.generate(2000, gen(), CPU)
    real = ~x[:, :, 0].isnan()
    lengths = real.sum(1)
    assert torch.equal(real, torch.arange(12) < lengths[:, None])  # padding only at the end
    assert set(lengths.tolist()) == set(range(2, 13))
    for bits, length, answer in zip(x[:50, :, 0], lengths[:50], y[:50, 0, 0], strict=True):
        assert float(answer) == sum(bits[:length].tolist()) % 2
    order = seqkit.get_task("order", seq_len=110, min_len=100)  # task 6a's lengths
    x, y = order.generate(500, gen(1), CPU)
    lengths = (~x.isnan().any(-1)).sum(1)
    assert lengths.min() >= 100 and lengths.max() == 110
    sym = x.nan_to_num(0).argmax(-1)
    pos = (sym >= 4).nonzero()[:, 1].view(500, 2)
    assert pos[:, 0].min() >= 10 and pos[:, 0].max() < 20  # placed by min_len, as 6a
    assert pos[:, 1].min() >= 50 and pos[:, 1].max() < 60
    assert torch.equal(y[:, 0], (sym.gather(1, pos)[:, 0] - 4) + 2 * (sym.gather(1, pos)[:, 1] - 4))
    with pytest.raises(seqkit.ConfigError, match="min_len must be at most seq_len"):
        seqkit.get_task("parity", seq_len=5, min_len=6)
    with pytest.raises(seqkit.ConfigError, match="min_len must be 0 or at least 10"):
        seqkit.get_task("order", seq_len=50, min_len=1)
    with pytest.raises(seqkit.ConfigError, match="without running=true"):
        seqkit.get_task("parity", seq_len=5, min_len=2, running=True)


def test_mixed_length_parity_is_learned_and_scored_beyond_its_lengths():
    """Short sequences among the long ones make parity learnable: a GRU on lengths 1-6
    solves it, and `evaluate_on` scores it on lengths it never saw."""
    report = seqkit.compare(
        ["gru"],
        seqkit.RunConfig(
            cell="gru", task="parity", hidden_size=64, epochs=25, lr=3e-3, batch_size=50,
            grad_clip=1.0, task_options={"seq_len": 6, "min_len": 1, "num_samples": 2000},
        ),
        evaluate_on={"seq_len": [12], "min_len": [7]},
    )  # fmt: skip
    run = report.runs[0]
    assert run["solved"] is True, run["metrics"]  # validation accuracy > 99%
    beyond = run["evaluations"]["seq_len=12,min_len=7"]  # lengths 7-12: never seen
    assert beyond["test_accuracy"] > 0.5 and math.isfinite(beyond["test_loss"])
    assert beyond["chance_loss"] == pytest.approx(math.log(2))
    with pytest.raises(seqkit.ConfigError, match="reads no padding"):
        seqkit.compare(
            ["gru"], seqkit.RunConfig(cell="gru", task="parity", task_options={"seq_len": 6}),
            evaluate_on={"seq_len": [12], "min_len": [7]},
        )  # fmt: skip


def test_fresh_training_data_every_epoch():
    task = seqkit.get_task("recall", seq_len=3, num_samples=64)
    data = seqkit._run.runner.make_data(task, 0, CPU)
    assert data.resample is not None
    seen = [data.resample(2)[0], data.resample(3)[0]]
    assert not torch.equal(seen[0], seen[1]) and not torch.equal(seen[0], data.train_x)
    assert seqkit._run.runner.make_data(seqkit.get_task("sum"), 0, CPU).resample is None


def test_recall_learns_a_short_horizon():
    r = seqkit.run(
        cell="gru",
        task="recall",
        device="cpu",
        epochs=8,
        task_options={"seq_len": 5, "num_samples": 2000},
    )
    assert r.summary()["solved"] is True and r.summary()["solved_rule"] == "accuracy > 99%"


def test_lstm_forget_bias_sets_one_slice_and_zeroes_the_other():
    cell = lstm(3, 4, forget_bias=1.0, num_layers=2)
    for layer in (0, 1):
        b_ih = getattr(cell.rnn, f"bias_ih_l{layer}")
        b_hh = getattr(cell.rnn, f"bias_hh_l{layer}")
        assert (b_ih[4:8] == 1).all() and (b_hh[4:8] == 0).all()
        assert not (b_ih[:4] == 1).all()
    assert seqkit.get_cell("lstm").options["forget_bias"].default == 1.0


@pytest.mark.parametrize("impl", ["fused", "scratch"])
def test_recurrent_init_options(impl):
    torch.manual_seed(0)
    ortho = rnn(3, 6, init="orthogonal", init_gain=1.5, impl=impl).rnn.weight_hh_l0.detach()
    assert torch.allclose(torch.linalg.svdvals(ortho), torch.full((6,), 1.5), atol=1e-5)
    irnn = rnn(3, 6, init="identity", nonlinearity="relu", impl=impl).rnn.weight_hh_l0
    assert torch.equal(irnn.detach(), torch.eye(6))
    gru_w = seqkit.build_model(
        "gru", "many-to-one", 1, 5, 1, cell_options={"init": "orthogonal"}
    ).cell.rnn.weight_hh_l0
    for block in gru_w.detach().split(5):  # each gate's block is orthogonal
        assert torch.allclose(block @ block.T, torch.eye(5), atol=1e-5)


def test_grad_norm_is_tracked_before_clipping():
    norms: list[float] = []

    class Track(seqkit.Callback):
        def on_fit_start(self, state):
            state.track_grad_norm = True

        def on_step_end(self, state):
            norms.append(float(state.grad_norm))

    seqkit.run(
        cell="rnn",
        task="sum",
        device="cpu",
        epochs=1,
        grad_clip=1e-3,
        task_options={"num_samples": 500},
        callbacks=[Track()],
    )
    assert len(norms) == 2 and all(n > 1e-3 for n in norms)  # pre-clip, not the clip
