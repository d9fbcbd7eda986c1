"""A directory has one writer (issue 33 item 1, DESIGN principle 12): a run, a resume, a
comparison or a suite holds its directory with an exclusive lock while it writes; a
second writer is refused with one line, exit 2, and nothing of the first is touched. The
tests hold the lock themselves, so nothing here depends on timing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import seqkit
from seqkit._core import files

SMALL = ["--cell", "gru", "--task", "sum", "--epochs", "2", "--task-opt", "num_samples=200"]


def seqkit_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seqkit", *args], cwd=cwd, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def one_line(proc: subprocess.CompletedProcess[str], expect: str) -> None:
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and line.startswith("Error: ") and expect in line, proc.stderr


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_second_run_into_a_held_directory_is_refused(tmp_path):
    out = tmp_path / "run"
    with files.locked(out, "test"):
        proc = seqkit_cli("run", *SMALL, "--out", str(out), cwd=tmp_path)
        one_line(proc, f"another seqkit process is writing in {out}")
        assert list(out.iterdir()) == []  # it wrote nothing
    proc = seqkit_cli("run", *SMALL, "--out", str(out), "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # released: the next writer gets it
    one_line(seqkit_cli("run", *SMALL, "--out", str(out), cwd=tmp_path), "holds another run")


def test_a_resume_of_a_held_run_is_refused_and_changes_nothing(tmp_path):
    # a checkpoint at epoch 1 of 3, as a stopped run leaves it
    stopped = tmp_path / "stopped"
    with pytest.raises(seqkit.SeqkitError):
        seqkit.run(
            cell="gru", task="sum", epochs=3, device="cpu", quiet=True, out=stopped,
            task_options={"num_samples": 200}, callbacks=[StopAfter(1)],
        )  # fmt: skip
    before = snapshot(stopped)
    with files.locked(stopped, "test"):
        one_line(
            seqkit_cli("run", "--resume", str(stopped), cwd=tmp_path),
            f"--resume {stopped}: another seqkit process is writing in {stopped}",
        )
    assert snapshot(stopped) == before
    proc = seqkit_cli("run", "--resume", str(stopped), "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_a_held_comparison_is_refused(tmp_path):
    out = tmp_path / "c"
    with files.locked(out, "test"):
        proc = seqkit_cli(
            "compare", "--cells", "rnn", *SMALL[2:], "--seeds", "1", "--out", str(out), cwd=tmp_path
        )
        one_line(proc, f"another seqkit process is writing in {out}")


def test_the_lock_goes_with_a_killed_process(tmp_path):
    """flock belongs to the open file: a run killed with SIGKILL leaves no stale lock."""
    out = tmp_path / "held"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from seqkit._core import files\n"
         f"with files.locked(Path({str(out)!r}), 'holder'):\n"
         "    print('held', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with (
        pytest.raises(seqkit.ConfigError, match="another seqkit process is writing"),
        files.locked(out, "test"),
    ):
        pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=60)
    with files.locked(out, "test"):  # free again
        pass


class StopAfter(seqkit.Callback):
    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_epoch_end(self, state, record) -> None:
        if state.epoch >= self.epochs:
            state.interrupt = "stopped by the test"
