"""The run's plots drawn by a second process that imports matplotlib while it trains."""

from __future__ import annotations

import sys
import tempfile

import pytest
from click.testing import CliRunner

from seqkit._cli.main import cli
from seqkit._present import drawing

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
    assert here == ["seqkit._present.report:write_run_report"]


def test_a_drawing_process_that_cannot_start_is_drawn_here(tmp_path, monkeypatch):
    here = _drawn_here(monkeypatch)
    monkeypatch.setattr(drawing, "COMMAND", [str(tmp_path / "no-such-python")])
    res = CliRunner().invoke(cli, [*RUN, "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r" / "loss.png").exists() and here == [
        "seqkit._present.report:write_run_report"
    ]


def test_a_run_that_fails_before_its_end_stops_the_process(tmp_path):
    with drawing.Drawer() as drawer:
        process = drawer.process
        assert process is not None and process.poll() is None
    assert process.wait(timeout=10) != 0  # killed, not left running


def test_the_drawing_process_draws_a_run_without_importing_torch(tmp_path):
    """It imports matplotlib while the run trains; torch (seconds more) it never needs."""
    import subprocess

    res = CliRunner().invoke(cli, [*RUN, "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    (tmp_path / "r" / "loss.png").unlink()
    code = (
        "import sys; from pathlib import Path; from seqkit._present.drawing import call; "
        f"call([('seqkit._present.report:write_run_report', (Path({str(tmp_path / 'r')!r}),))]); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert (tmp_path / "r" / "loss.png").exists()


def test_the_drawn_schedule_is_the_one_training_follows():
    import torch

    from seqkit._core.schedules import learning_rates
    from seqkit._model.optim import make_schedule

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01)
    schedule = make_schedule("cosine", opt, 40)
    seen = []
    for _ in range(40):
        opt.step()
        schedule.step()
        seen.append(opt.param_groups[0]["lr"])
    records = [{"epoch": e, "step": 4 * e} for e in range(1, 11)]
    drawn = learning_rates("cosine", 0.01, 10, records)
    assert drawn == pytest.approx([seen[4 * e - 1] for e in range(1, 11)], abs=1e-12)
