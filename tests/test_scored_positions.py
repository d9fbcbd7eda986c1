"""Targets that are not scored (issue 30): `seqkit.IGNORE` for classification, NaN for
regression and binary. A task that asks at a few positions only (recall with queries)
is written as a plugin author would, and its loss, metrics, chance level, contract check
and truncated BPTT read only the positions it asks about."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import pytest
import torch
from torch import Tensor

import seqkit
from seqkit import IGNORE, IOSpec, Option, Registry, Task, hookimpl
from seqkit._plugins import objectives
from seqkit._train.evaluate import evaluate

STEPS, SYMBOLS = 24, 4


class QueriedRecall(Task):
    """A symbol at step 0, noise, and two query steps (a marker channel) that ask for it;
    the other steps are not scored."""

    name = "queried-recall"
    kind = "classification"
    default_topology = "many-to-many"
    partial_targets = True
    categorical_inputs = "all"
    defaults: ClassVar[dict[str, Any]] = {"epochs": 20, "lr": 1e-2, "batch_size": 32}
    options: ClassVar[dict[str, Option]] = seqkit.sample_options(1000, 200)

    @property
    def io(self) -> IOSpec:
        return IOSpec(SYMBOLS + 1, SYMBOLS, STEPS, STEPS)

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        symbols = torch.randint(SYMBOLS, (n, STEPS), generator=generator, device=device)
        x = torch.nn.functional.one_hot(symbols, SYMBOLS + 1).float()
        x[:, [9, 21], :] = 0.0
        x[:, [9, 21], SYMBOLS] = 1.0  # the queries
        return x

    def targets(self, x: Tensor) -> Tensor:
        y = torch.full(x.shape[:2], IGNORE, dtype=torch.long, device=x.device)
        first = x[:, 0, :SYMBOLS].argmax(-1)
        y[:, 9], y[:, 21] = first, first
        return y


class Plugin:
    @hookimpl
    def register_tasks(self, register):
        register("queried-recall", QueriedRecall, options=QueriedRecall.options)


@pytest.fixture(scope="module")
def registry() -> Registry:
    registry = seqkit.load_registry(strict=True)
    registry.add_plugin(Plugin(), "queried")
    return registry


def test_losses_and_metrics_read_only_scored_targets():
    g = torch.Generator().manual_seed(0)
    out = torch.randn(5, 6, 3, generator=g, requires_grad=True)
    y = torch.randint(3, (5, 6), generator=g)
    y[:, ::2] = IGNORE
    kept = y[:, 1::2]
    want = torch.nn.functional.cross_entropy(out[:, 1::2].reshape(-1, 3), kept.reshape(-1))
    assert objectives.loss("classification", out, y).item() == pytest.approx(want.item())
    accuracy = (out[:, 1::2].argmax(-1) == kept).float().mean()
    got = objectives.metrics("classification", out, y)["accuracy"].item()
    assert got == pytest.approx(accuracy.item())

    r = torch.randn(5, 6, 2, generator=g)
    r[:, ::2] = math.nan
    loss = objectives.loss("regression", out[..., :2], r)
    assert loss.item() == pytest.approx(((out[:, 1::2, :2] - r[:, 1::2]) ** 2).mean().item())
    loss.backward()
    assert torch.isfinite(out.grad).all() and (out.grad[:, ::2] == 0).all()  # no NaN leaks
    mae = objectives.metrics("regression", out[..., :2], r)["mae"].item()
    assert mae == pytest.approx((out[:, 1::2, :2] - r[:, 1::2]).abs().mean().item())
    b = (r > 0).float().where(~r.isnan(), math.nan)[..., :1]
    want = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 1::2, :1], b[:, 1::2])
    assert objectives.loss("binary", out[..., :1], b).item() == pytest.approx(want.item())


def test_the_chance_level_counts_the_asked_positions_only():
    y = torch.full((1000, 8), IGNORE)
    y[:, 3] = torch.arange(1000) % 4  # uniform over 4 classes at the one scored step
    assert objectives.chance_loss("classification", y) == pytest.approx(math.log(4))
    r = torch.full((1000, 8, 1), math.nan)
    r[:, 5, 0] = torch.arange(1000.0) % 2  # variance 0.25
    assert objectives.chance_loss("regression", r) == pytest.approx(0.25)


def test_a_queried_task_passes_its_contract(registry):
    from seqkit import testing

    findings = {c.name: c.run() for c in testing.task_checks("queried-recall", registry=registry)}
    assert all(f.passed for f in findings.values()), [f for f in findings.values() if not f.passed]


def test_undeclared_unscored_targets_fail_the_contract(registry):
    from seqkit import testing

    class Undeclared(QueriedRecall):
        partial_targets = False

    class Bad:
        @hookimpl
        def register_tasks(self, register):
            register("undeclared", Undeclared, options=Undeclared.options)

    registry.add_plugin(Bad(), "undeclared")
    found = [c.run() for c in testing.task_checks("undeclared", registry=registry)]
    failed = [f for f in found if not f.passed]
    assert [f.check for f in failed] == ["generates_what_its_io_declares"]
    assert "partial_targets = True" in failed[0].detail


def test_a_queried_task_learns_with_and_without_truncated_bptt(registry):
    full = seqkit.run(cell="gru", task="queried-recall", seed=0, quiet=True, registry=registry)
    assert full.chance_loss == pytest.approx(math.log(SYMBOLS), rel=0.05)
    assert full.metrics["val_loss"] < 0.3 * full.chance_loss  # it recalls the symbol
    # chunks of 5 steps: steps 0-4 and 10-19 score nothing and are not stepped on
    chunked = seqkit.run(
        cell="gru", task="queried-recall", seed=0, quiet=True, registry=registry, tbptt=5
    )
    assert all(math.isfinite(e["train_loss"]) for e in chunked.history.epochs)
    assert math.isfinite(chunked.metrics["val_loss"])


def test_evaluation_weights_chunks_by_what_they_score(registry):
    task = seqkit.get_task("queried-recall", registry=registry)
    x, y = task.generate(64, torch.Generator().manual_seed(1), torch.device("cpu"))
    y[:32, 9] = IGNORE  # the first half scores one step, the second half two
    model = seqkit.build_model("gru", "many-to-many", SYMBOLS + 1, 8, SYMBOLS)
    whole = evaluate(model, task, x, y)
    pieces = evaluate(model, task, x, y, chunk=32)
    assert pieces["loss"] == pytest.approx(whole["loss"], rel=1e-5)
    assert pieces["accuracy"] == pytest.approx(whole["accuracy"], rel=1e-5)
