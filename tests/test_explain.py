"""`seqkit explain`: shapes traced from a real forward pass, for any cell."""

from __future__ import annotations

import json

from click.testing import CliRunner
from test_registry import EchoPlugin

import seqkit
from seqkit._cli.main import cli
from seqkit._plugins.registry import load_registry
from seqkit._study.explain import explain, render


def test_json_report_has_the_shapes_of_the_run():
    res = CliRunner().invoke(
        cli,
        ["explain", "--cell", "lstm", "--task", "sum", "--batch-size", "64", "--format", "json"],
    )
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert (r["input"], r["output"], r["target"]) == ([64, 6, 1], [64, 1, 1], [64, 1, 1])
    cell = next(s for s in r["stages"] if s["path"] == "inner.cell")
    assert cell["outputs"] == [[64, 6, 50], [[1, 64, 50], [1, 64, 50]]]  # outputs, (h, c)
    head = next(s for s in r["stages"] if s["path"] == "inner.head")
    assert head["inputs"] == [[64, 50]] and head["outputs"] == [64, 1]
    assert r["loss"]["name"] == "MSE" and r["loss"]["value"] > 0
    by_name = {p["name"]: p for p in r["parameters"]}
    assert by_name["inner.cell.rnn.weight_hh_l0"]["shape"] == [200, 50]
    assert r["total_parameters"] == 4 * (50 * 1 + 50 * 50 + 2 * 50) + 51
    assert any("c_t (64, 50) = f * c_(t-1) + i * g" in e for e in r["equations"]["inner.cell"])


def test_text_has_the_flow_line_and_equations():
    res = CliRunner().invoke(
        cli,
        ["explain", "--cell", "gru", "--task", "cumsum", "--num-layers", "2", "--bidirectional"],
    )
    assert res.exit_code == 0, res.output
    assert (
        "X (100, 5, 1) -> GRU (100, 5, 1) -> outputs (100, 5, 120), state (4, 100, 60)"
        " -> Linear (100, 5, 120) -> (100, 5, 1)"
    ) in res.output
    assert "h_t (100, 60) = (1 - z) * n + z * h_(t-1)" in res.output
    assert "2 layer(s) x 2 direction(s)" in res.output


def test_classification_targets_are_int64():
    r = explain(seqkit.RunConfig(task="toy", cell="rnn", batch_size=8))
    assert r["target"] == [8, 1] and r["target_dtype"] == "int64" and r["output"] == [8, 1, 2]
    assert r["loss"]["name"] == "cross-entropy"


def test_works_for_a_third_party_cell_without_equations():
    registry = load_registry(plugins=[EchoPlugin()])
    r = explain(seqkit.RunConfig(task="sum", cell="echo", batch_size=4), registry)
    cell = next(s for s in r["stages"] if s["path"] == "inner.cell")
    assert cell["module"] == "EchoCell" and cell["outputs"][0] == [4, 6, 50]
    assert r["equations"] == {}
    assert "EchoCell" in render(r)


def test_bad_names_are_one_line_errors():
    res = CliRunner().invoke(cli, ["explain", "--cell", "lsmt", "--task", "sum"])
    assert res.exit_code == 2 and "Did you mean 'lstm'?" in res.output
