"""Issue 11, items 8 and 9: compare's fixed settings, table widths, plugin versions, the
loss ratio's digits, and refusals of a bad --seed, --threads or settings file."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import types

import pytest
from click.testing import CliRunner

import seqkit
from seqkit._cli.gradients_cmd import print_table
from seqkit._cli.main import cli
from seqkit._cli.run_cmd import print_summary
from seqkit._core.config import MAX_SEED, MAX_SETTINGS_BYTES, RunConfig, usable_cores
from seqkit._core.errors import ConfigError
from seqkit._core.fmt import percent
from seqkit._core.seeds import VAL_SEED_OFFSET
from seqkit._plugins.registry import load_registry
from seqkit._run.plan import plan
from seqkit._train import host

SMALL = ["--epochs", "1", "--task-opt", "num_samples=200", "--task-opt", "val_samples=100"]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in an empty directory, so that a stray `runs/` would show."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _refused(res, *words: str) -> str:
    """Exit 2 with one `Error:` line holding `words`; nothing on stdout."""
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    assert "Traceback" not in res.output and res.stdout == ""
    for word in words:
        assert word in lines[0]
    return lines[0]


# -- A: compare records every resolved setting ---------------------------------------------


def test_compare_with_single_values_shows_and_records_them(in_tmp):
    args = ("--cells", "gru", "--task", "sum", "--task-opt", "seq_len=4", "--seeds", "1")
    res = _invoke("compare", *args, *SMALL)
    assert res.exit_code == 0, res.output
    assert "seq_len=4,num_samples=200,val_samples=100" in res.stdout
    assert "defaults" not in res.stdout
    (out,) = (in_tmp / "runs").iterdir()
    saved = json.loads((out / "results.json").read_text())
    assert saved["grid"] == {}
    assert saved["fixed"] == {"seq_len": 4, "num_samples": 200, "val_samples": 100}
    assert saved["rows"][0]["setting"] == "seq_len=4,num_samples=200,val_samples=100"
    (run,) = saved["runs"]
    config = RunConfig(
        task="sum",
        cell="gru",
        epochs=1,
        task_options={"seq_len": "4", "num_samples": "200", "val_samples": "100"},
    )
    with host.owned():  # resolved as the command line resolves it (flush_denormals)
        resolved = plan(config).config.as_dict()
    resolved.pop("data")  # the data's identity is a record, not a setting (None here)
    assert run["settings"] == resolved
    assert run["settings"]["task_options"]["seq_len"] == 4


def test_compare_grid_shows_the_options_every_row_shares(in_tmp):
    out = in_tmp / "c"
    res = _invoke(
        "compare",
        "--cells",
        "gru",
        "--task",
        "sum",
        "--task-opt",
        "seq_len=3,4",
        *SMALL,
        "--seeds",
        "1",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    every_row = res.stdout[res.stdout.index("every row: ") :].split("\n", 4)
    assert "num_samples=200, val_samples=100" in " ".join(line.strip() for line in every_row)
    saved = json.loads((out / "results.json").read_text())
    assert saved["grid"] == {"seq_len": ["3", "4"]}
    assert saved["fixed"] == {"num_samples": 200, "val_samples": 100}
    assert [r["setting"] for r in saved["rows"]] == ["seq_len=3", "seq_len=4"]
    lengths = [r["settings"]["task_options"]["seq_len"] for r in saved["runs"]]
    assert lengths == [3, 4]
    assert all(r["settings"]["epochs"] == 1 for r in saved["runs"])


# -- B: the gradients table fits long cell names ------------------------------------------


def _grads() -> dict:
    return {"log10_grad": [-3.0, 0.0], "log10_vanishing_factor": -3.0, "steps_to_1e6_drop": 7}


def test_gradients_table_sizes_the_cell_column_to_the_longest_name(capsys):
    long_name = "a_rather_long_cell_name"
    cell = {"init": _grads(), "end": _grads(), "val_loss": 0.1, "chance_loss": 0.2, "solved": True}
    report = {"task": "adding", "seq_len": 2, "plot": "p.png", "cells": {long_name: cell}}
    report["cells"]["rnn"] = dict(cell)
    print_table(report, init_only=False)
    lines = capsys.readouterr().out.splitlines()
    head = next(line for line in lines if line.startswith("cell"))
    rows = [line for line in lines if line.startswith((long_name, "rnn "))]
    assert len(rows) == 4
    for row in rows:
        name, when = row.split()[:2]
        assert name in (long_name, "rnn") and when in ("init", "end")
        assert row.index(when) == head.index("when")  # every column lines up


# -- C: plugins loaded in process report a version ---------------------------------------


def test_builtin_plugin_modules_loaded_in_process_carry_seqkit_version(tmp_path):
    from seqkit_plugins import cells, tasks, topologies, trainers

    reg = load_registry([cells, tasks, topologies, trainers], entry_points=False)
    assert {p.version for p in reg.plugins} == {seqkit.__version__}
    seqkit.run(
        cell="gru",
        task="sum",
        epochs=1,
        device="cpu",
        task_options={"num_samples": 200, "val_samples": 100},
        out=tmp_path / "r",
        registry=reg,
    )
    versions = json.loads((tmp_path / "r" / "config.json").read_text())["versions"]
    plugins = {k: v for k, v in versions.items() if k.startswith("plugin:")}
    assert plugins == {
        f"plugin:seqkit_plugins.{name}": seqkit.__version__
        for name in ("cells", "tasks", "topologies", "trainers")
    }


def test_plugin_version_falls_back_to_the_distribution_of_its_package():
    installed = types.ModuleType("click.seqkit_test_plugin")  # inside click's package
    loose = types.ModuleType("no_such_distribution_plugin")
    reg = load_registry([installed, loose], entry_points=False)
    versions = {p.name: p.version for p in reg.plugins}
    assert versions == {"click.seqkit_test_plugin": md.version("click"), loose.__name__: None}


# -- D: the loss as a share of chance, to 2 significant digits ----------------------------


@pytest.mark.parametrize(
    ("ratio", "shown"),
    [
        (0.0000183, "0.0018"),
        (0.273, "27"),
        (0.00031, "0.031"),
        (0.000995, "0.10"),
        (1.5, "150"),
        (1e-12, "0.00000000010"),
        (0.0, "0"),
    ],
)
def test_percent_keeps_two_significant_digits(ratio, shown):
    assert percent(ratio) == shown


def test_summary_shows_a_tiny_loss_as_a_nonzero_share_of_chance(capsys):
    summary = {
        "epochs_run": 1,
        "parameters": 10,
        "train_time_s": 0.1,
        "device": "cpu",
        "chance_loss": 100.0,
        "train_loss": 0.00183,
        "val_loss": 27.3,
        "test_loss": 0.0004,
        "test_metrics": {},
        "metrics": {},
        "solved": None,
        "solved_rule": None,
        "gradients": None,
        "stopped": None,
        "examples": [],
    }
    config = types.SimpleNamespace(cell="gru", topology="many-to-one", task="sum")
    result = types.SimpleNamespace(summary=lambda: summary, config=config, run_dir=None)
    print_summary(result)
    out = capsys.readouterr().out
    assert "(0.0018% of chance)" in out and "(27% of chance)" in out
    assert "(0.00040% of chance; held-out set)" in out
    assert "0.00%" not in out


# -- E: a seed outside torch's range is refused -------------------------------------------


def test_huge_seed_is_one_error_line_and_nothing_written(in_tmp):
    res = _invoke("run", "--cell", "gru", "--task", "sum", "--seed", "9" * 23, *SMALL)
    _refused(res, "--seed must be a non-negative integer", f"up to {MAX_SEED}", "9" * 23)
    assert not (in_tmp / "runs").exists()


def test_seed_bound_leaves_room_for_every_derived_seed():
    assert MAX_SEED + VAL_SEED_OFFSET == 2**63 - 1  # the largest offset seqkit adds
    with pytest.raises(
        ConfigError, match=f"--seed must be a non-negative integer up to {MAX_SEED}"
    ):
        RunConfig(task="sum", cell="gru", seed=MAX_SEED + 1).validate()
    result = seqkit.run(
        cell="gru",
        task="sum",
        seed=MAX_SEED,
        epochs=1,
        device="cpu",
        task_options={"num_samples": 200, "val_samples": 100},
    )
    assert result.config.seed == MAX_SEED and result.metrics["val_loss"] > 0


# -- F: no more threads than usable cores -------------------------------------------------


def test_more_threads_than_cores_is_refused_naming_both(in_tmp):
    cores = usable_cores()
    res = _invoke("run", "--cell", "gru", "--task", "sum", "--threads", "1000", *SMALL)
    line = _refused(res, "--threads 1000", f"{cores} CPU core", f"at most --threads {cores}")
    assert line.count("Error") == 1
    assert not (in_tmp / "runs").exists()


def test_threads_up_to_the_core_count_are_accepted():
    cores = usable_cores()
    assert cores == len(os.sched_getaffinity(0))
    RunConfig(task="sum", cell="gru", threads=cores).validate()
    with pytest.raises(ConfigError, match=f"--threads {cores + 1} is more than"):
        RunConfig(task="sum", cell="gru", threads=cores + 1).validate()


def test_cores_without_an_affinity_mask_are_the_cpu_count(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert usable_cores() == 3
    with pytest.raises(ConfigError, match="--threads 4 is more than the 3 CPU cores"):
        RunConfig(task="sum", cell="gru", threads=4).validate()


# -- H: pathological settings files -------------------------------------------------------


def test_settings_file_over_1_mib_is_refused_before_it_is_read(in_tmp):
    path = in_tmp / "big.toml"
    padding = "".join(f"# padding {i:08d} {'x' * 40}\n" for i in range(2 * 2**20 // 60))
    path.write_text('task = "sum"\ncell = "gru"\n' + padding)
    size = path.stat().st_size
    assert size > 2 * 2**20 - 1000
    res = _invoke("run", "--config", str(path), *SMALL)
    _refused(res, "--config", f"{size:,} bytes", "1 MiB")
    assert not (in_tmp / "runs").exists()


def test_settings_file_just_under_the_limit_is_read(tmp_path):
    path = tmp_path / "padded.toml"
    text = 'task = "sum"\ncell = "gru"\n'
    path.write_text(text + "#" * (MAX_SETTINGS_BYTES - len(text) - 1) + "\n")
    assert path.stat().st_size == MAX_SETTINGS_BYTES
    assert RunConfig.from_file(path).task == "sum"


def test_deeply_nested_settings_file_is_one_error_line(in_tmp):
    path = in_tmp / "deep.toml"
    depth = 100_000
    path.write_text(f'task = "sum"\ncell = "gru"\nx = {"[" * depth}{"]" * depth}\n')
    res = _invoke("run", "--config", str(path), *SMALL)
    _refused(res, "--config", "nested too deeply")
    assert not (in_tmp / "runs").exists()


def test_the_default_thread_count_never_exceeds_the_usable_cores(monkeypatch):
    import torch

    from seqkit._run.plan import default_threads

    monkeypatch.setattr(torch, "get_num_threads", lambda: 64)  # OMP_NUM_THREADS=64, say
    monkeypatch.setattr("seqkit._run.plan.usable_cores", lambda: 2)
    assert default_threads(torch.device("cpu"), 512) == 2
    assert default_threads(torch.device("cpu"), 64) == 1
