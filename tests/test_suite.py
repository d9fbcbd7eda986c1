"""Suites are plugins (`register_suites`); `run_suite` runs each entry as a comparison,
writes a leaderboard (Markdown, CSV, JSON, HTML) and goes on after a stop."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from click.testing import CliRunner

import seqkit
from seqkit._cli.main import cli
from seqkit._study.compare import SPEC
from seqkit._study.points import POINTS, RESULT

TINY = {"batch_size": 50, "epochs": 6, "hidden_size": 32, "lr": 1e-2}
SAMPLES = {"num_samples": 1000, "val_samples": 200}


class TinySuite:
    SEQKIT_API = 1

    @seqkit.hookimpl
    def register_suites(self, register):
        register("tiny", self.make, description="two quick entries")

    @staticmethod
    def make() -> seqkit.Suite:
        return seqkit.Suite(
            entries=[
                seqkit.SuiteEntry("recall L=5", "recall", {"seq_len": 5, **SAMPLES}, TINY, "test"),
                seqkit.SuiteEntry("sum", "sum", {"num_samples": 1000}, {"epochs": 40}, "test"),
            ],
            about="a suite for tests",
        )


@pytest.fixture(scope="module")
def registry():
    return seqkit.load_registry(plugins=[TinySuite()], strict=True)


@pytest.fixture(scope="module")
def board(registry, tmp_path_factory):
    out = tmp_path_factory.mktemp("suite") / "s"
    return seqkit.run_suite("tiny", ["rnn", "gru"], seeds=2, out=out, registry=registry)


def _rows(board) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "wall_s_mean"} for r in board.rows]


def test_every_entry_is_a_comparison_and_a_row_per_cell(board):
    assert [(r["entry"], r["cell"]) for r in board.rows] == [
        ("recall L=5", "rnn"),
        ("recall L=5", "gru"),
        ("sum", "rnn"),
        ("sum", "gru"),
    ]
    recall = {r["cell"]: r for r in board.rows if r["entry"] == "recall L=5"}
    # the entry's budget was used, and the cells learnt: chance on recall is ln 8 = 2.08
    assert recall["gru"]["hidden_size"] == 32 and recall["gru"]["seeds"] == 2
    assert recall["gru"]["test_loss_mean"] < 0.5 * recall["gru"]["chance_loss"]
    assert recall["gru"]["metric"] == "test_accuracy" and recall["gru"]["metric_ci95"]
    assert recall["gru"]["solved"] == 2 and recall["gru"]["metric_mean"] > 0.95  # on test
    assert [e["steps"] for e in board.entries] == [6 * 20, 40 * 4]  # sum: batches of 256
    for e in board.entries:
        assert e["verdict"] and e["differences"][0]["cells"] == ["rnn", "gru"]


def test_the_leaderboard_is_written_in_four_forms(board):
    out = board.out_dir
    md = (out / "leaderboard.md").read_text()
    assert "| recall L=5 | gru |" in md and "**sum**" in md and "a suite for tests" in md
    data = json.loads((out / "leaderboard.json").read_text())
    assert data["suite"] == "tiny" and len(data["rows"]) == 4
    with (out / "leaderboard.csv").open() as f:
        lines = list(csv.DictReader(f))
    assert [line["cell"] for line in lines] == ["rnn", "gru", "rnn", "gru"]
    assert float(lines[1]["test_loss_mean"]) == pytest.approx(board.rows[1]["test_loss_mean"])
    html = (out / "leaderboard.html").read_text()
    assert 'href="recall-L=5/report.html"' in html and (out / "recall-L=5" / "report.html").exists()


def test_a_stopped_suite_goes_on_where_it_stopped(board, registry, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(board.out_dir, out)
    # as if stopped inside the second entry: its comparison is unfinished, one point too
    for name in ("results.json", "report.html"):
        (out / "sum" / name).unlink()
    point = sorted((out / "sum" / POINTS).iterdir())[-1]
    (point / RESULT).unlink()
    for name in ("leaderboard.md", "leaderboard.json"):
        (out / name).unlink()
    first_entry = (out / "recall-L=5" / "results.json").stat().st_mtime_ns

    again = seqkit.resume_suite(out, registry=registry)
    assert _rows(again) == _rows(board)
    assert (out / "leaderboard.md").exists() and (out / "sum" / SPEC).exists()
    assert (out / "recall-L=5" / "results.json").stat().st_mtime_ns != first_entry  # re-read
    assert (point / RESULT).exists()


@pytest.mark.parametrize(
    "name, entries",
    [
        ("long-range", ["adding T=100", "adding T=200", "recall L=30", "parity lengths 1-10",
                        "order T=50"]),
        ("frontier", ["copy T=100", "recall L=100", "parity lengths 3-40", "order T=100"]),
        ("pixel", ["mnist1d", "mnist1d shuffled", "smnist", "psmnist"]),
        ("mqar", ["mqar T=64 pairs=4", "mqar T=128 pairs=8", "mqar T=256 pairs=16"]),
    ],
)  # fmt: skip
def test_the_built_in_suites_keep_their_contract(name, entries):
    """Every entry plans (one reading MNIST files on the task's example of them) and
    names its source."""
    findings = seqkit.testing.check("suite", name)
    assert all(f.passed for f in findings), [f.detail for f in findings if not f.passed]
    suite = seqkit.get_registry().get("suite", name).factory()
    assert [e.name for e in suite.entries] == entries
    assert all(e.source for e in suite.entries)


def test_the_mqar_suite_runs_an_entry_at_a_size_given_for_this_machine(tmp_path):
    """Zoology's entry with a smaller vocabulary and data set (`--task-opt`): the entry's
    own sizes and recipe (seq_len, pairs, AdamW with weight decay 0.1) stay."""
    board = seqkit.run_suite(
        "mqar", ["gru"], seeds=1, entries=["mqar T=64 pairs=4"], out=tmp_path / "m",
        task_options={"vocab": 128, "num_samples": 256, "val_samples": 64},
    )  # fmt: skip
    (row,) = board.rows
    assert row["entry"] == "mqar T=64 pairs=4" and row["metric"] == "test_accuracy"
    assert 0 <= row["metric_mean"] <= 1
    source = board.entries[0]["source"]
    assert source.endswith(  # said, not hidden
        "changed here: vocab=128 (the entry's: 8192), num_samples=256 (the entry's: "
        "100000), val_samples=64 (the entry's: 3000)"
    )
    (config,) = (tmp_path / "m").glob("mqar-T=64-pairs=4/points/*/config.json")
    kept = json.loads(config.read_text())
    assert kept["task_options"]["vocab"] == 128 and kept["task_options"]["pairs"] == 4
    assert kept["optimizer"] == "adamw" and kept["weight_decay"] == 0.1 and kept["epochs"] == 64


def test_a_suite_passes_task_options_to_the_entries_whose_task_has_them(tmp_path):
    """`--task-opt root=DIR` points the pixel suite's MNIST entries at the files (here a
    tiny fixture, read 28 pixels a step); an option no entry's task has is one line."""
    from seqkit_plugins.pixel_data import write_fixture

    write_fixture(tmp_path / "mnist", train=150, test=50)
    out = tmp_path / "s"
    args = ["suite", "pixel", "--cells", "gru", "--seeds", "1", "--jobs", "1",
            "--entries", "smnist,psmnist", "--out", str(out),
            "--task-opt", f"root={tmp_path / 'mnist'}", "--task-opt", "val_images=20",
            "--task-opt", "pixels_per_step=28", "--json"]  # fmt: skip
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    board = json.loads(res.stdout.strip().splitlines()[-1])
    assert [r["entry"] for r in board["rows"]] == ["smnist", "psmnist"]
    kept = json.loads((out / "suite.json").read_text())
    assert kept["task_options"]["pixels_per_step"] == "28"  # as given; each run types it
    for entry in ("smnist", "psmnist"):
        (config,) = out.glob(f"{entry}/points/*/config.json")
        task = json.loads(config.read_text())["task_options"]
        assert task["root"] == str(tmp_path / "mnist") and task["pixels_per_step"] == 28
    assert task["permutation"] == "expRNN"  # the entry's own option stays
    res = CliRunner().invoke(
        cli, ["suite", "long-range", "--cells", "gru", "--task-opt", "root=x", "--out",
              str(tmp_path / "t")],
    )  # fmt: skip
    _refused(res, "--task-opt root: no entry of suite 'long-range'", "adding")
    assert not (tmp_path / "t").exists()


