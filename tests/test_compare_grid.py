"""`seqkit compare` (issue 14): any setting as an axis with every resolved setting recorded,
intervals over seeds, parameter-matched hidden sizes, selection on validation with test
numbers reported, and bad input as one line."""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import seqkit
from seqkit._cli.main import cli
from seqkit._run.plan import plan
from seqkit._study.compare import differences, shared_settings, summarise
from seqkit._study.grid import GridPoint, match_hidden_sizes

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seqkit-mingru"
TINY = ["--task-opt", "num_samples=200", "--task-opt", "val_samples=100", "--batch-size", "50"]
TINY += ["--jobs", "1"]  # worker processes would cost more than these runs


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _refused(res, *words: str) -> None:
    """Exit 2, one `Error:` line holding `words`, no traceback."""
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    assert "Traceback" not in res.output
    for word in words:
        assert word in lines[0], lines[0]


# -- item 1: any setting is an axis --------------------------------------------------------


GRIDS = {
    "run settings": (
        ["--lr", "3e-3,1e-2", "--hidden-size", "8,12", "--epochs", "1,2"],
        ["hidden_size", "epochs", "lr"],
    ),
    "plugin options": (
        ["--num-layers", "1,2", "--cell-opt", "init=default,orthogonal", "--trainer-opt",
         "shuffle=true,false", "--hidden-size", "8", "--epochs", "1"],
        ["cell.num_layers", "cell.init", "trainer.shuffle"],
    ),
}  # fmt: skip


def _check_recorded(run: dict) -> None:
    """The values the run's label names are the ones its resolved settings hold."""
    s = run["settings"]
    values = dict(part.split("=") for part in run["setting"].split(","))
    checks = {
        "lr": lambda v: float(v) == s["lr"],
        "hidden_size": lambda v: int(v) == s["hidden_size"] == run["hidden_size"],
        "epochs": lambda v: int(v) == s["epochs"] == len(run["curve"]),
        "cell.num_layers": lambda v: int(v) == s["cell_options"]["num_layers"],
        "cell.init": lambda v: v == s["cell_options"]["init"],
        "trainer.shuffle": lambda v: (v == "true") == s["trainer_options"]["shuffle"],
    }
    for axis, value in values.items():
        assert checks[axis](value), (axis, value, s)


