"""Threads and kernels chosen by measurement, like `torch.backends.cudnn.benchmark`, but
only when asked: `--threads fastest` and a cell option that declares `tune=` set to
"fastest" (the built-in RNN's and GRU's `impl`: torch's fused module or seqkit's kernels).
Both change what a run computes in the last digits (torch splits a large reduction by the
thread count; the kernels round otherwise than torch's module), and a choice made by timing
depends on the machine, its load and what an earlier run cached; left at `auto`, each
follows a fixed rule, so the same command and seed give the same numbers.

`tune(plan, data)` first times one step the default way on sequences cut to
TRIAL_STEPS; when the run is expected to last MIN_RUN_S or more, it times a few training
steps of every candidate on the run's own batch, cut to the longest length the budget
affords (see `race_length`), keeps the fastest, and caches the choice per machine, load,
cell, shape and torch version in the user's cache directory. The choice is recorded like
any setting, so a saved run's `--config` and `--resume` run the same way. Trials never
touch the run's model, data or random streams.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import os
import platform
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from seqkit._core import files
from seqkit._core.cache import cache_dir
from seqkit._core.config import usable_cores
from seqkit._core.errors import ConfigError
from seqkit._plugins.registry import Resolved
from seqkit._run.plan import Plan
from seqkit._train import distributed

if TYPE_CHECKING:
    from seqkit._plugins.interfaces import Data

MIN_RUN_S = 20.0
"""Runs expected to take less than this keep seqkit's rules without trying others."""
MAX_COST = 0.02
"""The trials may cost at most this share of the run's expected training time."""
TRIAL_STEPS = 256
"""The first probe cuts sequences to this many time steps, so that a long sequence costs
little to estimate."""
MAX_TRIAL_STEPS = 4096
"""The candidates are timed on sequences cut to at most this many steps."""
GROWTH = 3.0
"""How much more a time step may cost in a longer trial than in the probe (measured on
the notebook's section 4: 13.5 us per LSTM step at 256 steps, 26-37 us at 1024-20000,
as the activations outgrow the caches)."""
MAX_ROUNDS, MIN_ROUNDS = 5, 2
"""Timed steps per candidate after its first (interleaved rounds, the quickest step
counts), as many as fit in MAX_COST;
a run whose trials could not afford MIN_ROUNDS is not tried."""
MARGIN = 0.05
"""A less preferred candidate must be this much faster to be chosen (timing noise, and
more threads lose most when a neighbour gets busy later)."""
HEADROOM = 0.9
"""The race plans to end by this share of its budget: a step can take longer than the one
before it, and building the trial models and writing the cache cost a little too."""
SLOWER = 3.0
"""A candidate whose first step took this many times the quickest's is not timed further."""


