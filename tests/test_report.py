"""report.html and the Jupyter views (`_repr_html_`): one renderer, read back as HTML with
the result's own numbers in it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from html_check import assert_self_contained, parse

import seqkit
from seqkit._cli.main import cli
from seqkit._core.fmt import percent
from seqkit._core.schedules import learning_rates
from seqkit._train.progress import BarProgress, interactive_progress

SUM = {"num_samples": 512, "val_samples": 128}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[seqkit.RunResult, Path]:
    """A small sum run that learns (well under chance), with the gradient probe on."""
    out = tmp_path_factory.mktemp("report") / "run"
    result = seqkit.run(
        cell="gru",
        task="sum",
        epochs=12,
        hidden_size=24,
        lr=0.01,
        batch_size=32,
        seed=0,
        device="cpu",
        task_options=SUM,
        probe_every=6,
        out=out,
    )
    assert result.metrics["val_loss"] < 0.2 * result.chance_loss  # it learned
    return result, out


def summary_rows(parsed) -> dict[str, list[str]]:
    table = next(t for t in parsed.tables if t and t[0] and t[0][0] == "epochs")
    return {row[0]: row[1:] for row in table}


def test_the_run_directory_holds_a_self_contained_report(finished):
    result, out = finished
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    parsed = parse(page)
    assert_self_contained(parsed)
    summary = json.loads((out / "summary.json").read_text())
    rows = summary_rows(parsed)
    assert rows["val loss"] == [
        f"{summary['val_loss']:.4g}",
        f"{percent(summary['val_loss'] / summary['chance_loss'])}% of chance",
    ]
    assert rows["chance"][0] == f"{summary['chance_loss']:.4g}"
    assert rows["device"][0] == "cpu" and rows["epochs"][0] == "12"
    assert rows["val mae"][0] == f"{summary['metrics']['val_mae']:.4g}"
    assert rows["test loss"] == [
        f"{summary['test_loss']:.4g}",
        f"{percent(summary['test_loss'] / summary['chance_loss'])}% of chance, held out",
    ]
    assert rows["test mae"][0] == f"{summary['test_metrics']['test_mae']:.4g}"
    assert [img["alt"] for img in parsed.images] == [
        "loss curves",
        "gradient flow",
        "gradient norm per step",
    ]
    # The embedded plots are the run directory's files, byte for byte.
    names = ["loss.png", "gradient_flow.png", "grad_norm.png"]
    assert parsed.pngs() == [(out / n).read_bytes() for n in names]
    for heading in ("Loss", "Gradients", "Example predictions", "Configuration", "Versions"):
        assert heading in parsed.headings
    examples = parsed.table_after("input")
    assert len(examples) == 1 + len(result.examples)
    assert examples[1][2] == f"{result.examples[0]['answer']:.4g}"
    versions = dict(parsed.table_after("package")[1:])
    assert versions["seqkit"] == seqkit.__version__ and versions["torch"]
    config = dict(parsed.table_after("setting")[1:])
    assert config["hidden_size"] == "24" and config["task_options.num_samples"] == "512"


def test_a_run_result_displays_as_html_in_jupyter(finished):
    result, _ = finished
    parsed = parse(result._repr_html_())
    assert_self_contained(parsed)
    assert parsed.headings[0] == "gru / many-to-one on sum"
    rows = summary_rows(parsed)
    assert rows["train loss"][0] == f"{result.metrics['train_loss']:.4g}"
    assert rows["wall time"][0] == f"{result.train_time:.2f} s"
    assert rows["parameters"][0] == f"{sum(p.numel() for p in result.model.parameters()):,}"
    assert "loss curves" in [img["alt"] for img in parsed.images]
    outputs = [row[1] for row in parsed.table_after("input")[1:]]
    assert outputs == [f"{e['output']:.4g}" for e in result.examples]


def test_seqkit_report_rebuilds_the_plots_and_the_page(finished, tmp_path):
    _, out = finished
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("config.json", "metrics.jsonl", "summary.json", "gradients.json"):
        (copy / name).write_bytes((out / name).read_bytes())
    res = CliRunner().invoke(cli, ["report", str(copy)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"report: {copy / 'report.html'}"
    for name in ("loss.png", "gradient_flow.png", "grad_norm.png"):
        assert (copy / name).stat().st_size > 1000
    assert len(parse((copy / "report.html").read_text()).images) == 3


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_report_of_something_that_is_no_run_is_one_line(tmp_path, make):
    target = tmp_path / "x"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("not a run")
    res = CliRunner().invoke(cli, ["report", str(target)])
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1 and res.output.startswith("Error: ")
    assert str(target) in res.output
    assert not (tmp_path / "x" / "report.html").exists()


def test_explain_displays_every_stage_with_its_shapes():
    report = seqkit.explain(seqkit.RunConfig(cell="lstm", task="sum", batch_size=8))
    assert json.loads(json.dumps(report)) == dict(report)  # still plain data
    parsed = parse(report._repr_html_())
    stages = parsed.table_after("module call")[1:]
    assert len(stages) == len(report["stages"]) + 1  # and the loss
    assert [row[1] for row in stages[:-1]] == [s["module"] for s in report["stages"]]
    lstm = next(row for row in stages if row[1] == "LSTM")
    assert lstm[2] == "(8, 6, 1)"
    assert lstm[3] == "outputs (8, 6, 50), state [(1, 8, 50), (1, 8, 50)]"
    total = parsed.table_after("parameter")[-1]
    assert total == ["total", "", f"{report['total_parameters']:,}"]
    assert "c_t (8, 50) = f * c_(t-1) + i * g" in parsed.text


def test_gradients_display_the_table_and_the_flow_plot():
    report = seqkit.gradients(
        ["rnn", "lstm"], task="adding", task_options={"seq_len": 30}, init_only=True, seed=0
    )
    parsed = parse(report._repr_html_())
    assert_self_contained(parsed)
    rows = {row[0]: row for row in parsed.table_after("cell")[1:]}
    assert set(rows) == {"rnn", "lstm"}
    for cell, row in rows.items():
        assert row[1] == f"1e{report.cells[cell]['init']['log10_vanishing_factor']:+.1f}"
        assert row[3] == "-"  # not trained
    assert [img["alt"] for img in parsed.images] == ["gradient flow"]


def test_gradients_out_writes_a_report_beside_the_plot(tmp_path):
    seqkit.gradients(
        ["rnn"], task="adding", task_options={"seq_len": 20}, init_only=True, out=tmp_path / "g"
    )
    parsed = parse((tmp_path / "g" / "report.html").read_text())
    assert parsed.pngs() == [(tmp_path / "g" / "gradient_flow.png").read_bytes()]


def test_compare_writes_a_report_of_the_grid(tmp_path):
    out = tmp_path / "cmp"
    args = ["compare", "--cells", "rnn,gru", "--task", "toy", "--epochs", "2", "--jobs", "1"]
    res = CliRunner().invoke(cli, [*args, "--task-opt", "num_samples=64", "--out", str(out)])
    assert res.exit_code == 0, res.output
    results = json.loads((out / "results.json").read_text())
    parsed = parse((out / "report.html").read_text())
    assert_self_contained(parsed)
    rows = parsed.table_after("cell")[1:]
    assert [r[0] for r in rows] == [r["cell"] for r in results["rows"]]
    assert rows[0][3].startswith(f"{results['rows'][0]['val_loss_mean']:.4g} ± ")
    assert parsed.pngs() == [(out / Path(p).name).read_bytes() for p in results["plots"]]


def test_learning_rates_follow_the_schedule():
    records = [{"epoch": e, "step": 10 * e} for e in range(1, 11)]
    cosine = learning_rates("cosine", 0.01, 10, records)
    assert cosine[-1] == pytest.approx(0.0, abs=1e-12)
    assert cosine[4] == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert cosine == sorted(cosine, reverse=True)
    assert learning_rates("constant", 0.01, 10, records) == [0.01] * 10


def test_a_library_run_shows_no_bar_when_nobody_watches_or_when_quiet(monkeypatch):
    # Under pytest stderr is captured: no terminal, no notebook, no bar.
    assert interactive_progress() is None
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert interactive_progress() is BarProgress
    made = []
    monkeypatch.setattr("seqkit._run.runner.interactive_progress", lambda: made.append(1))
    seqkit.run(cell="gru", task="toy", epochs=1, quiet=True, device="cpu")
    assert made == []


def test_seqkit_run_writes_the_report_after_the_summary(tmp_path):
    out = tmp_path / "run"
    args = ["run", "--cell", "gru", "--task", "toy", "--epochs", "2", "--out", str(out)]
    res = CliRunner().invoke(cli, [*args, "--quiet"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[-2] == f"run directory: {out}" and lines[-1] == f"report: {out / 'report.html'}"
    parsed = parse((out / "report.html").read_text())
    assert parsed.pngs() == [(out / "loss.png").read_bytes()]