def test_a_broken_suite_fails_its_contract_check():
    class Broken:
        @seqkit.hookimpl
        def register_suites(self, register):
            register(
                "bad",
                lambda: seqkit.Suite(
                    entries=[seqkit.SuiteEntry("a", "sum"), seqkit.SuiteEntry("a", "nosuchtask")]
                ),
            )

    registry = seqkit.load_registry(plugins=[Broken()])
    found = {
        f.check: f for f in (c.run() for c in seqkit.testing.suite_checks("bad", registry=registry))
    }
    assert found["is_a_suite_of_named_entries"].passed is False
    assert "named more than once: a" in found["is_a_suite_of_named_entries"].detail
    assert found["entries_plan"].passed is False and "nosuchtask" in found["entries_plan"].detail


def _refused(res, *words):
    assert res.exit_code == 2, res.output
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and all(w in errors[0] for w in words), res.stderr


def test_bad_suite_commands_get_one_line(tmp_path):
    run = CliRunner().invoke
    _refused(
        run(cli, ["suite", "long-range", "--cells", "rnn", "--entries", "adding-T=999"]),
        "no entry 'adding-T=999'",
        "recall-L=30",
    )
    _refused(run(cli, ["suite", "long-range"]), "--cells")
    _refused(
        run(cli, ["suite", "nosuch", "--cells", "rnn"]), "unknown suite 'nosuch'", "long-range"
    )
    _refused(run(cli, ["suite", "--resume", str(tmp_path)]), "suite.json")
    assert not list(tmp_path.iterdir())
    old = tmp_path / "old"  # begun when long-range still had copy T=100 (now in frontier)
    old.mkdir()
    spec = {"suite": "long-range", "cells": ["gru"], "seeds": 1, "entries": ["copy T=100"],
            "match_params": None, "params": None, "tune": None}  # fmt: skip
    (old / "suite.json").write_text(json.dumps(spec))
    _refused(
        run(cli, ["suite", "--resume", str(old)]),
        "no longer has the entry 'copy T=100'",
        "start the suite again",
    )
    assert [p.name for p in old.iterdir()] == ["suite.json"]


