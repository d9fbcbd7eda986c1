"""A write that fails is one line, and loses nothing (issue 33 item 4). The fault is the
kernel's own: the run starts under a file size limit (RLIMIT_FSIZE, with SIGXFSZ
ignored), so a write past it fails with EFBIG exactly as a full disk fails with ENOSPC,
at a size the test chooses, with no root and no mount. A checkpoint grows by one epoch's
record each epoch, so under a limit just above the first one's size the run stops at a
later epoch's checkpoint; resumed without the limit, it ends bit for bit as a run that
never stopped."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

import seqkit
from seqkit._core import files

RUN = [
    "--cell", "gru", "--task", "sum", "--hidden-size", "8", "--epochs", "12",
    "--task-opt", "num_samples=50", "--batch-size", "50", "--checkpoint-every", "1",
]  # fmt: skip


def seqkit_cli(*args: str, cwd: Path, limit: int | None = None) -> subprocess.CompletedProcess:
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "seqkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=limited if limit is not None else None,
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def epochs(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / files.METRICS).read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("epoch_time", "train_time")} for r in rows]


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("whole")
    assert seqkit_cli("run", *RUN, "--out", "run", "--quiet", cwd=root).returncode == 0
    return root / "run"


def first_checkpoint_size(root: Path) -> int:
    """The size of checkpoint.pt after the first epoch of the same run."""
    seqkit_cli("run", *RUN, "--epochs", "1", "--out", "one", "--quiet", cwd=root)
    return (root / "one" / files.CHECKPOINT).stat().st_size


def test_a_full_disk_mid_run_is_one_line_and_resume_ends_bit_for_bit(tmp_path, whole):
    limit = first_checkpoint_size(tmp_path) + 700  # room for a few epochs' records
    cut = tmp_path / "cut"
    res = seqkit_cli("run", *RUN, "--out", "cut", "--quiet", cwd=tmp_path, limit=limit)
    assert res.returncode == 1, res.stderr
    line = res.stderr.strip()
    assert "\n" not in line and line.startswith("Error: cannot write cut/"), res.stderr
    assert "File too large (its previous version is kept)" in line
    assert line.endswith("free space, then go on with: seqkit run --resume cut")
    stopped_at = len(epochs(cut))
    assert 1 < stopped_at < 12  # it trained, then the checkpoint outgrew the room left
    assert not (cut / files.SUMMARY).exists() and not list(cut.glob(".*"))  # no temp file

    res = seqkit_cli("run", "--resume", "cut", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert [{k: v for k, v in e.items() if k != "run_id"} for e in epochs(cut)] == [
        {k: v for k, v in e.items() if k != "run_id"} for e in epochs(whole)
    ]
    a, b = load_file(cut / files.MODEL), load_file(whole / files.MODEL)
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)


def test_a_full_disk_while_drawing_keeps_the_results_and_the_earlier_report(tmp_path, whole):
    limit = max((whole / name).stat().st_size for name in (files.CHECKPOINT, files.SUMMARY))
    limit += 200  # the results fit; the pictures (tens of KB) do not
    assert (whole / files.PLOT).stat().st_size > limit
    res = seqkit_cli("run", *RUN, "--out", "run", "--quiet", cwd=tmp_path, limit=limit)
    run = tmp_path / "run"
    assert res.returncode == 1, res.stderr
    line = res.stderr.strip()
    assert "\n" not in line and line.startswith("Error: cannot write run/"), res.stderr
    assert line.endswith("once there is space, `seqkit report run` draws its report again")
    assert (run / files.SUMMARY).is_file() and (run / files.MODEL).is_file()
    assert seqkit.load_run(run).predict([[1, 2, 3, 4, 5, 6]])[0]["output"] > 20

    assert seqkit_cli("report", "run", cwd=tmp_path).returncode == 0  # space again
    before = snapshot(run)
    res = seqkit_cli("report", "run", cwd=tmp_path, limit=limit)  # full again
    assert res.returncode == 1 and "its previous version is kept" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert snapshot(run) == before  # the earlier report and plots, whole


def test_a_run_whose_last_results_were_not_written_writes_them_on_resume(tmp_path, whole):
    """Trained to the end, then a write of its results failed (the summary is written
    last, so a run without it is not finished): `--resume` trains no more epochs and
    writes the results, the same as the whole run's."""
    run = tmp_path / "run"
    shutil.copytree(whole, run)
    for name in (files.SUMMARY, files.MODEL, files.REPORT, files.PLOT):
        (run / name).unlink()
    res = seqkit_cli("run", "--resume", "run", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert epochs(run) == epochs(whole)
    a, b = load_file(run / files.MODEL), load_file(whole / files.MODEL)
    assert all((a[k] == b[k]).all() for k in a)
    again = seqkit_cli("run", "--resume", "run", "--quiet", cwd=tmp_path)
    assert again.returncode == 2 and "already finished its 12 epochs" in again.stderr
