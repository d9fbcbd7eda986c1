"""A CPU run flushes subnormal floats to zero (unless it keeps them) and gives the thread
its mode back after; the mode is recorded in the run's configuration."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

import seqkit
from seqkit._cli.main import cli
from seqkit._train.denormals import flushed, flushing

if not torch.set_flush_denormal(False):  # not x86 with SSE3: the CPU has no such mode
    pytest.skip("this CPU cannot flush subnormals", allow_module_level=True)

SUBNORMAL = 1e-40  # below float32's smallest normal number, 1.18e-38


@pytest.fixture(autouse=True)
def ieee():
    torch.set_flush_denormal(False)
    yield
    torch.set_flush_denormal(False)


def test_flushed_sets_the_mode_inside_and_gives_it_back():
    x = torch.tensor([SUBNORMAL])
    assert not flushing() and float(x * 1) > 0
    with flushed() as on:
        assert on and flushing()
        assert float(torch.tensor([SUBNORMAL]) * 1) == 0.0
        with flushed():  # nested: still on, and the outer block's mode survives
            assert flushing()
        assert flushing()
    assert not flushing() and float(x * 1) > 0


def test_keeping_subnormals_turns_a_flushing_thread_back_to_ieee_for_the_block():
    torch.set_flush_denormal(True)
    with flushed(False) as on:
        assert not on and not flushing()
    assert flushing()


class _Modes(seqkit.Callback):
    """Whether subnormals were flushed at each training step."""

    def __init__(self) -> None:
        self.seen: set[bool] = set()

    def on_step_end(self, state) -> None:
        self.seen.add(flushing())


@pytest.mark.parametrize("flush", [True, False])
def test_a_run_trains_in_the_mode_it_was_given_and_restores_the_thread(flush):
    modes = _Modes()
    result = seqkit.run(
        cell="gru",
        task="sum",
        epochs=1,
        device="cpu",
        flush_denormals=flush,
        task_options={"num_samples": 500, "val_samples": 100},
        callbacks=[modes],
        quiet=True,
    )
    assert modes.seen == {flush}
    assert result.config.flush_denormals is flush
    assert not flushing()  # the thread's own mode (IEEE here) is back


def test_the_flag_is_a_recorded_setting(tmp_path):
    args = ["run", "--cell", "rnn", "--task", "sum", "--epochs", "1", "--device", "cpu"]
    args += ["--task-opt", "num_samples=300", "--task-opt", "val_samples=50"]
    kept = CliRunner().invoke(cli, [*args, "--keep-denormals", "--out", str(tmp_path / "k")])
    assert kept.exit_code == 0, kept.output
    assert json.loads((tmp_path / "k" / "config.json").read_text())["flush_denormals"] is False
    default = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "d")])
    assert default.exit_code == 0, default.output
    assert json.loads((tmp_path / "d" / "config.json").read_text())["flush_denormals"] is True
    bad = seqkit.RunConfig(task="sum", cell="rnn", flush_denormals="yes")  # type: ignore[arg-type]
    with pytest.raises(seqkit.ConfigError, match="--flush-denormals must be true or false"):
        bad.validate()


def test_the_gradient_probe_reads_the_same_curves_either_way():
    """The probe rescales its vectors at every step, so a gradient that vanishes far below
    1e-38 is still measured, flushed or not (the lab's curves do not depend on the mode)."""

    def probe(flush: bool) -> dict:
        result = seqkit.run(
            cell="rnn",
            task="adding",
            task_options={"seq_len": 200, "num_samples": 100, "val_samples": 50},
            hidden_size=32,
            batch_size=50,
            epochs=1,
            probe_every=1,
            threads=1,
            device="cpu",
            flush_denormals=flush,
            quiet=True,
        )
        assert result.diagnostics is not None
        return result.diagnostics["records"]

    flushed_records, kept_records = probe(True), probe(False)
    # the gradient vanished below float32's normal range (1.18e-38) within the sequence
    assert min(flushed_records[0]["log10_grad"]["h"]) < -38
    assert flushed_records == kept_records
