"""Gradient diagnostics through the CLI: `seqkit gradients` and `seqkit run --probe-every`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import seqkit
from seqkit._cli.main import cli
from seqkit._core.errors import NonFiniteError


def test_gradients_init_only_shows_rnn_vanishing_faster_than_lstm(tmp_path):
    out = tmp_path / "g"
    res = CliRunner().invoke(
        cli,
        [
            "gradients",
            "--cells",
            "rnn,lstm",
            "--task",
            "adding",
            "--task-opt",
            "seq_len=120",
            "--init-only",
            "--json",
            "--hidden-size",
            "64",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    rnn, lstm = report["cells"]["rnn"]["init"], report["cells"]["lstm"]["init"]
    assert len(rnn["log10_grad"]) == 120 and report["seq_len"] == 120
    # The default tanh RNN loses orders of magnitude more over the sequence than the LSTM
    # with forget-gate bias 1, at initialisation.
    assert rnn["log10_vanishing_factor"] < lstm["log10_vanishing_factor"] - 10
    assert rnn["log10_vanishing_factor"] < -15
    assert (out / "gradient_flow.png").stat().st_size > 10_000
    assert json.loads((out / "gradients.json").read_text())["full"]["rnn"]["records"]


def test_gradients_after_training_table(tmp_path):
    res = CliRunner().invoke(
        cli,
        [
            "gradients",
            "--cells",
            "gru",
            "--task",
            "recall",
            "--task-opt",
            "seq_len=5",
            "--task-opt",
            "num_samples=1000",
            "--epochs",
            "3",
            "--out",
            str(tmp_path / "g"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "recall, T=7" in res.output and "gru     init" in res.output
    assert "gru     end" in res.output
    assert (tmp_path / "g" / "gru" / "gradients.json").is_file()


def test_unknown_cell_in_list_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(
        cli, ["gradients", "--cells", "rnn,lsmt", "--task", "adding", "--out", str(tmp_path / "g")]
    )
    assert res.exit_code == 2 and "Did you mean 'lstm'?" in res.output
    assert not (tmp_path / "g").exists()


def test_run_probe_every_records_at_init_every_k_and_end(tmp_path):
    r = seqkit.run(
        cell="lstm",
        task="adding",
        epochs=5,
        probe_every=2,
        grad_clip=0.01,
        device="cpu",
        out=tmp_path / "r",
        task_options={"seq_len": 20, "num_samples": 500},
    )
    records = r.diagnostics["records"]
    assert [rec["epoch"] for rec in records] == [0, 2, 4, 5]
    assert len(r.diagnostics["grad_norm"]) == 5 * 10  # every step, before clipping
    assert max(r.diagnostics["grad_norm"]) > 0.05  # pre-clip values: a clipped one is <= 0.01
    group = r.diagnostics["group_norms"]["cell.rnn.weight_hh_l0"]  # raw inputs: no wrapper
    assert len(group) == 50 and all(v >= 0 for v in group)
    rec = records[0]
    assert set(rec["log10_grad"]) == {"h", "c"} and len(rec["keep_gate"]) == 20
    # forget bias 1 at init: the keep gate starts near sigmoid(1) = 0.73.
    assert 0.6 < rec["keep_gate"][0] < 0.85
    assert rec["recurrent"]["weight_hh_l0[f]"]["max_singular_value"] > 0
    for name in ("gradients.json", "gradient_flow.png", "grad_norm.png", "loss.png"):
        assert (tmp_path / "r" / name).is_file(), name
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["gradients"]["init"]["epoch"] == 0
    assert summary["gradients"]["end"]["epoch"] == 5


def test_orthogonal_gain_explodes_and_clipping_recovers():
    """The exploding demonstration: tanh RNN, W_hh orthogonal x 1.5, plain SGD at 0.1."""
    kw = dict(
        cell="rnn",
        task="sum",
        device="cpu",
        epochs=4,
        optimizer="sgd",
        lr=0.1,
        cell_options={"init": "orthogonal", "init_gain": 1.5},
        task_options={"num_samples": 3000},
    )
    with pytest.raises(NonFiniteError, match="epoch 1"):
        seqkit.run(**kw)
    clipped = seqkit.run(grad_clip=1.0, probe_every=4, **kw)
    assert clipped.diagnostics["records"][0]["log10_vanishing_factor"] > 0  # grows backward
    assert max(clipped.diagnostics["grad_norm"]) > 100  # pre-clip norms explode ...
    assert clipped.metrics["val_loss"] < 0.05 * clipped.chance_loss  # ... and it learns
