"""`compare --eval-task-opt`: every trained model scored on fresh test data at other
settings of its task; settings a model cannot be scored on are refused before training."""

from __future__ import annotations

import csv
import json
import math
from typing import ClassVar

import pytest
import torch
from click.testing import CliRunner

import seqkit
from seqkit._cli.main import cli

RECALL = {"seq_len": 5, "num_samples": 1000, "val_samples": 300}
TRAIN = {"epochs": 6, "hidden_size": 32, "lr": 1e-2, "batch_size": 50}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "c"
    return seqkit.compare(
        ["gru"],
        task="recall",
        task_options=RECALL,
        seeds=2,
        evaluate_on={"seq_len": [5, 20]},
        out=out,
        **TRAIN,
    )


def test_each_row_has_a_column_per_evaluation_setting(report):
    (row,) = report.rows
    assert list(row["evaluations"]) == ["seq_len=5", "seq_len=20"]
    same, longer = row["evaluations"]["seq_len=5"], row["evaluations"]["seq_len=20"]
    # at its own length, on fresh data, the model scores as on its validation set
    assert row["metric_mean"] > 0.95
    assert same["metric"] == "test_accuracy" and same["metric_mean"] > 0.95
    assert same["solved"] == 2 and same["solved_ci95"][1] == 1.0
    assert longer["chance_loss"] == pytest.approx(math.log(8), rel=0.05)
    assert longer["metric_ci95"] is not None and 0.0 <= longer["metric_mean"] <= 1.0
    run = report.runs[0]
    assert set(run["evaluations"]) == {"seq_len=5", "seq_len=20"}


def test_evaluation_data_is_fresh_and_at_the_asked_length(report):
    """Not the test set again: a different stream (so a different loss than test_loss)."""
    run = report.runs[0]
    assert run["evaluations"]["seq_len=5"]["test_loss"] != pytest.approx(run["test_loss"])


def test_the_evaluations_are_kept_and_written(report):
    out = report.out_dir
    assert json.loads((out / "comparison.json").read_text())["evaluate_on"] == {"seq_len": [5, 20]}
    with (out / "results.csv").open() as f:
        (line,) = list(csv.DictReader(f))
    assert set(json.loads(line["evaluations"])) == {"seq_len=5", "seq_len=20"}
    assert json.loads((out / "results.json").read_text())["evaluate_on"] == {"seq_len": [5, 20]}


def test_the_cli_prints_a_column_per_setting(tmp_path):
    args = ["compare", "--cells", "rnn", "--task", "recall", "--seeds", "1", "--jobs", "1"]
    args += ["--task-opt", "seq_len=3", "--task-opt", "num_samples=200", "--epochs", "1"]
    res = CliRunner().invoke(
        cli, [*args, "--eval-task-opt", "seq_len=6,9", "--out", str(tmp_path / "c")]
    )
    assert res.exit_code == 0, res.output
    assert "scored on fresh test data at other settings" in res.output
    header = next(
        line
        for line in res.output.splitlines()
        if line.startswith("cell ") and "trained at" in line
    )
    assert "seq_len=6" in header and "seq_len=9" in header


def _refused(res, *words):
    assert res.exit_code == 2, res.output
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and all(w in errors[0] for w in words), res.stderr


def test_an_option_the_task_does_not_declare_evaluable_is_refused(tmp_path):
    args = ["compare", "--cells", "rnn", "--task", "recall", "--out", str(tmp_path / "c")]
    res = CliRunner().invoke(cli, [*args, "--eval-task-opt", "alphabet=4"])
    _refused(res, "alphabet", "does not allow", "it allows: seq_len")
    assert not (tmp_path / "c").exists()
    res = CliRunner().invoke(cli, [*args, "--eval-task-opt", "seq_len=0"])
    _refused(res, "seq_len=0", "seq_len")
    assert not (tmp_path / "c").exists()


class Wide(seqkit.Task):
    """A task whose evaluable option changes the input size (the mistake refused)."""

    name = "wide"
    default_topology = "many-to-one"
    evaluable = ("width",)
    options: ClassVar = {**seqkit.sample_options(100, 50), "width": seqkit.Option(2, "features")}

    @property
    def io(self):
        return seqkit.IOSpec(
            input_size=self.opts["width"], output_size=1, input_len=4, output_len=1
        )

    def inputs(self, n, generator, device):
        return torch.randn(n, 4, self.opts["width"], generator=generator, device=device)

    def targets(self, x):
        return x.sum(dim=(1, 2)).view(-1, 1, 1)


class WidePlugin:
    @seqkit.hookimpl
    def register_tasks(self, register):
        register("wide", Wide)


def test_a_setting_that_changes_the_input_size_is_refused_with_the_reason():
    registry = seqkit.load_registry(plugins=[WidePlugin()])
    with pytest.raises(seqkit.ConfigError, match="the input size would be 3, not 2"):
        seqkit.compare(["gru"], task="wide", evaluate_on={"width": [3]}, registry=registry)


def test_the_contract_check_catches_an_undeclared_evaluable_option():
    class Sloppy(Wide):
        evaluable = ("length",)

    class Plugin:
        @seqkit.hookimpl
        def register_tasks(self, register):
            register("sloppy", Sloppy)
            register("wide", Wide)

    registry = seqkit.load_registry(plugins=[Plugin()], entry_points=False)
    checks = {c.name: c for c in seqkit.testing.task_checks("sloppy", registry=registry)}
    finding = checks["evaluable_options_are_declared"].run()
    assert finding.passed is False and "length" in finding.detail and "width" in finding.detail
    checks = {c.name: c for c in seqkit.testing.task_checks("wide", registry=registry)}
    assert checks["evaluable_options_are_declared"].run().passed is True