@dataclass
class Tuning:
    """How a run's threads and tuned cell options were chosen, as config.json and the
    summary record it."""

    how: str
    """measured, cached, or not measured (with `reason`)."""
    threads: int
    options: dict[str, Any] = field(default_factory=dict)
    """The tuned cell options' values (`{"impl": "kernels"}`)."""
    reason: str = ""
    times_ms: dict[str, float] = field(default_factory=dict)
    """Milliseconds per trial step: the default way's probe (sequences cut to TRIAL_STEPS)
    and each candidate's quickest step (cut to `trial_steps`)."""
    expected_s: float | None = None
    """The run's training time expected from the trials (from the probe when not raced)."""
    cost_s: float = 0.0
    """Wall time the trials took."""
    trial_steps: int | None = None
    """The length the candidates' sequences were cut to."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def tune(the_plan: Plan, data: Data) -> tuple[Plan, Tuning]:
    """The plan with its threads and tuned cell options chosen, and how they were: as set
    where nothing was asked for, from the cache, or measured (`measure`)."""
    axes, config = the_plan.tunable, the_plan.config
    threads = int(config.threads or 1)
    options = {k: config.cell_options[k] for k in axes if k != "threads"}

    def keep(reason: str, **more: Any) -> tuple[Plan, Tuning]:
        return the_plan, Tuning("not measured", threads, options, reason, **more)

    if not any(len(values) > 1 for values in axes.values()):
        return keep("as set" if not axes else "one candidate")
    if config.compile or config.tbptt or distributed.world_size() > 1:
        return keep("not measured with compile, tbptt or several processes")
    key = cache_key(the_plan, axes, data)
    cached = read_cache().get(key)
    if cached is not None:
        tuning = Tuning("cached", **_chosen(cached["choice"], threads), times_ms=cached["times_ms"])
        return apply(the_plan, cached["choice"]), tuning

    start = time.perf_counter()
    default = {"threads": threads, **options} if "threads" in axes else options
    try:
        with trial_model_rng():
            probe, times, expected, cut = measure(the_plan, data, default, start)
    except NotMeasured as why:
        return keep(why.reason, expected_s=why.expected, cost_s=time.perf_counter() - start)
    except Exception as exc:  # a trial that fails leaves the run as it was: say why
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return keep(f"default: the trial failed ({reason[:120]})")
    choice = fastest(times)
    times_ms = {"default": probe * 1e3} | {label(c): t * 1e3 for c, t in times}
    write_cache(key, {"choice": choice, "times_ms": times_ms})
    tuning = Tuning(
        "measured",
        **_chosen(choice, threads),
        times_ms=times_ms,
        expected_s=expected,
        cost_s=time.perf_counter() - start,
        trial_steps=cut,
    )
    return apply(the_plan, choice), tuning


class NotMeasured(Exception):
    """The run keeps its default way: too short to pay for trials, or trials too dear."""

    def __init__(self, reason: str, expected: float) -> None:
        super().__init__(reason)
        self.reason, self.expected = reason, expected


def measure(
    the_plan: Plan, data: Data, default: dict[str, Any], start: float
) -> tuple[float, list[tuple[dict[str, Any], float]], float, int]:
    """Time the candidates: the default way's probe step first (the run's expected time),
    then, where the budget allows a longer cut, a screen of every candidate on the
    probe's cut and a race of those that can win on the longest cut their step times
    afford; else a race on the probe's cut. The probe's seconds, each raced candidate's
    quickest step, the chosen way's expected run and the cut raced on."""
    trial = Trial(the_plan, data, TRIAL_STEPS)
    probe = trial.time({}, rounds=1)
    expected = probe * trial.scale
    combos = trial.combos(the_plan.tunable)
    known = {i: probe for i, c in enumerate(combos) if c == default}  # timed already
    if expected < MIN_RUN_S:
        raise NotMeasured(
            f"default: the run is expected to take {expected:.2g} s, "
            f"under the {MIN_RUN_S:g} s that pays for trials",
            expected,
        )
    budget = MAX_COST * expected
    if probe * (2 + len(combos) * (1 + MIN_ROUNDS)) > budget:
        raise NotMeasured(f"default: trials would cost over {MAX_COST:.0%} of the run", expected)
    if race_length(trial, [probe] * len(combos), budget) > trial.cut:
        # Screen every candidate with one short step after an untimed one (a way's first
        # step pays for its thread pool and kernels: one cold step once dropped a way
        # that was as fast), then race the ones that can win at the longest cut their
        # own step times afford. The budget affords 18 probes and more per candidate,
        # the screen costs two.
        screen = [(c, known.get(i) or trial.time(c, rounds=1)) for i, c in enumerate(combos)]
        quickest = min(t for _, t in screen)
        kept = [(c, t) for c, t in screen if t <= SLOWER * quickest]
        budget = min(budget, MAX_COST * quickest * trial.scale)
        if len(kept) == 1:  # one way left: nothing to race
            return probe, screen, quickest * trial.scale, trial.cut
        left = start + HEADROOM * budget - time.perf_counter()
        cut = race_length(trial, [t for _, t in kept], left)
        combos, known = [c for c, _ in kept], {}
        trial = Trial(the_plan, data, cut, trial.models)
    times = trial.race(combos, start, budget, known=known)
    return probe, times, min(t for _, t in times) * trial.scale, trial.cut


