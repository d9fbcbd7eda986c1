"""Every task's generator: shapes, determinism by seed, correct labels, options."""

from __future__ import annotations

import math

import pytest
import torch

import seqkit
from seqkit._core.errors import ConfigError

CPU = torch.device("cpu")
TASKS = ["toy", "square", "multiples", "sum", "cumsum", "meansign"]


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", TASKS)
def test_shapes_follow_the_convention(name):
    task = seqkit.get_task(name)
    io = task.io
    x, y = task.generate(16, gen(0), CPU)
    assert x.shape == (16, io.input_len, io.input_size) and x.dtype == torch.float32
    if task.kind == "classification":
        assert y.shape == (16, io.output_len) and y.dtype == torch.int64
    else:
        assert y.shape == (16, io.output_len, io.output_size) and y.is_floating_point()
    probes = task.probes()
    assert probes.shape[1:] == (io.input_len, io.input_size)


@pytest.mark.parametrize("name", TASKS)
def test_deterministic_by_seed(name):
    task = seqkit.get_task(name)
    a, b, c = (task.generate(32, gen(s), CPU) for s in (5, 5, 6))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_labels_follow_each_rule():
    x, y = seqkit.get_task("square").generate(200, gen(0), CPU)
    assert set(x.unique().tolist()) == {1.0, 2.0, 3.0, 4.0} and torch.equal(y, x**2)
    x, y = seqkit.get_task("multiples").generate(50, gen(0), CPU)
    assert torch.equal(y[:, :, 0], x[:, 0] * torch.arange(1, 11.0))
    x, y = seqkit.get_task("sum").generate(50, gen(0), CPU)
    assert x.min() >= 1 and x.max() <= 14 and torch.equal(y[:, 0, 0], x.sum((1, 2)))
    x, y = seqkit.get_task("cumsum").generate(50, gen(0), CPU)
    assert x.min() >= 0 and x.max() <= 30
    assert torch.equal(y[:, -1, 0], x.sum((1, 2))) and torch.equal(y[:, 0], x[:, 0])
    x, y = seqkit.get_task("toy").generate(200, gen(0), CPU)
    ascending = (x.flatten(1).diff(dim=1) == 1).all(1)
    descending = (x.flatten(1).diff(dim=1) == -1).all(1)
    assert (ascending | descending).all() and torch.equal(y[:, 0], ascending.long())
    assert 50 < int(ascending.sum()) < 150
    x, y = seqkit.get_task("meansign", seq_len=30).generate(200, gen(0), CPU)
    assert torch.equal(y.flatten(), (x.mean((1, 2)) > 0).float())


def test_notebook_probes():
    assert seqkit.get_task("square").probes().flatten().tolist() == [2.0]
    assert seqkit.get_task("sum").probes().flatten().tolist() == [2, 4, 6, 8, 10, 11]
    assert seqkit.get_task("cumsum").probes().flatten().tolist() == [10, 11, 12, 13, 14]
    toy = seqkit.get_task("toy")
    assert toy.targets(toy.probes()).flatten().tolist() == [1, 0]


def test_options_change_the_data():
    task = seqkit.get_task("sum", seq_len=10, low=0, high=1)
    x, _ = task.generate(20, gen(0), CPU)
    assert x.shape == (20, 10, 1) and set(x.unique().tolist()) <= {0.0, 1.0}
    assert task.io.input_len == 10
    assert seqkit.get_task("multiples", count=4).io.output_len == 4


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("sum", {"seq_len": 0}, "seq_len' must be >= 1"),
        ("sum", {"seq_len": "x"}, "must be an integer"),
        ("sum", {"low": 5, "high": 1}, "high .1. must be >= low .5."),
        ("sum", {"length": 3}, "has no option 'length'"),
    ],
)
def test_bad_task_options(name, options, message):
    with pytest.raises(ConfigError, match=message):
        seqkit.get_task(name, **options)


def test_chance_baselines_by_kind():
    task = seqkit.get_task("sum")
    _, y = task.generate(20000, gen(0), CPU)
    # Variance of a sum of 6 uniform integers in 1..14: 6 * (14^2 - 1) / 12 = 97.5,
    # the plateau the notebook's unscaled run sits on.
    assert task.chance_loss(y) == pytest.approx(97.5, rel=0.03)
    toy = seqkit.get_task("toy")
    _, y = toy.generate(20000, gen(0), CPU)
    assert toy.chance_loss(y) == pytest.approx(math.log(2), rel=0.01)
    ms = seqkit.get_task("meansign")
    _, y = ms.generate(20000, gen(0), CPU)
    assert ms.chance_loss(y) == pytest.approx(math.log(2), rel=0.01)


def test_format_example_reads_like_the_notebook():
    task = seqkit.get_task("square")
    line = task.format_example(torch.tensor([[2.0]]), torch.tensor([[3.98]]), torch.tensor([[4.0]]))
    assert line == "Input: 2 -> Output: 3.98 (answer 4)"
