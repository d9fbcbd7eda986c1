"""Threads and kernels chosen by measurement (`--threads auto`, `impl=fastest`), and why
`impl=auto` is a rule instead: the thread count does not change a built-in cell's numbers,
the implementation does."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from click.testing import CliRunner
from seqkit_plugins.recurrent import Recurrent

import seqkit
from seqkit._cli.main import cli
from seqkit._core.cache import CACHE_ENV
from seqkit._core.config import RunConfig
from seqkit._run import autotune as tuning
from seqkit._run.plan import plan
from seqkit._run.runner import make_data

SMALL = dict(
    cell="gru",
    task="sum",
    epochs=4,
    hidden_size=16,
    batch_size=16,
    task_options={"num_samples": 256},
)


FASTEST = {"impl": "fastest"}
"""Asks for the faster of the GRU's fused module and kernels, timed."""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "tuning.json"


@pytest.fixture
def long_enough(monkeypatch):
    """Every run counts as long enough to time, with trials allowed to cost it all."""
    monkeypatch.setattr(tuning, "MIN_RUN_S", 0.0)
    monkeypatch.setattr(tuning, "MAX_COST", 1e9)


def _tuned(**settings):
    the_plan = plan(RunConfig(**{**SMALL, **settings}))
    return tuning.tune(the_plan, make_data(the_plan.task, 0, the_plan.device))


def test_the_first_candidate_within_the_margin_wins():
    one, two = {"threads": 1}, {"threads": 2}
    assert tuning.fastest([(one, 1.0), (two, 0.97)]) == one  # within 5%: fewer threads
    assert tuning.fastest([(one, 1.0), (two, 0.9)]) == two
    fused, kernels = {"impl": "fused"}, {"impl": "kernels"}
    assert tuning.fastest([(fused, 2.0), (kernels, 1.0)]) == kernels


def test_a_short_run_keeps_the_rules_and_says_why(cache):
    the_plan, how = _tuned(threads="fastest", cell_options=FASTEST)
    assert how.how == "not measured" and "expected to take" in how.reason
    assert how.expected_s is not None and how.expected_s < tuning.MIN_RUN_S
    assert the_plan.config.cell_options["impl"] == "auto" and the_plan.config.threads == 1
    assert not cache.exists()


def test_a_long_run_times_each_candidate_keeps_the_fastest_and_caches_it(cache, long_enough):
    the_plan, how = _tuned(threads="fastest", cell_options=FASTEST)
    assert how.how == "measured"
    cores = seqkit._core.config.usable_cores()
    threads = sorted({1, cores})
    labels = {f"threads={t} impl={i}" for t in threads for i in ("fused", "kernels")}
    assert set(how.times_ms) == labels | {"default"}
    assert all(ms > 0 for ms in how.times_ms.values())
    # The plan runs what was chosen, and the choice is the fastest within the margin.
    assert the_plan.config.cell_options["impl"] == how.options["impl"] in ("fused", "kernels")
    assert the_plan.cell.options["impl"] == how.options["impl"]
    assert the_plan.config.threads == how.threads in threads
    best = min(v for k, v in how.times_ms.items() if k != "default")
    assert how.times_ms[f"threads={how.threads} impl={how.options['impl']}"] <= best * 1.05
    # A second run of the same shape reads the cache instead of timing again.
    entry = json.loads(cache.read_text())
    assert len(entry) == 1
    again_plan, again = _tuned(threads="fastest", cell_options=FASTEST)
    assert again.how == "cached" and again.options == how.options
    assert again_plan.config.threads == how.threads
    # Another shape is another entry.
    _, other = _tuned(hidden_size=12, threads="fastest", cell_options=FASTEST)
    assert other.how == "measured" and len(json.loads(cache.read_text())) == 2


class Clocked(tuning.Trial):
    """A trial whose steps take `seconds[threads]` (a number, or a list taken in turn)
    on a fake clock, `clock[0]`; built on a real plan's trial, or bare with `scale`."""

    def __init__(self, clock: list[float], seconds: dict, *trial, scale: float = 0.0) -> None:
        if trial:
            super().__init__(*trial)
            self.default = self.plan.config.threads
        else:
            self.scale, self.default = scale, 1  # a step x scale = the run
        self.clock, self.seconds = clock, seconds

    def timed_step(self, choice: dict) -> float:
        s = self.seconds[choice.get("threads", self.default)]
        step = s.pop(0) if isinstance(s, list) else s
        self.clock[0] += step
        return step


