"""The command line: through click's runner, and through real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from seqkit._cli.main import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_list_shows_every_kind_with_its_plugin(runner):
    res = runner.invoke(cli, ["list"])
    assert res.exit_code == 0
    for heading in ("cells", "topologies", "tasks", "trainers"):
        assert heading in res.output
    assert "gru" in res.output and "[cells]" in res.output and "minibatch" in res.output


def test_list_one_kind_as_json(runner):
    res = runner.invoke(cli, ["list", "tasks", "--json"])
    data = json.loads(res.output)
    assert list(data) == ["tasks"]
    names = [t["name"] for t in data["tasks"]]
    notebook = ["toy", "square", "multiples", "sum", "cumsum", "meansign"]
    long_range = ["adding", "copy", "recall", "parity", "order", "mqar"]
    data_backed = ["text", "series", "arrays", "smnist", "psmnist", "mnist1d", "text8", "enwik8"]
    assert names == sorted(notebook + long_range + data_backed)
    sum_task = next(t for t in data["tasks"] if t["name"] == "sum")
    assert sum_task["options"]["seq_len"]["default"] == 6 and sum_task["plugin"] == "tasks"


def test_plugins_json(runner):
    data = json.loads(runner.invoke(cli, ["plugins", "--json"]).output)
    cells = next(p for p in data if p["name"] == "cells")
    assert cells["builtin"] and cells["status"] == "ok" and cells["version"]
    assert cells["registers"] == {"cells": ["rnn", "lstm", "gru"]}


def test_run_prints_summary_and_keeps_a_run_dir(runner, tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(
        cli,
        [
            "run",
            "--cell",
            "gru",
            "--task",
            "toy",
            "--epochs",
            "8",
            "--device",
            "cpu",
            "--out",
            str(out),
            "--log-every",
            "4",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "epoch 4/8" in res.output and "epoch 8/8" in res.output
    assert "Input: [[1, 2], [3, 4], [5, 6]] -> Output: 1 (answer 1)" in res.output
    assert "chance" in res.output and f"run directory: {out}" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert f"test loss     {summary['test_loss']:.4g}" in res.output
    assert f"test accuracy {summary['test_metrics']['test_accuracy']:.4g}" in res.output
    for name in ("config.json", "metrics.jsonl", "summary.json", "model.safetensors", "loss.png"):
        assert (out / name).is_file(), name
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == list(range(1, 9))
    config = json.loads((out / "config.json").read_text())
    assert config["hidden_size"] == 20 and config["topology"] == "many-to-one"
    assert config["versions"]["torch"]


def test_run_json_summary(runner, tmp_path):
    res = runner.invoke(
        cli,
        [
            "run",
            "--cell",
            "lstm",
            "--task",
            "cumsum",
            "--hidden-size",
            "60",
            "--epochs",
            "20",
            "--seed",
            "1",
            "--device",
            "cpu",
            "--json",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["val_loss"] < 0.01 * s["chance_loss"]
    # The held-out test set is another stream: near the validation loss, not equal to it.
    assert s["test_loss"] < 0.01 * s["chance_loss"] and s["test_loss"] != s["val_loss"]
    assert s["device"] == "cpu" and s["config"]["seed"] == 1 and s["epochs_run"] == 20
    (ex,) = s["examples"]
    assert ex["input"] == [10, 11, 12, 13, 14] and ex["answer"] == [10, 21, 33, 46, 60]
    assert len(ex["output"]) == 5 and "Output:" in ex["text"]


# The table of bad inputs (one clear line, exit 2, no run directory) is in
# tests/test_bad_inputs.py, through real subprocesses.


def test_existing_run_dir_is_refused_without_overwrite(runner, tmp_path):
    out = tmp_path / "r"
    args = ["run", "--cell", "gru", "--task", "toy", "--epochs", "1", "--quiet", "--out", str(out)]
    assert runner.invoke(cli, args).exit_code == 0
    before = (out / "summary.json").read_bytes()
    res = runner.invoke(cli, args)
    assert res.exit_code == 2 and "holds another run" in res.output
    assert (out / "summary.json").read_bytes() == before
    assert runner.invoke(cli, [*args, "--overwrite"]).exit_code == 0


def test_an_overwrite_that_stops_leaves_nothing_of_the_old_run(tmp_path):
    """--overwrite stopped after its first epoch: the directory holds the new run's
    configuration and metrics only, never the old run's model, plots or report beside
    them (predict then says the run did not finish instead of answering from the old
    model)."""
    import seqkit

    out = tmp_path / "r"
    old = seqkit.run(cell="gru", task="sum", epochs=2, quiet=True, out=out, probe_every=1)
    kept = {p.name for p in out.iterdir()}
    assert {
        "model.safetensors",
        "loss.png",
        "report.html",
        "gradients.json",
        "summary.json",
    } <= kept

    class StopAfterOne(seqkit.Callback):
        def on_epoch_end(self, state, record):
            state.interrupt = "stopped by the test"

    with pytest.raises(seqkit.SeqkitError):
        seqkit.run(
            cell="rnn",
            task="sum",
            epochs=3,
            quiet=True,
            out=out,
            overwrite=True,
            callbacks=[StopAfterOne()],
        )
    left = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert left <= {"config.json", "metrics.jsonl", "checkpoint.pt"}
    assert json.loads((out / "config.json").read_text())["cell"] == "rnn"
    with pytest.raises(seqkit.SeqkitError, match="holds no trained model"):
        seqkit.load_run(out)
    assert old.history.epochs


def test_an_overwritten_comparison_keeps_nothing_of_the_old_one(tmp_path):
    import seqkit

    out = tmp_path / "c"
    small = dict(task="sum", epochs=1, task_options={"num_samples": 64, "val_samples": 32})
    seqkit.compare(["rnn", "gru"], seeds=1, out=out, **small)
    assert (out / "results.json").exists() and list(out.glob("loss-*.png"))
    (out / "loss-7.png").write_bytes(b"an old comparison's plot")
    seqkit.compare(["rnn"], seeds=1, out=out, overwrite=True, **small)
    assert not (out / "loss-7.png").exists()
    assert json.loads((out / "results.json").read_text())["cells"] == ["rnn"]


def test_python_dash_m_help():
    res = subprocess.run(
        [sys.executable, "-m", "seqkit", "--help"], capture_output=True, text=True, check=True
    )
    assert "run" in res.stdout and "plugins" in res.stdout


def test_installed_console_script_runs(tmp_path):
    exe = shutil.which("seqkit")
    assert exe, "the seqkit console script is not installed"
    # The README's quick start, with defaults only.
    res = subprocess.run(
        [exe, "run", "--cell", "gru", "--task", "sum", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert res.returncode == 0, res.stderr
    s = json.loads(res.stdout)
    assert s["val_loss"] < 0.05 * s["chance_loss"]
    assert abs(s["examples"][0]["output"] - 41) < 1.0
    assert "epoch 2/2" in res.stderr  # plain progress lines when not on a terminal
    assert (tmp_path / s["run_dir"] / "summary.json").is_file()


def test_unknown_name_in_subprocess_has_no_traceback(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "seqkit", "run", "--cell", "lstn", "--task", "sum"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert res.returncode == 2
    assert "Did you mean 'lstm'?" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            [
                "--cell",
                "gru",
                "--task",
                "multiples",
                "--bidirectional",
                "--topology-opt",
                "feed=prediction",
            ],
            "needs a unidirectional cell",
        ),
        (
            ["--cell", "gru", "--task", "sum", "--topology", "seq2seq", "--probe-every", "1"],
            "exactly one cell",
        ),
    ],
)
def test_errors_found_only_by_running_are_caught_before_anything_is_written(
    runner, tmp_path, args, message
):
    out = tmp_path / "never"
    res = runner.invoke(cli, ["run", *args, "--out", str(out)])
    assert res.exit_code == 2 and message in res.output
    assert not out.exists()


def test_progress_prints_the_last_epoch_when_stopped_early():
    import io

    import seqkit
    from seqkit._train.progress import PlainProgress

    class StopAt2(seqkit.Callback):
        def on_epoch_end(self, state, record):
            if state.epoch == 2:
                state.stop = "enough"

    stream = io.StringIO()
    seqkit.run(
        cell="gru",
        task="toy",
        epochs=10,
        device="cpu",
        callbacks=[StopAt2(), PlainProgress(every=5, chance=0.69, stream=stream)],
    )
    assert stream.getvalue().startswith("epoch  2/10")
