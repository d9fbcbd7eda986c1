"""Threads and kernels for a training step: torch's default, every fixed choice, and
what `--threads auto` with `impl=fastest` choose, on an idle machine and beside a busy
neighbour (a second process multiplying matrices on one core), at three sizes.

Per row, the candidates take turns within each round (each round an untimed step, then a
median of steps; the quickest round counts, since a shared machine's noise only adds
time): torch's module on torch's default thread count (where that is a fixed pair, all
cores and torch's module, it is timed once as that pair), each fixed (threads, impl)
pair, and seqkit's choice, made by `seqkit._run.autotune` under the same conditions (a fresh
cache, the neighbour running) for a run of the row's shape long enough to be timed. Reported:
torch's default / auto (>= 1.0 means auto is at least as fast) and auto / the best
fixed choice (<= 1.2 is the target), and what the trials cost as a share of the run.

    python -m benchmarks.threads
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch
from seqkit_plugins.recurrent import Recurrent

from benchmarks.common import neighbour_process, write
from seqkit._core.cache import CACHE_ENV
from seqkit._core.config import RunConfig, usable_cores
from seqkit._run import autotune as tuning
from seqkit._run.plan import plan
from seqkit._run.runner import make_data

SIZES = {  # cell, B, T, D, H, and the seqkit run of that shape
    "notebook sum (gru)": (
        "gru", 250, 6, 1, 50,
        dict(task="sum", batch_size=250, task_options={"num_samples": 250}),
    ),
    "long tiny (rnn, T=2000)": (
        "rnn", 50, 2000, 10, 5,
        dict(task="meansign", trainer="fullbatch",
             task_options={"num_samples": 50, "seq_len": 2000, "input_size": 10}),
    ),
    "compute (lstm, H=256)": (
        "lstm", 64, 100, 32, 256,
        dict(task="meansign", batch_size=64,
             task_options={"num_samples": 64, "seq_len": 100, "input_size": 32}),
    ),
}  # fmt: skip


EPOCHS = {"gru": 10_000, "rnn": 1000, "lstm": 400}
"""Epochs that make each row's run one to two minutes long on a 2-core CPU (the trials'
budget is a share of the run)."""


def step(cell: Recurrent, x: torch.Tensor, opt: torch.optim.Optimizer, threads: int) -> float:
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    out, _ = cell(x)
    out.square().mean().backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return time.perf_counter() - t0


def auto_choice(kind: str, h: int, run: dict) -> tuple[dict, float, dict]:
    """What seqkit chooses for a run of this shape of a minute or two, here and now, what
    the trials cost as a share of that run, and the trial step times (ms) it chose from."""
    # impl=fastest: the RNN's and GRU's fused module and kernels are timed too (auto is a
    # fixed rule); the LSTM has one way.
    fastest = {"cell_options": {"impl": "fastest"}} if kind != "lstm" else {}
    config = RunConfig(cell=kind, hidden_size=h, epochs=EPOCHS[kind], **run, **fastest)
    the_plan = plan(config)
    with tempfile.TemporaryDirectory() as cache:
        os.environ[CACHE_ENV] = cache
        chosen, how = tuning.tune(the_plan, make_data(the_plan.task, 0, the_plan.device))
    assert how.how == "measured", how
    assert how.expected_s is not None
    impl = chosen.config.cell_options.get("impl", "fused")
    if impl == "auto":  # the LSTM, whose auto is torch's fused module
        impl = "fused"
    choice = {"threads": chosen.config.threads, "impl": impl}
    return choice, how.cost_s / how.expected_s, how.times_ms


def measure(name: str, rounds: int) -> dict:
    kind, b, t, d, h, run = SIZES[name]
    default_threads = torch.get_num_threads()
    impls = ["fused", "kernels"] if kind != "lstm" else ["fused"]
    fixed = [(n, i) for n in sorted({1, usable_cores()}) for i in impls]
    choice, cost, trial_ms = auto_choice(kind, h, run)
    x = torch.randn(b, t, d)
    cells = {i: Recurrent(kind, d, h, impl=i) for i in impls}
    opts = {i: torch.optim.Adam(c.parameters()) for i, c in cells.items()}
    reps = 3 if t * h > 10_000 else 60

    def timed(threads: int, impl: str) -> float:
        step(cells[impl], x, opts[impl], threads)  # untimed: the first after a thread change
        return statistics.median(step(cells[impl], x, opts[impl], threads) for _ in range(reps))

    # Where torch's default is one of the fixed choices (all cores, its module), it is
    # timed once under that name: two timings of one configuration differ only by noise.
    same = f"{default_threads} thr fused" if (default_threads, "fused") in fixed else None
    candidates = [] if same else [("torch default", (default_threads, "fused"))]
    candidates += [(f"{n} thr {i}", (n, i)) for n, i in fixed]
    for _, (n, i) in candidates:  # warm-up
        timed(n, i)
    times: dict[str, list[float]] = {label: [] for label, _ in candidates}
    for _ in range(rounds):
        for label, (n, i) in candidates:
            times[label].append(timed(n, i))
    torch.set_num_threads(default_threads)
    quickest = {label: min(ts) for label, ts in times.items()}
    if same:
        quickest = {"torch default": quickest[same], **quickest}
    auto = quickest[f"{choice['threads']} thr {choice['impl']}"]
    best_fixed = min(v for k, v in quickest.items() if k != "torch default")
    return {
        "size": name,
        "ms": {k: v * 1e3 for k, v in quickest.items()},
        "torch_default_is": same,
        "auto": f"{choice['threads']} thr {choice['impl']}",
        "auto_ms": auto * 1e3,
        "torch_default_over_auto": quickest["torch default"] / auto,
        "auto_over_best_fixed": auto / best_fixed,
        "trial_cost_share": cost,
        "trial_ms": trial_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    print(
        f"{'size':<26}{'neighbour':<10}{'auto chose':<15}{'auto ms':>9}"
        f"{'torch/auto':>11}{'auto/best':>10}{'trials':>8}"
    )
    for neighbour in ("idle", "busy"):
        with neighbour_process(neighbour):
            for name in SIZES:
                row = {"neighbour": neighbour, **measure(name, args.rounds)}
                print(
                    f"{name:<26}{neighbour:<10}{row['auto']:<15}{row['auto_ms']:>9.2f}"
                    f"{row['torch_default_over_auto']:>10.2f}x"
                    f"{row['auto_over_best_fixed']:>9.2f}x{row['trial_cost_share']:>8.2%}",
                    flush=True,
                )
                same = row["torch_default_is"]
                alias = {"torch default": f"torch default (= {same})"} if same else {}
                ms = row["ms"].items()
                print("    " + "  ".join(f"{alias.get(k, k)}: {v:.2f}" for k, v in ms))
                trials = row["trial_ms"].items()
                print("    trials: " + "  ".join(f"{k}: {v:.2f}" for k, v in trials))
                rows.append(row)
    print("written:", write("threads", rows))


if __name__ == "__main__":
    main()
