"""The tutorial notebooks run end to end on the CPU (nbclient, a python3 kernel), and each
seqkit result in them displays as HTML: a run, an explanation, gradients, a comparison."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from html_check import assert_self_contained, parse

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "docs" / "notebooks"


def html_outputs(cell) -> list[str]:
    return [
        out["data"]["text/html"]
        for out in cell.get("outputs", [])
        if out.get("output_type") in ("display_data", "execute_result")
        and "text/html" in out.get("data", {})
    ]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_tutorial_notebook_runs_and_shows_html(lang, tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOKS / f"tutorial-{lang}.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stored clean
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].outputs == []  # the Colab install does nothing here
    by_source = {c.source: html_outputs(c) for c in code}
    runs = [h for src, hs in by_source.items() if "seqkit.run(" in src for h in hs]
    # Training shows tqdm.auto's widget in a kernel (not a text bar).
    first_run = next(c for c in code if "seqkit.run(" in c.source)
    kinds = [mime for out in first_run.outputs for mime in out.get("data", {})]
    assert "application/vnd.jupyter.widget-view+json" in kinds, kinds
    assert len(runs) == 7  # toy rnn, lstm, gru, square, multiples, sum, cumsum
    for page in runs:
        parsed = parse(page)
        assert_self_contained(parsed)
        assert "loss curves" in [i["alt"] for i in parsed.images]
        summary = next(t for t in parsed.tables if t and t[0][0] == "epochs")
        assert dict((r[0], r[1]) for r in summary)["epochs"] == "10"
    (explained,) = next(hs for src, hs in by_source.items() if "seqkit.explain(" in src)
    assert parse(explained).table_after("module call")
    gradients = [h for src, hs in by_source.items() if "seqkit.gradients(" in src for h in hs]
    assert len(gradients) == 2
    for page in gradients:
        rows = parse(page).table_after("cell")[1:]
        assert [r[0] for r in rows] == ["rnn", "lstm", "gru"]
    (compared,) = next(hs for src, hs in by_source.items() if "seqkit compare" in src)
    rows = parse(compared).table_after("cell")[1:]
    assert sorted({r[0] for r in rows}) == ["gru", "rnn"] and len(rows) == 4
    assert (tmp_path / "runs" / "tutorial-compare" / "report.html").is_file()