def test_a_bad_match_is_refused_before_the_suite_writes_anything(tmp_path):
    out = tmp_path / "s"
    base = ["suite", "long-range", "--cells", "rnn,gru", "--out", str(out)]
    _refused(CliRunner().invoke(cli, [*base, "--match-params", "nosuch"]), "nosuch")
    assert not out.exists()
    _refused(CliRunner().invoke(cli, [*base, "--params", "10"]), "rnn")
    assert not out.exists()


class Diverging:
    @seqkit.hookimpl
    def register_suites(self, register):
        blows_up = {"epochs": 3, "lr": 1.0, "optimizer": "sgd", "normalize": False}
        blows_up["cell_options"] = {"nonlinearity": "relu"}  # as reference.md's non-finite run
        entry = seqkit.SuiteEntry("sum", "sum", {"num_samples": 1000}, blows_up)
        register("boom", lambda: seqkit.Suite(entries=[entry]))


def test_a_failed_point_in_a_suite_says_how_to_resume_the_suite(tmp_path):
    registry = seqkit.load_registry(plugins=[Diverging()])
    out = tmp_path / "s"
    with pytest.raises(seqkit.NonFiniteError) as failed:
        seqkit.run_suite("boom", ["rnn"], seeds=1, out=out, registry=registry)
    said = str(failed.value)
    assert "suite entry 'sum'" in said and f"seqkit suite --resume {out}" in said
    assert "seqkit compare --resume" not in said


def test_an_equal_effort_suite_tunes_every_cell_at_every_entry(registry, tmp_path):
    board = seqkit.run_suite(
        "tiny", ["rnn", "gru"], seeds=1, entries=["sum"], tune=["lr"], trials=2,
        out=tmp_path / "s", registry=registry,
    )  # fmt: skip
    assert "Equal effort: each cell tuned with 2 trials of TPE on validation" in board.about
    for cell in ("rnn", "gru"):
        study = json.loads((tmp_path / "s" / "sum" / "tuning" / cell / "tune.json").read_text())
        assert len(study["trials"]) == 2
        best = study["best"]["params"]["lr"]
        runs = board.comparisons["sum"].runs
        assert {r["settings"]["lr"] for r in runs if r["cell"] == cell} == {best}
    assert all(r["test_loss_mean"] is not None for r in board.rows)
