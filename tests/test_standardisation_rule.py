"""Standardisation leaves a task's categorical input channels (one-hot symbols, markers,
bits) as they are: the default no longer rescales a rare symbol to about sqrt(L)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
import torch

import seqkit
from seqkit._model.normalize import Standardized


class Echo(torch.nn.Module):
    def forward(self, x):
        return x


def test_only_continuous_channels_are_standardised():
    g = torch.Generator().manual_seed(0)
    x = torch.stack(
        [5 + 3 * torch.randn(200, 7, generator=g), (torch.rand(200, 7) < 0.1).float()], -1
    )
    seen = Standardized(Echo(), x, None, categorical=(1,))(x)
    assert torch.equal(seen[..., 1], x[..., 1])  # the marker, untouched
    assert abs(float(seen[..., 0].mean())) < 1e-5 and abs(float(seen[..., 0].std()) - 1) < 0.01
    every = Standardized(Echo(), x, None, categorical="all")(x)
    assert torch.equal(every, x)
    none = Standardized(Echo(), x, None)(x)
    assert float(none[..., 1].max()) > 2.5  # what the old rule did to a 10%-frequent marker


def _run(task, normalize, **options):
    return seqkit.run(
        task=task,
        cell="gru",
        epochs=2,
        normalize=normalize,
        hidden_size=16,
        task_options={"num_samples": 200, "val_samples": 100, **options},
        quiet=True,
    )


@pytest.mark.parametrize("task", ["recall", "copy", "parity", "order"])
def test_standardising_a_task_of_symbols_changes_nothing(task):
    """The long-range tasks' inputs other than adding's are all one-hot symbols, bits and
    markers: even `--normalize` trains as on raw inputs, bit for bit."""
    standardised, raw = _run(task, True, seq_len=10), _run(task, False, seq_len=10)
    assert isinstance(standardised.model, Standardized)
    assert torch.equal(
        standardised.model.x_std, torch.ones_like(standardised.model.x_std)
    ) and not torch.any(standardised.model.x_mean)
    assert standardised.metrics == raw.metrics


@pytest.mark.parametrize("task", ["adding", "recall", "copy", "parity", "order"])
def test_the_long_range_tasks_train_on_raw_inputs_by_default(task):
    """Their sources' recipe: no standardisation of inputs or targets unless asked for
    (docs/reference.md#standardisation)."""
    default, raw = _run(task, None, seq_len=10), _run(task, False, seq_len=10)
    assert not isinstance(default.model, Standardized)
    assert default.config.normalize is False  # resolved, as config.json records it
    assert default.metrics == raw.metrics


def test_asked_for_the_adding_tasks_value_channel_is_standardised_and_its_marker_not():
    model = _run("adding", True, seq_len=10).model
    assert isinstance(model, Standardized)
    assert float(model.x_mean[0, 0, 0]) > 0.4 and float(model.x_std[0, 0, 0]) < 0.4  # U[0, 1]
    assert float(model.x_mean[0, 0, 1]) == 0.0 and float(model.x_std[0, 0, 1]) == 1.0  # marker
    assert float(model.y_mean) > 0.9  # the sum of two U[0, 1] values: mean 1


def test_the_notebook_tasks_keep_their_standardisation():
    result = _run("sum", None)
    assert result.config.normalize is True
    assert float(result.model.x_std.min()) > 1.0 and float(result.model.y_std) > 1.0


class Scaled(seqkit.Task):
    """A third party's regression task on unit-scale values that trains raw by default."""

    name = "scaled"
    default_topology = "many-to-one"
    defaults: ClassVar[dict[str, Any]] = {"hidden_size": 8, "epochs": 1, "normalize": False}

    @property
    def io(self):
        return seqkit.IOSpec(input_size=1, output_size=1, input_len=5, output_len=1)

    def inputs(self, n, generator, device):
        return torch.rand(n, 5, 1, generator=generator, device=device)

    def targets(self, x):
        return x.sum(dim=1, keepdim=True)


class ScaledPlugin:
    @seqkit.hookimpl
    def register_tasks(self, register):
        register("scaled", Scaled)


@pytest.mark.parametrize("given, standardised", [(None, False), (True, True), (False, False)])
def test_a_task_chooses_the_default_and_the_user_overrides_it(given, standardised, tmp_path):
    registry = seqkit.load_registry(plugins=[ScaledPlugin()])
    out = tmp_path / "r"
    result = seqkit.run(
        task="scaled", cell="rnn", normalize=given, registry=registry, out=out, quiet=True
    )
    assert isinstance(result.model, Standardized) is standardised
    recorded = json.loads((tmp_path / "r" / "config.json").read_text())
    assert recorded["normalize"] is standardised


class Counting(torch.nn.Module):
    """Records each input it is given (to see whether standardisation was recomputed)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        self.seen.append(x)
        return x.sum(-1, keepdim=True)


def test_the_same_input_is_standardised_once_and_a_changed_one_again():
    import copy

    x = 3 + 2 * torch.randn(8, 50, 2, generator=torch.Generator().manual_seed(1))
    model = Standardized(Counting(), x, None)
    model(x[:])  # a fresh view of the same data, as full-batch training passes it
    model(x[:])
    first, again = model.inner.seen
    assert again is first  # not recomputed
    assert torch.equal(first, (x - model.x_mean) / model.x_std)

    x[0, 0, 0] += 1.0  # an in-place write to the data: recomputed, and correct
    model(x)
    assert model.inner.seen[-1] is not first
    assert torch.equal(model.inner.seen[-1], (x - model.x_mean) / model.x_std)

    state = model.state_dict()
    state["x_mean"] = state["x_mean"] + 1.0  # new statistics: recomputed with them
    model.load_state_dict(state)
    model(x)
    assert torch.equal(model.inner.seen[-1], (x - model.x_mean) / model.x_std)

    needing_grad = x.clone().requires_grad_()
    model(needing_grad).sum().backward()  # not memoised: the gradient reaches the input
    assert needing_grad.grad is not None and needing_grad.grad.abs().sum() > 0
    model.inner.seen.clear()
    assert model._memo and copy.deepcopy(model)._memo == []  # copies leave the data behind


@pytest.mark.parametrize("flag, recorded", [([], False), (["--normalize"], True)])
def test_the_command_line_leaves_the_choice_to_the_task_unless_told(flag, recorded, tmp_path):
    from click.testing import CliRunner

    from seqkit._cli.main import cli

    args = ["run", "--cell", "rnn", "--task", "adding", "--epochs", "1", "--hidden-size", "4"]
    args += ["--task-opt", "seq_len=5", "--task-opt", "num_samples=20", "--task-opt"]
    args += ["val_samples=10", "--out", str(tmp_path / "r"), *flag]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r" / "config.json").read_text())["normalize"] is recorded