def race_length(trial: Trial, step_s: list[float], budget: float) -> int:
    """The longest cut (a multiple of TRIAL_STEPS, up to MAX_TRIAL_STEPS and the run's own
    length) at which 1 + MIN_ROUNDS steps of candidates whose steps took `step_s` on the
    trial's cut fit in `budget`, allowing each time step GROWTH times that cost.

    Longer is truer: on the notebook's section 4 (T=20000) a second thread made the LSTM's
    step 6-9% faster at 1024 steps and more, but 18% slower at 256."""
    per_step = GROWTH * (1 + MIN_ROUNDS) * sum(step_s) / trial.cut
    cut = int(budget / per_step // TRIAL_STEPS) * TRIAL_STEPS if per_step > 0 else trial.steps
    return max(trial.cut, min(cut, MAX_TRIAL_STEPS, trial.steps))


def _chosen(choice: dict[str, Any], threads: int) -> dict[str, Any]:
    return {
        "threads": choice.get("threads", threads),
        "options": {k: v for k, v in choice.items() if k != "threads"},
    }


def label(choice: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in choice.items())


def fastest(times: list[tuple[dict[str, Any], float]]) -> dict[str, Any]:
    """The first candidate, in order of preference, within MARGIN of the quickest: fewer
    threads first (they lose least to a busy neighbour), then each option's `tune=`
    values in the order the plugin lists them."""
    best = min(t for _, t in times)
    return dict(next(c for c, t in times if t <= best * (1 + MARGIN)))


def apply(the_plan: Plan, choice: dict[str, Any]) -> Plan:
    """The plan running `choice`: its threads, and its cell options replaced."""
    config = the_plan.config
    cell_options = {**config.cell_options, **{k: v for k, v in choice.items() if k != "threads"}}
    new_config = dataclasses.replace(
        config, threads=choice.get("threads", config.threads), cell_options=cell_options
    )
    cell = Resolved(the_plan.cell.entry, {**the_plan.cell.options, **cell_options})
    return dataclasses.replace(the_plan, config=new_config, cell=cell)


@contextlib.contextmanager
def trial_model_rng() -> Iterator[None]:
    """Trials draw weights from a forked, seeded RNG and restore the thread count."""
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(0)  # the CPU's: trials run there
        try:
            yield
        finally:
            torch.set_num_threads(threads)


class Trial:
    """Training steps of the run's model on the first batch of its data, cut to `cut`
    time steps: forward, the task's loss, backward and a plain gradient
    update (torch.optim's first use imports torch._dynamo: the run pays that itself)."""

    def __init__(
        self,
        the_plan: Plan,
        data: Data,
        cut: int,
        models: dict[str, torch.nn.Module] | None = None,
    ) -> None:
        """`models`: the trial models built already (by an earlier trial of the same
        run), by their cell options: building one standardises the whole training set."""
        self.plan = the_plan
        config, x, y = the_plan.config, data.train_x, data.train_y
        n, steps = x.shape[0], x.shape[1]
        batch = min(config.batch_size or n, n)
        cut = min(steps, cut)
        self.cut, self.steps = cut, steps
        self.x = x[:batch, :cut]
        self.y = y[:batch, :cut] if y.dim() > 1 and y.shape[1] == steps else y[:batch]
        self.train_x, self.train_y = x, y
        batches = -(-n // batch)
        self.scale = (steps / cut) * batches * (config.epochs or 1)
        """Trial step time x this = the run's expected training time."""
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(config.precision)
        self.autocast = dtype
        self.models: dict[str, torch.nn.Module] = models if models is not None else {}

    def combos(self, axes: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
        keys = list(axes)
        return [
            dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())
        ]

    def model(self, choice: dict[str, Any]) -> torch.nn.Module:
        options = tuple(sorted((k, v) for k, v in choice.items() if k != "threads"))
        key = repr(options)
        if key not in self.models:
            the_plan = apply(self.plan, dict(options)) if options else self.plan
            self.models[key] = the_plan.initial_model(self.train_x, self.train_y)
        return self.models[key]

    def step(self, model: torch.nn.Module) -> None:
        with torch.autocast("cpu", dtype=self.autocast, enabled=self.autocast is not None):
            loss = self.plan.task.loss(model(self.x), self.y)
        params: list[torch.Tensor] = [p for p in model.parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        used = [(p, g) for p, g in zip(params, grads, strict=True) if g is not None]
        with torch.no_grad():
            torch._foreach_add_([p for p, _ in used], [g for _, g in used], alpha=-1e-6)

    def time(self, choice: dict[str, Any], rounds: int) -> float:
        """Seconds per step after one untimed step, median of `rounds`."""
        self.timed_step(choice)
        return statistics.median(self.timed_step(choice) for _ in range(rounds))

    def race(
        self,
        combos: list[dict[str, Any]],
        start: float,
        budget: float,
        rounds: int = MAX_ROUNDS,
        known: dict[int, float] | None = None,
    ) -> list[tuple[dict[str, Any], float]]:
        """Each candidate's quickest step (noise on a shared machine only adds time, so
        the minimum estimates a step best, as `timeit` does), the candidates taking turns
        in each round (so that a change in the machine's load falls on all of them), for
        as many rounds (up to `rounds`) as end within HEADROOM of `budget` seconds from
        `start`, and of MAX_COST of the run the quickest candidate yet would make: the run the
        trials serve, which may be shorter than the one `budget` was drawn from
        (candidates not reached by then are left out). A candidate whose first step was
        SLOWER times the quickest's is not timed further (it cannot win).

        `known`: first steps already timed on this trial, by candidate (the probe is the
        default way's). A candidate's first step is expected to take as long as the
        slowest first step yet: the quickest's says nothing of a way that is slower."""

        def deadline(quickest: float) -> float:
            return start + HEADROOM * min(budget, MAX_COST * quickest * self.scale)

        first: dict[int, float] = dict(known or {})
        for i, choice in enumerate(combos):  # preferred first: past the deadline, no more
            if i in first:
                continue
            if first and time.perf_counter() + max(first.values()) > deadline(min(first.values())):
                break
            first[i] = self.timed_step(choice)
        reached = sorted(first)
        kept = [i for i in reached if first[i] <= SLOWER * min(first.values())]
        times: dict[int, list[float]] = {i: [first[i]] for i in kept}
        per_round = sum(first[i] for i in kept)
        for _ in range(rounds):
            quickest = min(min(ts) for ts in times.values())
            if time.perf_counter() + per_round > deadline(quickest):
                break
            t0 = time.perf_counter()
            for i in kept:
                times[i].append(self.timed_step(combos[i]))
            per_round = time.perf_counter() - t0
        return [(combos[i], min(times.get(i, [first[i]]))) for i in reached]

    def timed_step(self, choice: dict[str, Any]) -> float:
        model = self.model(choice)
        torch.set_num_threads(choice.get("threads", self.plan.config.threads or 1))
        t0 = time.perf_counter()
        self.step(model)
        return time.perf_counter() - t0


# -- the cache -------------------------------------------------------------------------


def cache_file() -> Path:
    return cache_dir() / "tuning.json"


def machine() -> dict[str, Any]:
    """What the choice depends on besides the run: the CPU, the cores seqkit may use,
    torch, and whether the machine was busy (load average over half a core)."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    busy = hasattr(os, "getloadavg") and os.getloadavg()[0] >= 0.5
    return {
        "cpu": model,
        "cores": usable_cores(),
        "torch": torch.__version__,
        "load": "busy" if busy else "idle",
    }


def cache_key(the_plan: Plan, axes: dict[str, tuple[Any, ...]], data: Data) -> str:
    config, task = the_plan.config, the_plan.task
    fixed = {k: v for k, v in the_plan.cell.options.items() if k not in axes}
    n, steps = data.train_x.shape[0], data.train_x.shape[1]
    batch = min(config.batch_size or n, n)
    what = {
        "machine": machine(),
        "cell": [the_plan.cell.entry.plugin, config.cell, fixed],
        "topology": [config.topology, config.topology_options],
        "io": [task.io.input_size, task.io.output_size, task.kind],
        "shape": [batch, steps, config.hidden_size],
        "precision": config.precision,
        "normalize": config.normalize,
        "axes": {k: list(v) for k, v in axes.items()},
    }
    text = json.dumps(what, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def read_cache() -> dict[str, Any]:
    """The cached choices; an unreadable or foreign file counts as empty (it is only a
    cache: the next measurement rewrites it)."""
    try:
        data = files.read_json(cache_file())
    except ConfigError:
        return {}
    return data if isinstance(data, dict) else {}


def write_cache(key: str, entry: dict[str, Any]) -> None:
    """Add `entry`, replacing the file atomically (runs side by side may write at once;
    the last one wins). A cache that cannot be written is skipped."""
    path = cache_file()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_json(path, read_cache() | {key: entry}, indent=1)
