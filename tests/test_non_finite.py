"""A non-finite loss keeps the run (issue 33 item 8): its summary, the weights of its last
finite epoch and exit status 3, even when the task's own code fails on the metrics such
a run has (the failure is reported in the summary, the run is not lost)."""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar

import pytest
import torch
from safetensors.torch import load_file

import seqkit
from seqkit._cli import scaffold
from seqkit._core import files


class Poison(seqkit.Callback):
    """Makes a weight NaN as epoch `epoch` starts: its loss is NaN."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_start(self, state) -> None:
        if state.epoch == self.epoch:
            with torch.no_grad():
                next(state.model.parameters()).fill_(math.nan)


class OldMean(seqkit.Task):
    """The task `seqkit new plugin` used to write: its solved() reads val_loss unguarded."""

    name = "old-mean"
    kind = "regression"
    default_topology = "many-to-one"
    solved_rule = "val MSE < 1% of chance"
    defaults: ClassVar[dict[str, Any]] = {"hidden_size": 8, "epochs": 3, "lr": 1e-2}

    @property
    def io(self) -> seqkit.IOSpec:
        return seqkit.IOSpec(input_size=1, output_size=1, input_len=8, output_len=1)

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
        return torch.rand((n, 8, 1), generator=generator, device=device) * 2 - 1

    def targets(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1, keepdim=True)

    def solved(self, metrics: dict[str, float]) -> bool | None:
        return metrics["val_loss"] < 0.01 * (1 / 3) / 8


@pytest.fixture
def registry():
    class Plugin:
        @seqkit.hookimpl
        def register_tasks(self, register):
            register("old-mean", OldMean, options={"num_samples": seqkit.Option(400, "")})

    registry = seqkit.load_registry(strict=True)  # its own: the session's stays as it is
    registry.add_plugin(Plugin(), "old-mean-task")
    return registry


def test_a_run_diverging_in_its_first_epoch_keeps_its_summary_and_model(registry, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(seqkit.NonFiniteError, match=f"what ran is kept in {out}"):
        seqkit.run(
            cell="gru",
            task="old-mean",
            out=out,
            quiet=True,
            callbacks=[Poison(1)],
            registry=registry,
        )
    assert seqkit.load_run(out, registry).model is not None  # it loads: config and weights
    kept = json.loads((out / files.SUMMARY).read_text())
    assert kept["solved"] is None and kept["epochs_run"] == 0
    assert kept["stopped"].startswith("the training loss became nan in epoch 1")
    assert kept["failures"] == ["the task's solved() failed: KeyError: 'val_loss'"]
    weights = load_file(out / files.MODEL)
    assert all(torch.isfinite(w).all() for w in weights.values())  # the initial weights


def test_the_model_kept_is_the_last_finite_epochs(registry, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(seqkit.NonFiniteError):
        seqkit.run(
            cell="gru",
            task="old-mean",
            out=out,
            quiet=True,
            callbacks=[Poison(2)],
            registry=registry,
        )
    checkpoint = torch.load(out / files.CHECKPOINT, weights_only=True)
    assert checkpoint["epoch"] == 1
    kept = load_file(out / files.MODEL)
    assert kept.keys() == checkpoint["model"].keys()
    assert all(torch.equal(kept[k], checkpoint["model"][k]) for k in kept)  # epoch 1's end


def test_the_scaffolds_task_says_not_known_for_a_run_without_val_loss():
    namespace: dict[str, Any] = {}
    exec(scaffold.TASK.format(name="mine"), namespace)  # the file `seqkit new plugin` writes
    task = namespace["Mean"](seq_len=8, num_samples=10)
    assert task.solved({}) is None
    assert task.solved({"val_loss": 1e-9}) is True and task.solved({"val_loss": 1.0}) is False
