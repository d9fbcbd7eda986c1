"""The tutorial notebooks run end to end on the CPU (nbclient, a python3 kernel), and each
seqkit result in them displays as HTML: a run, an explanation, gradients, a comparison."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

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


LANGS = ("en", "ko")


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, tuple[Any, Path]]:
    """Both notebooks, executed at once (a kernel each, one thread each: two cores)."""
    notebooks = {}
    for lang in LANGS:
        nb = nbformat.read(NOTEBOOKS / f"tutorial-{lang}.ipynb", as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # clean
        notebooks[lang] = (nb, tmp_path_factory.mktemp(f"notebook-{lang}"))
    env = {"OMP_NUM_THREADS": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ["OMP_NUM_THREADS"] = env["OMP_NUM_THREADS"]
    os.environ["PATH"] = env["PATH"] + os.environ["PATH"]
    clients = [
        nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
        )
        for nb, cwd in notebooks.values()
    ]

    async def run_all() -> None:
        await asyncio.gather(*(c.async_execute() for c in clients))

    try:
        asyncio.run(run_all())
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebooks


@pytest.mark.parametrize("lang", LANGS)
def test_the_tutorial_notebook_runs_and_shows_html(lang, executed):
    nb, tmp_path = executed[lang]

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
