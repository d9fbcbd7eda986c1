"""The `ddp` trainer on CPU (gloo, loopback): real torchrun workers in subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import seqkit
from seqkit._core import files
from seqkit._core.errors import ConfigError

SMALL = ["--cell", "lstm", "--task", "sum", "--task-opt", "num_samples=600", "--seed", "5"]


def _seqkit(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seqkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(run_dir / files.MODEL)


def test_two_processes_with_batch_b_equal_one_process_with_batch_2b(tmp_path):
    # 600 sequences in global batches of 32: the last (24) is split 12/12 and weighted.
    two = _seqkit(
        "run", "--trainer", "ddp", "--nproc", "2", *SMALL, "--epochs", "3",
        "--batch-size", "16", "--out", "two", "-q", cwd=tmp_path,
    )  # fmt: skip
    assert two.returncode == 0, two.stderr
    one = seqkit.run(
        cell="lstm", task="sum", seed=5, epochs=3, batch_size=32, device="cpu",
        task_options={"num_samples": 600},
    )  # fmt: skip
    a, b = _weights(tmp_path / "two"), one.model.state_dict()
    assert max((a[k] - b[k]).abs().max().item() for k in b) < 1e-6
    # Rank 0 alone wrote, once per epoch, and printed once; the summary says 2 processes.
    records = (tmp_path / "two" / files.METRICS).read_text().splitlines()
    assert [json.loads(r)["epoch"] for r in records] == [1, 2, 3]
    assert two.stdout.count("run directory:") == 1
    summary = json.loads((tmp_path / "two" / files.SUMMARY).read_text())
    assert summary["processes"] == 2 and summary["config"]["trainer"] == "ddp"
    # Reduced across ranks: the training loss is the mean of the two ranks', near one
    # process's (not equal: each rank's mean is over its own half of every batch).
    last = json.loads(records[-1])
    assert last["train_loss"] == pytest.approx(one.history.epochs[-1]["train_loss"], rel=1e-3)
    assert last["val_loss"] == pytest.approx(one.history.epochs[-1]["val_loss"], rel=1e-4)


def test_ddp_without_torchrun_is_a_world_of_one_equal_to_minibatch():
    kw = dict(cell="gru", task="cumsum", seed=2, epochs=2, device="cpu")
    plain, ddp = seqkit.run(**kw), seqkit.run(**kw, trainer="ddp")
    assert ddp.history.epochs[-1]["val_loss"] == plain.history.epochs[-1]["val_loss"]
    for p, q in zip(plain.model.parameters(), ddp.model.parameters(), strict=True):
        assert torch.equal(p, q)
    assert not torch.distributed.is_initialized()  # the group it made is gone


def test_a_killed_rank_stops_the_job_with_a_message(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqkit", "run", "--trainer", "ddp", "--nproc", "2", *SMALL,
         "--task-opt", "num_samples=20000", "--epochs", "200", "--out", "run", "-q"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    metrics = tmp_path / "run" / files.METRICS
    try:
        deadline = time.monotonic() + 120
        while not (metrics.exists() and metrics.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert metrics.exists(), "the job did not get through an epoch"
        os.kill(_worker(proc.pid, rank=1), signal.SIGKILL)
        _, err = proc.communicate(timeout=90)  # not a hang
    finally:
        proc.kill()
    assert proc.returncode == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: the 2-process run stopped: rank 1 was killed by SIGKILL")
    assert (tmp_path / "run" / files.CHECKPOINT).is_file()  # rank 0's last checkpoint kept


def test_ctrl_c_saves_and_resume_with_nproc_ends_as_if_never_stopped(tmp_path):
    args = ["run", "--trainer", "ddp", *SMALL, "--task-opt", "num_samples=6000",
            "--epochs", "5", "-q"]  # fmt: skip
    whole = _seqkit(*args, "--nproc", "2", "--out", "whole", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqkit", *args, "--nproc", "2", "--out", "cut"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    metrics = tmp_path / "cut" / files.METRICS
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (metrics.exists() and metrics.read_text()):
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == (
        "Error: the 2-process run was stopped by SIGINT; resume with: "
        "seqkit run --resume cut --nproc 2"
    )
    done = len(metrics.read_text().splitlines())
    assert 1 <= done < 5, "the signal came too late to test anything"
    resumed = _seqkit("run", "--resume", "cut", "--nproc", "2", "-q", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "cut")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert metrics.read_text().count("\n") == 5


def _worker(parent: int, rank: int) -> int:
    """The pid of the torchrun worker with RANK=`rank` among `parent`'s descendants."""
    for _ in range(50):
        for pid in _descendants(parent):
            try:
                env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"RANK={rank}".encode() in env and b"LOCAL_RANK=" + str(rank).encode() in env:
                return pid
        time.sleep(0.1)
    raise AssertionError("no worker found")


def _descendants(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            out += [int(child), *_descendants(int(child))]
    return out


WORKER = """
import os, seqkit
from seqkit._plugins.interfaces import Callback

class Fail(Callback):
    def on_epoch_end(self, state, record):
        if os.environ["RANK"] == "1" and state.epoch == 2:
            raise RuntimeError("rank 1 fails on purpose")

seqkit.run(cell="gru", task="sum", trainer="ddp", epochs=50, device="cpu",
           task_options={"num_samples": 2000}, callbacks=[Fail()])
"""


def test_a_rank_that_raises_stops_the_job_instead_of_hanging(tmp_path):
    (tmp_path / "worker.py").write_text(WORKER)
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "worker.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "rank 1 fails on purpose" in result.stderr
    assert "ChildFailedError" in result.stderr  # torchrun's report names the failed rank


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--nproc", "2"], "--nproc starts torchrun workers: use --trainer ddp"),
        (["--trainer", "ddp", "--tbptt", "2"], "ddp trainer does not support --tbptt"),
        (["--trainer", "ddp", "--nproc", "0"], "--nproc"),
    ],
)
def test_misuse_is_one_line_and_exit_2_before_any_worker_starts(tmp_path, args, message):
    r = _seqkit("run", "--cell", "gru", "--task", "cumsum", *args, "--out", "x", cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "x").exists()


def test_resume_with_another_number_of_processes_is_refused(tmp_path, monkeypatch):
    from seqkit._run.runner import resume

    seqkit.run(cell="gru", task="square", trainer="ddp", epochs=2, out=tmp_path / "r")
    ckpt = tmp_path / "r" / files.CHECKPOINT
    state = files.load_tensors(ckpt)
    assert state["processes"] == 1
    state["epoch"], state["history"] = 1, state["history"][:1]  # as if stopped after epoch 1
    files.save_tensors(ckpt, state)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="trained by one process; resume without --nproc"):
        resume(tmp_path / "r")


def test_under_torchrun_a_single_process_trainer_is_refused(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match=r"one of 2 processes .* use --trainer ddp"):
        seqkit.run(cell="gru", task="sum", trainer="minibatch")
