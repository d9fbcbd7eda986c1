"""--precision (autocast, fp16 grad scaler) and --compile, on CPU."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import seqkit
from seqkit._core import files
from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError
from seqkit._run.plan import check_precision


def test_bf16_autocast_learns_cumsum():
    r = seqkit.run(cell="gru", task="cumsum", seed=0, device="cpu", precision="bf16", epochs=5)
    assert r.metrics["val_loss"] < 0.01 * r.chance_loss
    out, ans = r.examples[0]["output"], r.examples[0]["answer"]
    assert max(abs(o - a) for o, a in zip(out, ans, strict=True)) < 1.5
    assert all(p.dtype == torch.float32 for p in r.model.parameters())  # master weights


def test_fp16_trains_through_the_grad_scaler_and_checkpoints_it(tmp_path):
    r = seqkit.run(
        cell="rnn", task="sum", seed=0, device="cpu", precision="fp16", out=tmp_path / "run"
    )
    assert r.metrics["val_loss"] < 0.01 * r.chance_loss
    ckpt = files.load_tensors(tmp_path / "run" / files.CHECKPOINT)
    assert ckpt["scaler"]["scale"] > 0


def test_bf16_with_the_default_impl_on_long_sequences():
    # impl=auto's sequence kernels are float32/64 only: under autocast torch's module runs.
    r = seqkit.run(
        cell="rnn", task="meansign", device="cpu", precision="bf16", hidden_size=16,
        epochs=3, task_options={"seq_len": 20, "num_samples": 2000},
    )  # fmt: skip
    assert r.metrics["val_accuracy"] > 0.8


def test_fp32_differs_from_bf16_so_autocast_really_acts():
    kw = dict(cell="gru", task="square", seed=0, device="cpu", epochs=1)
    a, b = seqkit.run(**kw), seqkit.run(**kw, precision="bf16")
    assert a.metrics["val_loss"] != b.metrics["val_loss"]


class _NoLowPrecision(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_autocast_enabled("cpu"):
            raise RuntimeError("could not create a primitive. Run workload with ...")
        return x


def test_a_kernel_without_a_low_precision_path_is_a_clear_error_before_the_run():
    the_plan = seqkit.plan(RunConfig(task="sum", cell="lstm", device="cpu"))
    the_plan.config.precision = "bf16"
    # The cell's plugin adds its own advice to seqkit's message (`hints=` at register).
    with pytest.raises(
        ConfigError, match=r"--precision bf16 does not work for cell 'lstm'.*fp32 \(on the CPU"
    ):
        check_precision(_NoLowPrecision(), the_plan)


def test_unknown_precision_names_the_choices():
    with pytest.raises(ConfigError, match="fp32, bf16, fp16"):
        seqkit.run(cell="gru", task="sum", precision="fp8")


def test_compiled_training_matches_eager():
    kw = dict(cell="gru", task="square", seed=0, device="cpu", epochs=1)
    eager, compiled = seqkit.run(**kw), seqkit.run(**kw, compile=True)
    assert compiled.metrics["val_loss"] == pytest.approx(eager.metrics["val_loss"], rel=1e-4)
    # The saved model is the plain module: no torch.compile prefix in its state dict.
    assert list(compiled.model.state_dict()) == list(eager.model.state_dict())
