"""The run's plots drawn by a second process that imports matplotlib while it trains."""

from __future__ import annotations

import sys
import tempfile

from click.testing import CliRunner

from seqkit import _drawing as drawing
from seqkit._cli.main import cli

RUN = ["run", "--cell", "gru", "--task", "sum", "--epochs", "1", "--hidden-size", "8", "-q"]


def _drawn_here(monkeypatch) -> list[str]:
    here: list[str] = []
    real = drawing.call

    def recording(calls):
        here.extend(name for name, _ in calls)
        real(calls)

    monkeypatch.setattr(drawing, "call", recording)
    return here


def test_the_cli_draws_in_the_second_process(tmp_path, monkeypatch):
    here = _drawn_here(monkeypatch)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # where the calls go
    res = CliRunner().invoke(cli, [*RUN, "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    png = tmp_path / "r" / "loss.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert here == []  # this process drew nothing
    assert not list((tmp_path / "tmp").glob("seqkit-draw-*"))  # the calls' file is removed


def test_a_failed_drawing_process_is_drawn_here(tmp_path, monkeypatch):
    here = _drawn_here(monkeypatch)
    monkeypatch.setattr(drawing, "COMMAND", [sys.executable, "-c", "import sys; sys.exit(3)"])
    res = CliRunner().invoke(cli, [*RUN, "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r" / "loss.png").stat().st_size > 1000
    assert here == ["seqkit._report:write_run_report"]


def test_a_drawing_process_that_cannot_start_is_drawn_here(tmp_path, monkeypatch):
    here = _drawn_here(monkeypatch)
    monkeypatch.setattr(drawing, "COMMAND", [str(tmp_path / "no-such-python")])
    res = CliRunner().invoke(cli, [*RUN, "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r" / "loss.png").exists() and here == ["seqkit._report:write_run_report"]


def test_a_run_that_fails_before_its_end_stops_the_process(tmp_path):
    with drawing.Drawer() as drawer:
        process = drawer.process
        assert process is not None and process.poll() is None
    assert process.wait(timeout=10) != 0  # killed, not left running