@pytest.fixture
def clock(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(tuning.time, "perf_counter", lambda: now[0])
    return now


def test_the_race_costs_at_most_its_share_of_the_run_it_serves(clock):
    """The budget is drawn from the default's run; when a candidate is faster, the run
    the trials serve is shorter, and so is what they may spend (a fake clock)."""
    trial = Clocked(clock, {1: 0.1, 2: 0.05}, scale=1000.0)
    budget = tuning.MAX_COST * 0.1 * 1000  # the default (one thread)'s run: 2 s
    times = trial.race([{"threads": 1}, {"threads": 2}], 0.0, budget, rounds=100)
    assert dict((c["threads"], t) for c, t in times) == {1: 0.1, 2: 0.05}
    served = tuning.MAX_COST * 0.05 * 1000  # two threads' run: 1 s
    assert 0.7 * served <= clock[0] <= tuning.HEADROOM * served


def test_a_step_slowed_by_the_machine_does_not_decide_the_race(clock):
    """Noise on a shared machine only adds time: each candidate's quickest step counts,
    so one slow step (a neighbour waking up) does not hand the race to the slower way."""
    spikes = [0.3, 0.3, 0.05, 0.3, 0.05, 0.05]  # two threads: 0.05 s, often slowed
    trial = Clocked(clock, {1: 0.1, 2: spikes}, scale=1e6)
    times = trial.race([{"threads": 1}, {"threads": 2}], 0.0, 1e6, rounds=3)
    assert dict((c["threads"], t) for c, t in times) == {1: 0.1, 2: 0.05}
    assert tuning.fastest(times) == {"threads": 2}


def test_the_probe_counts_and_a_slower_way_is_not_expected_to_be_quick(cache, clock, monkeypatch):
    """Measured beside a busy neighbour (benchmarks/threads.py, compute row: an LSTM of
    hidden size 256 whose default is two threads): the probe 476 ms, one thread 226 ms,
    two threads 655 ms. The run the trials serve is one thread's, 400 x 0.226 s, so its
    2% is 1.8 s; timing two threads again after the probe, because the quickest step
    said it would be quick, cost 2.03%. The probe's timed step is two threads' first."""
    the_plan = plan(RunConfig(**{**SMALL, "cell": "lstm", "epochs": 400, "batch_size": 256}))
    the_plan = dataclasses.replace(
        the_plan,
        tunable={"threads": (1, 2)},
        config=dataclasses.replace(the_plan.config, threads=2),
    )
    seconds = {1: 0.2255, 2: [0.476, 0.476, 0.6545, 0.6545]}  # the probe's two steps first
    monkeypatch.setattr(tuning, "Trial", lambda *a: Clocked(clock, seconds, *a))
    _, how = tuning.tune(the_plan, make_data(the_plan.task, 0, the_plan.device))
    assert how.how == "measured" and how.threads == 1
    assert how.times_ms == pytest.approx({"default": 476, "threads=1": 225.5, "threads=2": 476})
    assert how.expected_s == pytest.approx(400 * 0.2255)
    assert how.cost_s / how.expected_s <= tuning.MAX_COST


def _long_two_way_plan():
    """A run long enough to screen on short cuts and race on longer ones (T=2000, 1000
    epochs), whose threads are left to choose between one (its default) and two."""
    long_run = {"task": "meansign", "task_options": {"num_samples": 8, "seq_len": 2000}}
    the_plan = plan(RunConfig(**{**SMALL, **long_run, "epochs": 1000, "batch_size": 8}))
    return dataclasses.replace(
        the_plan,
        tunable={"threads": (1, 2)},
        config=dataclasses.replace(the_plan.config, threads=1),
    )


def test_a_cold_first_step_does_not_drop_a_way_from_the_screen(cache, clock, monkeypatch):
    """A way's first step pays for its thread pool and kernels. Measured in
    benchmarks/long_sequences.py: two threads were dropped after one screen step and only
    one thread was raced. Each screened way takes an untimed step first."""
    the_plan = _long_two_way_plan()
    seconds = {1: 0.010, 2: [0.05] + [0.005] * 50}  # cold, then twice as fast as one
    monkeypatch.setattr(tuning, "Trial", lambda *a: Clocked(clock, seconds, *a))
    _, how = tuning.tune(the_plan, make_data(the_plan.task, 0, the_plan.device))
    assert how.how == "measured" and how.threads == 2
    assert how.trial_steps > tuning.TRIAL_STEPS  # raced on a longer cut, both ways
    assert how.times_ms == pytest.approx({"default": 10, "threads=1": 10, "threads=2": 5})
    assert how.cost_s / how.expected_s <= tuning.MAX_COST


def test_a_screen_that_leaves_one_way_does_not_race_it(cache, clock, monkeypatch):
    the_plan = _long_two_way_plan()
    seconds = {1: 0.010, 2: 0.050}  # five times one thread's step: out after the screen
    monkeypatch.setattr(tuning, "Trial", lambda *a: Clocked(clock, seconds, *a))
    _, how = tuning.tune(the_plan, make_data(the_plan.task, 0, the_plan.device))
    assert how.how == "measured" and how.threads == 1
    assert how.trial_steps == tuning.TRIAL_STEPS
    assert how.times_ms == pytest.approx({"default": 10, "threads=1": 10, "threads=2": 50})
    assert clock[0] == pytest.approx(2 * 0.010 + 2 * 0.050)  # the probe's and the screen's


def test_long_sequences_are_timed_as_long_as_the_budget_affords(cache, monkeypatch):
    """The candidates are timed on longer cuts of a long sequence when the 2% budget
    allows: on short cuts a second thread's gain does not show (docs/scaling.md)."""

    class Cut:
        cut, steps = 256, 20000

    # 1 + MIN_ROUNDS steps of each candidate at 3x (GROWTH) their cost per time step.
    four_times = 4 * (3 * 3 * (0.01 + 0.02))
    assert tuning.race_length(Cut(), [0.01, 0.02], four_times) == 1024
    assert tuning.race_length(Cut(), [0.01, 0.02], four_times * 0.99) == 768
    assert tuning.race_length(Cut(), [0.01, 0.02], 0.1) == 256  # no less than the probe
    assert tuning.race_length(Cut(), [0.01], 1e6) == tuning.MAX_TRIAL_STEPS

    long_run = {"task": "meansign", "task_options": {"num_samples": 8, "seq_len": 700}}
    monkeypatch.setattr(tuning, "MIN_RUN_S", 0.0)
    monkeypatch.setattr(tuning, "MAX_COST", 1e9)
    monkeypatch.setattr(tuning, "MAX_ROUNDS", 2)
    _, how = _tuned(**long_run, batch_size=8, cell_options=FASTEST)
    assert how.how == "measured" and how.trial_steps == 700  # the run's own length
    monkeypatch.setattr(tuning, "MAX_TRIAL_STEPS", 512)
    _, how = _tuned(**long_run, batch_size=8, hidden_size=12, cell_options=FASTEST)
    assert how.trial_steps == 512


def test_pinned_settings_are_not_timed(cache, long_enough):
    the_plan, how = _tuned(threads=1, cell_options={"impl": "fused"})
    assert how.how == "not measured" and how.reason == "as set" and not how.times_ms
    assert the_plan.config.cell_options["impl"] == "fused"
    # Only the threads left to choose: the impl stays as given.
    _, how = _tuned(threads="fastest", cell_options={"impl": "kernels"})
    assert all("impl" not in k for k in how.times_ms)


def test_the_lstm_has_no_kernels_to_try(cache, long_enough):
    the_plan = plan(RunConfig(**{**SMALL, "cell": "lstm"}))
    assert "impl" not in the_plan.tunable
    with pytest.raises(seqkit.ConfigError, match="no impl=kernels"):
        Recurrent("lstm", 1, 4, impl="kernels")


def test_an_unreadable_cache_counts_as_empty_and_is_rewritten(cache, long_enough):
    cache.parent.mkdir(parents=True)
    cache.write_text("{ not json")
    _, how = _tuned(cell_options=FASTEST)
    assert how.how == "measured" and len(json.loads(cache.read_text())) == 1


def test_trials_leave_the_run_exactly_as_the_pinned_choice_runs_it(tmp_path, long_enough):
    """Reproducible: a measured run equals a rerun from its config.json (which pins the
    choice), step for step: the trials touch no random stream of the run."""
    tuned = seqkit.run(**SMALL, cell_options=FASTEST, out=tmp_path / "a")
    recorded = json.loads((tmp_path / "a" / "config.json").read_text())
    assert recorded["tuning"]["how"] == "measured"
    assert recorded["threads"] == tuned.tuning.threads
    assert recorded["cell_options"]["impl"] == tuned.tuning.options["impl"]
    again = seqkit.run(RunConfig.from_file(tmp_path / "a" / "config.json"))
    assert again.tuning.how == "not measured" and again.tuning.reason == "as set"
    assert [r["train_loss"] for r in again.history.epochs] == [
        r["train_loss"] for r in tuned.history.epochs
    ]
    assert tuned.summary()["tuning"]["how"] == "measured"
    assert tuned.metrics["val_loss"] < 0.1 * tuned.chance_loss  # it also learned


def test_the_kernels_compute_what_torchs_module_does():
    torch.manual_seed(0)
    fused = Recurrent("gru", 3, 40, impl="fused").double()
    torch.manual_seed(0)
    kernels = Recurrent("gru", 3, 40, impl="kernels").double()
    assert kernels._written_out is not None  # at hidden size 40, past auto's rule
    x = torch.randn(4, 5, 3, dtype=torch.float64)  # and on 5 steps, under auto's 16
    torch.testing.assert_close(kernels(x)[0], fused(x)[0], rtol=0, atol=1e-12)


def test_threads_on_the_command_line(tmp_path, cache):
    runner = CliRunner()
    bad = runner.invoke(cli, ["run", "--cell", "gru", "--task", "sum", "--threads", "many"])
    assert bad.exit_code == 2
    assert "--threads" in bad.output and "must be auto, fastest or a number" in bad.output
    assert "Traceback" not in bad.output
    out = tmp_path / "r"
    argv = ["run", "--cell", "gru", "--task", "sum", "--epochs", "1", "--hidden-size", "8"]
    ok = runner.invoke(cli, [*argv, "--threads", "auto", "--quiet", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    recorded = json.loads((out / "config.json").read_text())
    assert (
        isinstance(recorded["threads"], int)
        and recorded["tuning"]["threads"] == (recorded["threads"])
    )
    # A saved run's config.json is a settings file: its records are not settings.
    again = runner.invoke(cli, ["run", "--config", str(out / "config.json"), "--quiet"])
    assert again.exit_code == 0, again.output


def test_tune_values_must_be_other_choices():
    with pytest.raises(ValueError, match="tune= values"):
        seqkit.Option("auto", choices=("auto", "a"), tune=("b",))
    with pytest.raises(ValueError, match="tune= values"):
        seqkit.Option("auto", choices=("auto", "a"), tune=("auto",))
    assert seqkit.Option("auto", choices=("auto", "a"), tune=("a",)).describe()["tune"] == ["a"]


def test_auto_follows_a_fixed_rule_and_fastest_settles_on_it_when_not_timed(cache):
    the_plan, how = _tuned(cell_options=FASTEST)  # too short a run to time
    assert how.how == "not measured" and "expected to take" in how.reason
    assert the_plan.config.cell_options["impl"] == "auto"  # what ran, as recorded
    assert the_plan.cell.options["impl"] == "auto"
    the_plan, _ = _tuned()
    assert "impl" not in the_plan.tunable  # auto is a rule, never a measurement
    with pytest.raises(seqkit.ConfigError, match="must be one of auto, fused, scratch"):
        plan(RunConfig(**{**SMALL, "cell": "lstm", "cell_options": FASTEST}))


def test_auto_threads_follow_the_rule_and_are_never_timed(cache, long_enough):
    """The thread count changes the last digits of a large reduction (torch splits it by
    the count), so `auto` is a rule and only `fastest` is timed."""
    the_plan, how = _tuned()
    assert the_plan.tunable == {} and how.how == "not measured" and how.reason == "as set"
    assert the_plan.config.threads == 1  # the rule: one thread below hidden size 256
    assert not cache.exists()
    the_plan, _ = _tuned(threads="fastest")
    assert the_plan.tunable["threads"] == tuple(sorted({1, seqkit._core.config.usable_cores()}))


@pytest.mark.skipif(seqkit._core.config.usable_cores() < 2, reason="needs two usable cores")
def test_timings_that_favour_each_candidate_in_turn_change_nothing_unasked(
    cache, clock, monkeypatch
):
    """A busy neighbour, another machine or an earlier run's cache may make any candidate
    the fastest. A run that did not ask for the fastest computes the same losses whichever
    wins; one that asked runs and records the winner."""
    monkeypatch.setattr(tuning, "MIN_RUN_S", 0.0)
    monkeypatch.setattr(tuning, "MAX_COST", 1e9)
    monkeypatch.setattr(seqkit._run.plan, "usable_cores", lambda: 2)
    runs, asked = {}, {}
    for winner in (1, 2):
        seconds = {1: 0.010 if winner == 1 else 0.050, 2: 0.010 if winner == 2 else 0.050}
        monkeypatch.setattr(tuning, "Trial", lambda *a, s=seconds: Clocked(clock, s, *a))
        cache.unlink(missing_ok=True)
        runs[winner] = seqkit.run(**{**SMALL, "hidden_size": 40}, quiet=True)
        asked[winner] = seqkit.run(**{**SMALL, "hidden_size": 40, "threads": "fastest"}, quiet=True)
    losses = [[(r["train_loss"], r["val_loss"]) for r in runs[w].history.epochs] for w in (1, 2)]
    assert losses[0] and losses[0] == losses[1]
    assert runs[1].test == runs[2].test
    assert runs[1].config.threads == runs[2].config.threads == 1
    assert [asked[w].config.threads for w in (1, 2)] == [1, 2]
    assert all(asked[w].tuning.how == "measured" for w in (1, 2))