@pytest.mark.parametrize("grid", sorted(GRIDS))
def test_settings_and_plugin_options_are_axes_and_every_setting_is_recorded(tmp_path, grid):
    flags, axes = GRIDS[grid]
    out = tmp_path / "c"
    res = _invoke(
        "compare", "--cells", "gru", "--task", "recall", "--task-opt", "seq_len=3", *TINY,
        *flags, "--seeds", "1", "--json", "--out", str(out),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert list(report["grid"]) == axes and len(report["rows"]) == 8
    saved = json.loads((out / "results.json").read_text())
    assert len({r["setting"] for r in saved["runs"]}) == 8
    for run in saved["runs"]:
        _check_recorded(run)
    # The settings that no axis varies are resolved and shown for every row.
    assert report["shared"]["batch_size"] == 50 and report["shared"]["seq_len"] == 3
    assert report["shared"]["optimizer"] == "adam"
    assert not set(axes) & set(report["shared"])
    for row in report["rows"]:
        assert row["settings"]["batch_size"] == 50 and set(axes) <= set(row["varies"])
    with (out / "results.csv").open() as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == 8 and {f"setting.{a}" for a in axes} <= set(lines[0])
    # The recorded point is the run it names: an ordinary run with those settings agrees.
    point = saved["runs"][-1]
    again = seqkit.run(seqkit.RunConfig.from_dict(point["settings"]))
    assert again.metrics["val_loss"] == pytest.approx(point["val_loss"], rel=1e-6)


def test_the_table_shows_the_resolved_settings_and_parameters(tmp_path):
    res = _invoke(
        "compare", "--cells", "rnn,gru", "--task", "recall", "--task-opt", "seq_len=3", *TINY,
        "--hidden-size", "8", "--lr", "1e-2,2e-2", "--epochs", "1", "--seeds", "2",
        "--out", str(tmp_path / "c"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    text = " ".join(line.strip() for line in res.stdout.splitlines())
    assert "every row:" in text and "hidden_size=8" in text and "batch_size=50" in text
    assert "rnn rows: cell.nonlinearity=tanh" in text
    rnn = seqkit.RunConfig(task="recall", cell="rnn", hidden_size=8, task_options={"seq_len": 3})
    count = _count(rnn, None)
    row = next(line for line in res.stdout.splitlines() if line.startswith("rnn     lr=0.01"))
    assert f"{count:,}" in row.split() and "8" in row.split()
    assert "95% t-interval over seeds" in res.stdout


def test_lists_in_a_settings_file_are_axes_as_the_same_flags_would_be(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(
        'task = "recall"\nlr = [0.003, 0.01]\nhidden_size = 8\nepochs = 1\n'
        "[task_options]\nseq_len = [3, 4]\nnum_samples = 200\nval_samples = 100\n"
        "[cell_options]\nnum_layers = [1, 2]\n"
    )
    common = ["--cells", "gru", "--batch-size", "50", "--jobs", "1", "--seeds", "1", "--json"]
    from_file = _invoke("compare", "--config", str(grid), *common, "--out", str(tmp_path / "f"))
    assert from_file.exit_code == 0, from_file.output
    flags = ["--task", "recall", "--lr", "0.003,0.01", "--hidden-size", "8", "--epochs", "1"]
    flags += ["--task-opt", "seq_len=3,4", "--task-opt", "num_samples=200"]
    flags += ["--task-opt", "val_samples=100", "--num-layers", "1,2"]
    by_flags = _invoke("compare", *flags, *common, "--out", str(tmp_path / "l"))
    assert by_flags.exit_code == 0, by_flags.output
    a, b = json.loads(from_file.stdout), json.loads(by_flags.stdout)
    assert set(a["grid"]) == {"lr", "seq_len", "cell.num_layers"} == set(b["grid"])
    assert len(a["rows"]) == 8
    settings = sorted(
        (json.dumps(r["settings"], sort_keys=True), r["val_loss_mean"]) for r in a["rows"]
    )
    assert settings == sorted(
        (json.dumps(r["settings"], sort_keys=True), r["val_loss_mean"]) for r in b["rows"]
    )
    # A flag on the command line still wins over the file's list.
    pinned = _invoke(
        "compare", "--config", str(grid), "--lr", "0.01", "--task-opt", "seq_len=3", *common,
        "--out", str(tmp_path / "p"),
    )  # fmt: skip
    assert pinned.exit_code == 0, pinned.output
    assert list(json.loads(pinned.stdout)["grid"]) == ["cell.num_layers"]
    grid.write_text('task = "recall"\nlr = []\n')
    _refused(
        _invoke("compare", "--config", str(grid), *common, "--out", str(tmp_path / "e")),
        "lr is an empty list",
    )


# -- item 5: intervals over seeds -----------------------------------------------------------


def _out(val_loss: float, solved: bool, cell: str = "rnn") -> dict:
    settings = seqkit.RunConfig(task="recall", cell=cell, hidden_size=8).as_dict()
    return {
        "settings": settings,
        "parameters": 100,
        "hidden_size": 8,
        "val_loss": val_loss,
        "metrics": {"val_loss": val_loss, "val_accuracy": 1 - val_loss / 10},
        "headline_metric": "val_accuracy",
        "chance_loss": 2.08,
        "solved": solved,
        "steps_to_solve": 10 if solved else None,
        "wall_s": 1.0,
    }


def test_rows_carry_t_intervals_and_wilson_intervals_computed_by_hand():
    results = [
        (GridPoint("rnn", (), s), _out(v, s == 0)) for s, v in enumerate([1.0, 2.0, 3.0])
    ] + [(GridPoint("gru", (), s), _out(v, True, "gru")) for s, v in enumerate([1.5, 2.5, 2.0])]
    rows = {r["cell"]: r for r in summarise(results)}
    rnn = rows["rnn"]
    half = 4.302653 / math.sqrt(3)  # t(0.975, 2) * s / sqrt(n), s = 1
    assert rnn["val_loss_ci95"] == pytest.approx([2 - half, 2 + half], abs=1e-5)
    assert rnn["metric_ci95"] == pytest.approx([0.8 - half / 10, 0.8 + half / 10], abs=1e-6)
    assert rnn["solved"] == 1 and rnn["solved_ci95"] == pytest.approx([0.0615, 0.7923], abs=1e-4)
    assert rows["gru"]["solved"] == 3
    assert rows["gru"]["solved_ci95"] == pytest.approx([0.4385, 1.0], abs=1e-4)
    (diff,) = differences(list(rows.values()))
    assert not diff["resolved"] and diff["lower"] is None and diff["seeds"] == 3


def test_intervals_stay_where_the_loss_and_metric_can_be():
    def out(loss: float, accuracy: float, ranges: dict | None) -> dict:
        kept = {**_out(loss, False), "metrics": {"val_loss": loss, "val_accuracy": accuracy}}
        return {**kept, "ranges": ranges} if ranges is not None else kept

    seeds = [(0.0001, 1.0), (0.0002, 1.0), (0.0009, 0.24)]
    built_in = {"loss": [0.0, None], "accuracy": [0.0, 1.0]}
    (row,) = summarise([(GridPoint("gru", (), s), out(*v, built_in)) for s, v in enumerate(seeds)])
    assert row["val_loss_ci95"][0] == 0.0 and row["val_loss_ci95"][1] > 0.0009
    assert row["metric_ci95"] == [0.0, 1.0]
    # a loss declared unbounded (a task's own, say a Gaussian NLL), or a result kept by an
    # older seqkit without ranges: the plain t-interval
    for ranges in ({"loss": [None, None], "accuracy": [None, None]}, None):
        results = [(GridPoint("gru", (), s), out(*v, ranges)) for s, v in enumerate(seeds)]
        (row,) = summarise(results)
        assert row["val_loss_ci95"][0] < 0 and row["metric_ci95"][1] > 1


def test_apart_intervals_are_a_resolved_difference_naming_the_lower():
    results = [(GridPoint("rnn", (), s), _out(v, False)) for s, v in enumerate([2.0, 2.1, 2.2])]
    results += [
        (GridPoint("gru", (), s), _out(v, True, "gru")) for s, v in enumerate([0.1, 0.2, 0.15])
    ]
    (diff,) = differences(summarise(results))
    assert diff["resolved"] and diff["lower"] == "gru" and diff["cells"] == ["rnn", "gru"]


def test_shared_settings_split_what_every_row_shares_from_each_cells_own():
    results = [
        (GridPoint("rnn", (), 0), _out(1.0, True)),
        (GridPoint("gru", (), 0), _out(1.0, True, "gru")),
    ]
    rows = summarise(results)
    rows[1]["settings"]["cell.nonlinearity"] = "x"  # as if only one cell had the option
    every, per_cell = shared_settings(rows)
    assert every["hidden_size"] == 8 and "cell.nonlinearity" not in every
    assert per_cell["gru"] == {"cell.nonlinearity": "x"} and per_cell["rnn"] == {}


def test_seeds_default_to_three_and_the_report_says_what_is_not_resolved(tmp_path):
    res = _invoke(
        "compare", "--cells", "rnn,gru", "--task", "recall", "--task-opt", "seq_len=3", *TINY,
        "--hidden-size", "8", "--epochs", "1", "--out", str(tmp_path / "c"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    saved = json.loads((tmp_path / "c" / "results.json").read_text())
    assert saved["seeds"] == 3 and sorted(r["seed"] for r in saved["runs"]) == [0, 0, 1, 1, 2, 2]
    assert saved["interval"].startswith("95% t-interval")
    assert saved["solved_interval"] == "95% Wilson score interval"
    (diff,) = saved["differences"]
    if diff["resolved"]:
        assert f"{diff['lower']} < " in res.stdout and "resolved" in res.stdout
    else:
        assert "not resolved at 3 seed(s)" in res.stdout


# -- item 3: parameter-matched baselines ----------------------------------------------------


@pytest.fixture
def with_mingru():
    """The registry of the installed plugins and the example third-party cell."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        import seqkit_mingru

        yield seqkit.load_registry([seqkit_mingru], strict=True)
    finally:
        sys.path.remove(str(EXAMPLE))
        for name in [m for m in sys.modules if m.split(".")[0] == "seqkit_mingru"]:
            del sys.modules[name]


def _count(config: seqkit.RunConfig, registry) -> int:
    model = plan(config, registry).build_model()  # a real build, not the search's
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("task", ["recall", "sum"])
def test_every_cell_is_matched_within_five_percent_of_the_reference(with_mingru, task):
    cells = ["rnn", "lstm", "gru", "mingru"]
    configs = [seqkit.RunConfig(task=task, cell=c, hidden_size=48, device="cpu") for c in cells]
    matched = match_hidden_sizes(configs, "lstm", None, with_mingru)
    target = _count(configs[1], with_mingru)
    for config in matched:
        assert abs(_count(config, with_mingru) - target) <= 0.05 * target, config.cell
    sizes = {c.cell: c.hidden_size for c in matched}
    assert sizes["lstm"] == 48 and sizes["rnn"] > sizes["gru"] > 48


def test_a_parameter_budget_matches_every_cell(with_mingru):
    configs = [
        seqkit.RunConfig(task="adding", cell=c, device="cpu", cell_options=opts)
        for c, opts in [("rnn", {}), ("lstm", {"num_layers": 2}), ("mingru", {})]
    ]
    for config in match_hidden_sizes(configs, None, 20_000, with_mingru):
        assert abs(_count(config, with_mingru) - 20_000) <= 1_000, config.cell


def test_match_params_on_the_command_line_shows_counts_and_hidden_sizes(tmp_path):
    res = _invoke(
        "compare", "--cells", "rnn,lstm", "--task", "recall", "--task-opt", "seq_len=3", *TINY,
        "--hidden-size", "32", "--match-params", "rnn", "--epochs", "1", "--seeds", "1",
        "--json", "--out", str(tmp_path / "c"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    rows = {r["cell"]: r for r in report["rows"]}
    assert rows["rnn"]["hidden_size"] == 32 and rows["lstm"]["hidden_size"] < 20
    assert (
        abs(rows["lstm"]["parameters"] - rows["rnn"]["parameters"])
        <= 0.05 * rows["rnn"]["parameters"]
    )
    assert report["match"] == {"reference": "rnn", "params": None, "tolerance": 0.05}


# -- item 2: a held-out test stream and selection on validation ----------------------------


def test_select_picks_on_validation_and_reports_test(tmp_path):
    res = _invoke(
        "compare", "--cells", "gru", "--task", "recall", "--task-opt", "seq_len=3", *TINY,
        "--task-opt", "num_samples=800", "--hidden-size", "16", "--lr", "1e-4,2e-2",
        "--epochs", "4", "--seeds", "2",
        "--select", "lr", "--out", str(tmp_path / "c"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "best over lr, selected on validation loss, reported on test" in res.stdout
    saved = json.loads((tmp_path / "c" / "results.json").read_text())
    (row,) = saved["rows"]
    runs = saved["runs"]
    for seed in (0, 1):
        mine = [r for r in runs if r["seed"] == seed]
        best = min(mine, key=lambda r: r["val_loss"])
        assert best["settings"]["lr"] == 2e-2  # 1e-4 barely moves in four epochs
        assert best["test_loss"] != best["val_loss"]  # its own stream
    assert row["selected"] == {"lr=0.02": 2}
    chosen = [r["test_loss"] for r in runs if r["settings"]["lr"] == 2e-2]
    assert row["test_loss_mean"] == pytest.approx(sum(chosen) / 2)
    assert row["test_loss_mean"] < 0.5 * row["chance_loss"]  # it learned, on unseen data


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--lr", "1e-3,x"], ["--lr", "'x' is not a valid float"]),
        (["--hidden-size", "8,0"], ["--hidden-size must be an integer from 1"]),
        (["--cell-opt", "init=default,sideways"], ["init", "sideways"]),
        (["--match-params", "lstn"], ["--match-params", "unknown cell 'lstn'", "lstm"]),
        (["--params", "3"], ["cell 'rnn'", "more than 5% away"]),
        (["--select", "lr"], ["--select lr: not an axis"]),
        (["--match-params", "rnn", "--params", "900"], ["not both"]),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, words):
    out = tmp_path / "c"
    base = ["compare", "--cells", "rnn,gru", "--task", "recall", "--epochs", "1"]
    _refused(_invoke(*base, *args, "--out", str(out)), *words)
    assert not out.exists()


# -- the library function -------------------------------------------------------------------


def test_the_library_function_takes_axes_by_name_and_writes_nothing_without_out(tmp_path):
    report = seqkit.compare(
        ["rnn", "gru"],
        task="recall",
        epochs=1,
        hidden_size=8,
        device="cpu",
        task_options={"num_samples": 200, "val_samples": 100},
        axes={"task.seq_len": [3, 4], "lr": [1e-2]},
        seeds=2,
        match_params="gru",
    )
    assert report.grid == {"seq_len": [3, 4], "lr": [1e-2]} and report.seeds == 2
    assert [(r["cell"], r["setting"]) for r in report.rows] == [
        (c, f"seq_len={t},lr=0.01") for t in (3, 4) for c in ("rnn", "gru")
    ]
    assert len(report.runs) == 8 and report.out_dir is None and not list(tmp_path.iterdir())
    gru = next(r for r in report.rows if r["cell"] == "gru")
    rnn = next(r for r in report.rows if r["cell"] == "rnn")
    assert (
        gru["hidden_size"] == 8
        and abs(rnn["parameters"] - gru["parameters"]) <= 0.05 * gru["parameters"]
    )
    with pytest.raises(seqkit.ConfigError, match="unknown axis 'learning_rate'"):
        seqkit.compare(["rnn"], task="recall", axes={"learning_rate": [1e-3]})


def test_the_test_stream_is_its_own():
    from seqkit._run.runner import heldout_set, make_data

    task = seqkit.get_task("recall", seq_len=3, num_samples=100, val_samples=100)
    device = torch.device("cpu")
    data = make_data(task, 0, device)
    x, y = heldout_set(task, 0, device)
    again, _ = heldout_set(task, 0, device)
    assert x.shape == data.val_x.shape and y.shape == data.val_y.shape
    assert x.equal(again)  # the same seed gives the same test set
    assert not x.equal(data.val_x) and not x.equal(data.train_x)
    assert not x.equal(heldout_set(task, 1, device)[0])


def test_a_run_is_scored_on_its_test_stream_and_a_comparison_reports_that_score():
    from seqkit._run.runner import heldout_set
    from seqkit._study.points import point_result
    from seqkit._train.evaluate import evaluate

    settings = dict(task_options={"seq_len": 3, "num_samples": 200, "val_samples": 100})
    result = seqkit.run(cell="gru", task="recall", epochs=2, seed=4, quiet=True, **settings)
    again = evaluate(
        result.model, result.task, *heldout_set(result.task, 4, torch.device("cpu")), prefix="test_"
    )
    assert result.test == again and set(again) >= {"test_loss", "test_accuracy"}
    assert result.test["test_loss"] != result.metrics["val_loss"]
    summary = result.summary()
    assert summary["test_loss"] == again["test_loss"]
    assert summary["test_metrics"] == {"test_accuracy": again["test_accuracy"]}
    point = point_result(result, wall=1.0)
    assert point["test_loss"] == again["test_loss"] and point["test_metrics"] == again


def test_select_finds_an_axis_by_its_flag_or_key():
    from seqkit._cli.compare_cmd import axis_name

    axes = {"hidden_size": [8], "cell.num_layers": [1], "task.seq_len": [3]}
    assert axis_name("hidden-size", axes) == "hidden_size"
    assert axis_name("num_layers", axes) == "cell.num_layers"
    assert axis_name("seq_len", axes) == "task.seq_len"
    assert axis_name("lr", axes) == "lr"  # not an axis: compare refuses it by name
