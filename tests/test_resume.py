"""Checkpoints and --resume: an interrupted run, resumed, equals one that never stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

import seqkit
from seqkit._cli.main import cli
from seqkit._core import files
from seqkit._core.errors import ConfigError, Interrupted
from seqkit._run.runner import resume

# Fresh data every epoch (a data stream to restore) and dropout (torch's RNG).
SETTINGS = dict(
    cell="gru",
    task="recall",
    epochs=5,
    batch_size=50,
    device="cpu",
    cell_options={"num_layers": 2, "dropout": 0.2},
    task_options={"seq_len": 5, "num_samples": 500, "val_samples": 100},
)


class StopAt(seqkit.Callback):
    """Interrupts like a signal would: in the middle of an epoch."""

    def __init__(self, epoch: int, step_in_epoch: int) -> None:
        self.epoch, self.step_in_epoch, self.seen = epoch, step_in_epoch, 0

    def on_step_end(self, state):
        if state.epoch == self.epoch:
            self.seen += 1
            if self.seen == self.step_in_epoch:
                state.interrupt = "was interrupted by a test"


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path):
    whole = seqkit.run(out=tmp_path / "whole", **SETTINGS)
    with pytest.raises(Interrupted, match=r"during epoch 3; 2 epochs are complete"):
        seqkit.run(out=tmp_path / "cut", callbacks=[StopAt(3, 4)], **SETTINGS)
    assert len((tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()) == 2
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    resumed = resume(tmp_path / "cut")
    assert [r["val_loss"] for r in resumed.history.epochs] == [
        r["val_loss"] for r in whole.history.epochs
    ]
    assert _same_weights(resumed.model.state_dict(), whole.model.state_dict())
    lines = (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 5


def test_checkpoint_every_and_atomic_file(tmp_path):
    seqkit.run(out=tmp_path / "r", checkpoint_every=2, **SETTINGS)
    ckpt = torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == 5 and len(ckpt["history"]) == 5
    assert not list((tmp_path / "r").glob(".checkpoint.pt.*"))  # no temporary left


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_real_signal_to_a_subprocess_then_resume(tmp_path, sig, code):
    args = [
        sys.executable,
        "-m",
        "seqkit",
        "run",
        "--cell",
        "gru",
        "--task",
        "cumsum",
        "--epochs",
        "60",
        "--task-opt",
        "num_samples=2000",
        "--quiet",
        "--seed",
        "3",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cut = tmp_path / "cut"
    proc = subprocess.Popen(
        [*args, "--out", str(cut)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    metrics = cut / "metrics.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert f"resume with: seqkit run --resume {cut}" in err and "Traceback" not in err
    done = len(metrics.read_text().splitlines())
    assert 3 <= done < 60
    res = subprocess.run(
        [sys.executable, "-m", "seqkit", "run", "--resume", str(cut), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    whole = tmp_path / "whole"
    subprocess.run(
        [*args, "--out", str(whole)], env=env, check=True, capture_output=True, timeout=120
    )
    assert _same_weights(
        load_file(cut / "model.safetensors"),
        load_file(whole / "model.safetensors"),
    )
    assert len(metrics.read_text().splitlines()) == 60


def test_resume_errors(tmp_path):
    with pytest.raises(ConfigError, match="not a run directory"):
        resume(tmp_path)
    seqkit.run(out=tmp_path / "done", **SETTINGS)
    with pytest.raises(ConfigError, match="already finished its 5 epochs"):
        resume(tmp_path / "done")
    (tmp_path / "done" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    res = CliRunner().invoke(cli, ["run", "--resume", str(tmp_path / "done")])
    assert res.exit_code == 2 and "was refused: it is not a plain tensor file" in res.output
    res = CliRunner().invoke(cli, ["run", "--resume", str(tmp_path / "done"), "--epochs", "9"])
    assert res.exit_code == 2 and "drop --epochs" in res.output
    (tmp_path / "done" / "checkpoint.pt").unlink()
    with pytest.raises(ConfigError, match=r"no checkpoint\.pt"):
        resume(tmp_path / "done")


class _CtrlCMidWrite:
    """Sends this process SIGINT while torch.save pickles it: Ctrl-C during a checkpoint."""

    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGINT)
        return (dict, ())


def test_ctrl_c_while_a_checkpoint_is_written_waits_until_the_file_is_whole(tmp_path):

    path = tmp_path / "checkpoint.pt"
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C still stops the run...
        files.save_tensors(path, {"w": torch.ones(3), "ctrl_c": _CtrlCMidWrite()})
    kept = torch.load(path, weights_only=False)  # ...once the file is complete
    assert torch.equal(kept["w"], torch.ones(3)) and kept["ctrl_c"] == {}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary left
