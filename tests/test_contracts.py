"""A wrong plugin gets a seqkit message naming the plugin and the broken promise, exit 2,
nothing written; the full checks (`seqkit check`, `seqkit.testing`) pass on every built-in
and catch each broken promise."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from click.testing import CliRunner
from torch import Tensor, nn

import seqkit
import seqkit.testing
from seqkit._cli.main import cli
from seqkit._plugins import registry as registry_module


# -- a small, correct cell and task, and broken variants of each ---------------------------
class GoodCell(nn.Module):
    """An Elman RNN behind the Cell contract (forward through nn.RNN, step likewise)."""

    num_directions = 1

    def __init__(self, input_size: int, hidden_size: int, scale: float = 1.0) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, hidden_size
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        return self.rnn(x, state)

    def step(self, x_t: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        _, state = self.rnn(x_t.unsqueeze(1), state)
        return state[-1], state


class WideOutputs(GoodCell):
    def forward(self, x, state=None):
        out, state = self.rnn(x, state)
        return torch.cat([out, out[..., :1]], dim=-1), state


class NoTimeAxis(GoodCell):
    def forward(self, x, state=None):
        out, state = self.rnn(x, state)
        return out[:, -1], state


class BareTensor(GoodCell):
    def forward(self, x, state=None):
        return self.rnn(x, state)[0]


class OtherRecurrence(GoodCell):
    def step(self, x_t, state=None):
        h, state = super().step(x_t, state)
        return 0.5 * h, state


class WrongStepShape(GoodCell):
    def step(self, x_t, state=None):
        h, state = super().step(x_t, state)
        return h[:, :-1], state


class DetachedStep(GoodCell):
    def step(self, x_t, state=None):
        h, state = super().step(x_t, state)
        return h.detach(), state


def refuses_its_option(input_size: int, hidden_size: int) -> nn.Module:
    """Declares `scale` below but takes no such argument."""
    return GoodCell(input_size, hidden_size)


class GoodTask(seqkit.Task):
    """The sum of 4 numbers (regression, many-to-one)."""

    name = "good"
    default_topology = "many-to-one"
    defaults: ClassVar[dict[str, Any]] = {"epochs": 2, "hidden_size": 8}
    options: ClassVar[dict[str, seqkit.Option]] = seqkit.sample_options(64, 32)

    @property
    def io(self) -> seqkit.IOSpec:
        return seqkit.IOSpec(1, 1, 4, 1)

    def inputs(self, n, generator, device):
        return torch.rand(n, 4, 1, generator=generator, device=device)

    def targets(self, x):
        return x.sum(dim=1, keepdim=True)


class NoFeatureAxis(GoodTask):
    def inputs(self, n, generator, device):
        return super().inputs(n, generator, device)[..., 0]

    def targets(self, x):
        return x.sum(dim=1).view(-1, 1, 1)


class WrongInputSize(GoodTask):
    @property
    def io(self):
        return seqkit.IOSpec(3, 1, 4, 1)


class BinaryTask(GoodTask):
    kind = "binary"

    def targets(self, x):
        return (x.sum(dim=1, keepdim=True) > 2).float()


class BinaryFlat(BinaryTask):
    def targets(self, x):
        return super().targets(x).view(-1, 1)


class BinaryIndices(BinaryTask):
    def targets(self, x):
        return super().targets(x).long()


class BinaryPlusMinus(BinaryTask):
    def targets(self, x):
        return 2 * super().targets(x) - 1


class FewerTargets(GoodTask):
    def generate(self, n, generator, device):
        x, y = super().generate(n, generator, device)
        return x, y[:-1]


class WrongChance(GoodTask):
    def chance_loss(self, y):
        return 10 * super().chance_loss(y)


class NarrowLoss(GoodTask):
    ranges: ClassVar[dict[str, tuple[float, float]]] = {"loss": (0, 1)}  # MSE can exceed 1


class UnknownRange(GoodTask):
    ranges: ClassVar[dict[str, tuple[float, float]]] = {"recalled": (0, 1)}


class ReversedRange(GoodTask):
    ranges: ClassVar[dict[str, tuple[float, float]]] = {"mae": (1, 0)}


class MisspeltDefault(GoodTask):
    defaults: ClassVar[dict[str, Any]] = {"normalise": False}


class WordyDefault(GoodTask):
    defaults: ClassVar[dict[str, Any]] = {"normalize": "no"}


class GaussianNLL(GoodTask):
    """Its own loss, which is negative where the variance is small: not cut at 0."""

    def loss(self, out, y):
        return torch.nn.functional.gaussian_nll_loss(out, y, torch.full_like(y, 1e-3))


class WithPrecision(BinaryTask):
    """A metric that is 0/0 (NaN) when nothing is predicted positive, as on blind outputs."""

    ranges: ClassVar[dict[str, tuple[float, float]]] = {"precision": (0, 1)}

    def metrics(self, out, y):
        predicted = out > 0
        hits = (predicted & (y == 1)).sum()
        return {**super().metrics(out, y), "precision": hits / predicted.sum()}


class Plugin:
    """One in-process plugin registering the good parts and every broken variant."""

    name = "wrongs"

    @seqkit.hookimpl
    def register_cells(self, register):
        register("good", GoodCell)
        for cls in (WideOutputs, NoTimeAxis, BareTensor, OtherRecurrence, WrongStepShape):
            register(cls.__name__.lower(), cls)
        register("detached", DetachedStep)
        register("refuses", refuses_its_option, options={"scale": seqkit.Option(1.0, "a scale")})

    @seqkit.hookimpl
    def register_tasks(self, register):
        register("good", GoodTask)
        for cls in (
            NoFeatureAxis,
            WrongInputSize,
            BinaryFlat,
            BinaryIndices,
            BinaryPlusMinus,
            FewerTargets,
            WrongChance,
            NarrowLoss,
            UnknownRange,
            ReversedRange,
            MisspeltDefault,
            WordyDefault,
            GaussianNLL,
            WithPrecision,
        ):
            register(cls.__name__.lower(), cls)


@pytest.fixture
def wrongs(monkeypatch) -> seqkit.Registry:
    registry = seqkit.load_registry(plugins=[Plugin()], strict=True)
    monkeypatch.setattr(registry_module, "_default", registry)
    return registry


CASES = [
    (
        "wideoutputs",
        "good",
        "cell 'wideoutputs'",
        "forward_shapes",
        "expected (B, T, output_size) = (3, 5, 8)",
    ),
    ("notimeaxis", "good", "cell 'notimeaxis'", "forward_shapes", "returned outputs (3, 8)"),
    (
        "baretensor",
        "good",
        "cell 'baretensor'",
        "forward_shapes",
        "must return (tensor, state), got a Tensor",
    ),
    (
        "refuses",
        "good",
        "cell 'refuses'",
        "accepts_declared_options",
        "unexpected keyword argument 'scale'",
    ),
    (
        "good",
        "nofeatureaxis",
        "task 'nofeatureaxis'",
        "generates_what_its_io_declares",
        "inputs must be float (B, T_in, D)",
    ),
    (
        "good",
        "wronginputsize",
        "task 'wronginputsize'",
        "generates_what_its_io_declares",
        "= (8, 4, 3), got torch.float32 (8, 4, 1)",
    ),
    (
        "good",
        "binaryflat",
        "task 'binaryflat'",
        "generates_what_its_io_declares",
        "targets must be float binary targets (B, T_out, K)",
    ),
    (
        "good",
        "binaryindices",
        "task 'binaryindices'",
        "generates_what_its_io_declares",
        "got torch.int64",
    ),
    (
        "good",
        "fewertargets",
        "task 'fewertargets'",
        "generates_what_its_io_declares",
        "returned 8 inputs but 7 targets",
    ),
    (
        "good",
        "binaryplusminus",
        "task 'binaryplusminus'",
        "generates_what_its_io_declares",
        "binary targets must be 0 or 1, got values [-1.0, 1.0]",
    ),
    (
        "good",
        "narrowloss",
        "task 'narrowloss'",
        "values_lie_in_their_ranges",
        "outside the range [0.0, 1.0] it is said to lie in: declare its range in ranges",
    ),
    (
        "good",
        "unknownrange",
        "task 'unknownrange'",
        "values_lie_in_their_ranges",
        "ranges names 'recalled', which is not the loss or a metric (loss, mae)",
    ),
    (
        "good",
        "reversedrange",
        "task 'reversedrange'",
        "values_lie_in_their_ranges",
        "ranges['mae'] must be (low, high) numbers with low <= high, math.inf for an open end",
    ),
    (
        "good",
        "misspeltdefault",
        "task 'misspeltdefault'",
        "defaults_are_run_settings",
        "defaults names 'normalise', which a task cannot choose (it can choose hidden_size",
    ),
    (
        "good",
        "wordydefault",
        "task 'wordydefault'",
        "defaults_are_run_settings",
        "its defaults are not a run's settings: --normalize must be true or false (got 'no')",
    ),
    (
        "otherrecurrence",
        "good",
        "cell 'otherrecurrence'",
        "step_matches_forward",
        "they differ by up to",
    ),
    (
        "wrongstepshape",
        "good",
        "cell 'wrongstepshape'",
        "step_shapes",
        "returned h_t (3, 7), expected (B, output_size) = (3, 8)",
    ),
    (
        "detached",
        "good",
        "cell 'detached'",
        "h_t_comes_from_the_state",
        "detached from the previous state",
    ),
]


@pytest.mark.parametrize(("cell", "task", "who", "check", "seen"), CASES, ids=[c[2] for c in CASES])
def test_a_broken_promise_is_one_line_naming_the_plugin_before_anything_is_written(
    wrongs, tmp_path, monkeypatch, cell, task, who, check, seen
):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["run", "--cell", cell, "--task", task, "--out", "r"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert f"{who} from plugin 'wrongs' breaks the" in lines[0]
    assert f": {check}: " in lines[0] and seen in lines[0]
    assert list(tmp_path.iterdir()) == []  # no run directory, no runs/


def test_a_detached_h_t_is_caught_where_it_would_train_wrongly(wrongs, tmp_path):
    # one-to-many with feed=prediction runs the cell through step(): the plain run
    # would train with wrong gradients and no warning.
    with pytest.raises(seqkit.ContractError, match="h_t_comes_from_the_state"):
        seqkit.plan(
            seqkit.RunConfig(
                task="good",
                cell="detached",
                topology="seq2seq",
                topology_options={"feed": "prediction"},
            ),
            wrongs,
        )


def test_the_good_parts_train(wrongs):
    result = seqkit.run(
        cell="good",
        task="good",
        epochs=10,
        lr=1e-2,
        task_options={"num_samples": 2000},
        device="cpu",
        registry=wrongs,
    )
    assert result.metrics["val_loss"] < 0.2 * result.chance_loss


def test_a_task_says_where_its_loss_and_metrics_lie(wrongs):
    good, nll = GoodTask(), GaussianNLL()
    assert good.value_range("loss") == (0.0, math.inf)  # the built-in MSE
    assert good.value_range("mae") == (0.0, math.inf)
    assert good.value_range("anything") == (-math.inf, math.inf)
    assert nll.value_range("loss") == (-math.inf, math.inf)  # its own loss: not assumed
    assert nll.loss(torch.zeros(4, 1, 1), torch.zeros(4, 1, 1)) < 0
    (ranges,) = [
        c
        for c in seqkit.testing.task_checks("gaussiannll", registry=wrongs)
        if c.name == "values_lie_in_their_ranges"
    ]
    assert ranges().passed  # its negative loss is allowed: its range was not assumed
    (ranges,) = [
        c
        for c in seqkit.testing.task_checks("withprecision", registry=wrongs)
        if c.name == "values_lie_in_their_ranges"
    ]
    assert ranges().passed  # NaN on blind outputs (0/0) is not outside [0, 1]
    copy = seqkit.get_registry().resolve("task", "copy", {}).entry.factory
    assert copy(**dict.fromkeys(copy.options)).value_range("recalled") == (0.0, 1.0)


# -- the full checks ---------------------------------------------------------------------------
def test_every_built_in_passes_seqkit_check_all(registry):
    result = CliRunner().invoke(cli, ["check", "--all", "--json"])
    assert result.exit_code == 0, result.output
    findings = [json.loads(line) for line in result.output.splitlines()]
    checked = {(f["kind"], f["name"]) for f in findings}
    every = {(k, e.name) for k in registry_module.KINDS for e in registry.entries(k)}
    assert checked == every
    assert all(f["passed"] is not False for f in findings)
    assert sum(f["passed"] is True for f in findings) > 100


def test_seqkit_check_fails_with_a_line_per_broken_check(wrongs):
    result = CliRunner().invoke(cli, ["check", "otherrecurrence", "wrongchance"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(
        line.startswith("FAIL  cell otherrecurrence: step_matches_forward: ") for line in lines
    )
    assert any(
        line.startswith("FAIL  task wrongchance: chance_level_is_the_best_blind_loss: ")
        and "tolerance 10%" in line
        for line in lines
    )
    assert any(line.startswith("ok    cell otherrecurrence: forward_shapes") for line in lines)
    assert lines[-1] == "2 checked, 3 check(s) failed"  # step twice, chance once


def test_seqkit_check_a_plugin_and_bad_requests(wrongs):
    runner = CliRunner()
    out = runner.invoke(cli, ["check", "--plugin", "wrongs", "--json"]).output
    names = {json.loads(line)["name"] for line in out.splitlines()}
    assert {"good", "detached", "wrongchance"} <= names and "gru" not in names
    nothing = runner.invoke(cli, ["check"])
    assert nothing.exit_code == 2 and "give NAMES, --plugin NAME or --all" in nothing.output
    both = runner.invoke(cli, ["check", "good"])
    assert both.exit_code == 2 and "'good' names a cell and a task" in both.output


@pytest.mark.parametrize("check", seqkit.testing.cell_checks("gru", num_layers=2), ids=str)
def test_the_pytest_helper_gives_one_case_per_check(check):
    assert check().passed is not False


def test_the_checker_raises_one_contract_error_with_every_failure(wrongs):
    with pytest.raises(seqkit.ContractError) as caught:
        seqkit.testing.check_cell("wrongstepshape", registry=wrongs)
    failed = {f.check for f in caught.value.findings}
    assert {"step_shapes", "step_matches_forward"} <= failed
    assert "forward_shapes" not in failed
    assert "cell 'wrongstepshape' from plugin 'wrongs'" in str(caught.value)
    findings = seqkit.testing.check_cell(GoodCell)  # a factory, not registered
    assert {f.check for f in findings if f.passed} >= {"step_matches_forward", "converts_dtype"}


def test_topology_checks_catch_a_wrong_output_shape():
    class Flat(nn.Module):
        def __init__(self, make_cell, io):
            super().__init__()
            self.cell = make_cell(io.input_size)
            self.head = nn.Linear(self.cell.output_size, io.output_size)

        def forward(self, x):
            return self.head(self.cell(x)[0][:, -1])  # (B, K): no time axis

    class TopologyPlugin:
        @seqkit.hookimpl
        def register_topologies(self, register):
            register("flat", Flat)

    registry = seqkit.load_registry(plugins=[TopologyPlugin()], strict=True)
    with pytest.raises(seqkit.ContractError, match="maps_the_shapes_it_serves: with cell"):
        seqkit.testing.check_topology("flat", registry=registry)
    assert seqkit.testing.check_topology("many-to-one", registry=registry)
    with pytest.raises(seqkit.ContractError, match=r"topology 'flat' .* maps_the_task's_inputs"):
        seqkit.plan(seqkit.RunConfig(task="sum", cell="gru", topology="flat"), registry)


def test_trainer_checks_catch_a_trainer_that_ignores_stop_and_one_that_does_not_learn():
    class Deaf(seqkit.LoopTrainer):
        def agree(self, state):  # forgets every stop request
            state.stop = None

    class Frozen(seqkit.LoopTrainer):
        def fit(self, model, data, task, config, callbacks, resume=None):
            slow = dataclasses.replace(config, lr=1e-9)
            return super().fit(model, data, task, slow, callbacks, resume)

    class TrainerPlugin:
        @seqkit.hookimpl
        def register_trainers(self, register):
            register("deaf", Deaf)
            register("frozen", Frozen)

    registry = seqkit.load_registry(plugins=[TrainerPlugin()], strict=True)
    deaf = {
        f.check: f
        for f in (c.run() for c in seqkit.testing.trainer_checks("deaf", registry=registry))
    }
    assert deaf["honours_the_events"].passed is False and deaf["reduces_the_loss"].passed
    frozen = {
        f.check: f
        for f in (c.run() for c in seqkit.testing.trainer_checks("frozen", registry=registry))
    }
    assert frozen["reduces_the_loss"].passed is False
    assert "not below 20% of chance" in frozen["reduces_the_loss"].detail


class WarmupCosine(seqkit.LoopTrainer):
    """docs/plugins.md's example: linear warm-up over the first `warmup` steps, then the
    cosine decay to 0, set in `setup` as a plugin author would."""

    def __init__(self, warmup: int = 5) -> None:
        super().__init__()
        self.warmup = warmup

    def setup(self, model, data, task, config):
        state, step = super().setup(model, data, task, config)
        total = state.epochs * state.steps_per_epoch

        def factor(s: int) -> float:
            if s < self.warmup:
                return (s + 1) / self.warmup
            return 0.5 * (1 + math.cos(math.pi * (s - self.warmup) / (total - self.warmup)))

        state.schedule = torch.optim.lr_scheduler.LambdaLR(state.optimizer, factor)
        return state, step


def test_a_trainer_sets_its_own_schedule_in_setup_and_that_schedule_runs():
    class Plugin:
        @seqkit.hookimpl
        def register_trainers(self, register):
            register("warmup", WarmupCosine)

    registry = seqkit.load_registry(plugins=[Plugin()], strict=True)
    assert all(f.passed for f in seqkit.testing.check_trainer("warmup", registry=registry))

    class Rates(seqkit.Callback):
        def __init__(self):
            self.lrs = []

        def on_step_start(self, state):  # the rate this step updates with
            self.lrs.append(state.optimizer.param_groups[0]["lr"])

    rates = Rates()
    settings = dict(cell="gru", task="sum", epochs=2, batch_size=100, lr=0.01, quiet=True)
    settings["task_options"] = {"num_samples": 1000}
    seqkit.run(**settings, trainer="warmup", callbacks=[rates], registry=registry)
    # sum: 1,000 training sequences in batches of 100, so 20 steps; the first 5 warm up
    assert rates.lrs[:5] == pytest.approx([0.002, 0.004, 0.006, 0.008, 0.010])
    assert rates.lrs[5:7] == pytest.approx([0.01, 0.01 * 0.5 * (1 + math.cos(math.pi / 15))])
    assert len(rates.lrs) == 20 and rates.lrs[-1] < 2e-4


def test_the_trainer_checks_catch_a_loop_that_steps_another_schedule():
    class Swapped(seqkit.LoopTrainer):
        """Replaces the optimizer in setup but leaves the schedule on the old one."""

        def setup(self, model, data, task, config):
            state, step = super().setup(model, data, task, config)
            state.optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
            return state, step

    class Private(seqkit.LoopTrainer):
        """Steps its schedule itself and holds none in the state (so no checkpoint has it)."""

        def setup(self, model, data, task, config):
            state, step = super().setup(model, data, task, config)
            mine, state.schedule = state.schedule, None
            update = step.update

            def stepping(loss):
                update(loss)
                mine.step()

            step.update = stepping
            return state, step

    class Plugin:
        @seqkit.hookimpl
        def register_trainers(self, register):
            register("swapped", Swapped)
            register("private", Private)

    registry = seqkit.load_registry(plugins=[Plugin()], strict=True)

    def finding(trainer):
        checks = seqkit.testing.trainer_checks(trainer, registry=registry)
        return next(c.run() for c in checks if c.name == "runs_the_schedule_it_holds")

    swapped, private = finding("swapped"), finding("private")
    assert swapped.passed is False and "the loop steps another schedule" in swapped.detail
    assert private.passed is False and "while state.schedule is None" in private.detail


# -- the parameter constraint hook --------------------------------------------------------
class ClippedCell(GoodCell):
    """IndRNN-style: every recurrent weight kept within |u| <= 0.05 after each step."""

    u_max = 0.05

    def constrain(self) -> None:
        self.rnn.weight_hh_l0.clamp_(-self.u_max, self.u_max)


def test_constrained_modules_are_projected_after_every_optimizer_step():
    class CellPlugin:
        @seqkit.hookimpl
        def register_cells(self, register):
            register("clipped", ClippedCell)

    registry = seqkit.load_registry(plugins=[CellPlugin()], strict=True)
    seen = []

    class Watch(seqkit.Callback):
        def on_step_end(self, state):
            cell = next(m for m in state.model.modules() if isinstance(m, ClippedCell))
            seen.append(float(cell.rnn.weight_hh_l0.abs().max()))

    result = seqkit.run(
        cell="clipped", task="sum", epochs=1, lr=0.05, device="cpu",
        task_options={"num_samples": 2000}, callbacks=[Watch()], registry=registry,
    )  # fmt: skip
    assert isinstance(
        next(m for m in result.model.modules() if isinstance(m, ClippedCell)), seqkit.Constrained
    )
    assert len(seen) == 8 and max(seen) <= ClippedCell.u_max * (1 + 1e-6)  # float32
    unclipped = seqkit.run(
        cell="good", task="sum", epochs=1, lr=0.05, device="cpu",
        task_options={"num_samples": 2000}, registry=seqkit.load_registry(plugins=[Plugin()]),
    )  # fmt: skip
    cell = next(m for m in unclipped.model.modules() if isinstance(m, GoodCell))
    assert float(cell.rnn.weight_hh_l0.abs().max()) > ClippedCell.u_max  # it would grow


def test_plan_time_checks_add_no_files(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seqkit.plan(seqkit.RunConfig(task="sum", cell="gru"))
    assert list(tmp_path.iterdir()) == []


# -- the plugin API version ---------------------------------------------------------------
def api_plugin(declared: Any) -> Any:
    class Versioned:
        name = f"api-{declared!r}"
        SEQKIT_API = declared

        @seqkit.hookimpl
        def register_tasks(self, register):
            register(f"t{abs(hash(repr(declared)))}", GoodTask)

    return Versioned()


def test_a_plugin_written_for_another_api_loads_with_one_warning_naming_it():
    with pytest.warns(registry_module.PluginWarning) as caught:
        registry = seqkit.load_registry(plugins=[api_plugin(2)], entry_points=False)
    assert len(caught) == 1
    assert str(caught[0].message) == (
        "plugin 'api-2' was written for seqkit plugin API 2; this seqkit offers API 1 "
        "(it loaded, but may not work: update it or seqkit)"
    )
    info = registry.plugins[0]
    assert (info.status, info.api) == ("ok", 2) and "API 2" in info.warning
    assert registry.names("task")  # it still registered


@pytest.mark.parametrize("declared", [1, (1, 2), range(1, 4)])
def test_a_plugin_that_supports_this_api_loads_quietly(recwarn, declared):
    registry = seqkit.load_registry(plugins=[api_plugin(declared)], entry_points=False)
    assert registry.plugins[0].warning is None and not recwarn.list


def test_a_malformed_api_declaration_is_named():
    with pytest.warns(
        registry_module.PluginWarning, match=r"declares SEQKIT_API = '1', which is not"
    ):
        seqkit.load_registry(plugins=[api_plugin("1")], entry_points=False)


def test_seqkit_plugins_shows_each_plugins_api(monkeypatch):
    with pytest.warns(registry_module.PluginWarning):
        registry = seqkit.load_registry(plugins=[api_plugin(7)])
    monkeypatch.setattr(registry_module, "_default", registry)
    runner = CliRunner()
    rows = {p["name"]: p for p in json.loads(runner.invoke(cli, ["plugins", "--json"]).output)}
    assert rows["cells"]["api"] == 1 and rows["cells"]["warning"] is None
    assert rows["api-7"]["api"] == 7 and "API 7" in rows["api-7"]["warning"]
    text = runner.invoke(cli, ["plugins"]).output
    assert (
        "cells  " in text
        and "api 1" in text
        and "warning: was written for seqkit plugin API 7" in text
    )
