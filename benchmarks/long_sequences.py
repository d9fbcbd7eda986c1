"""The notebook's section 4 (N=50, T=20000, D=10, H=5): epoch time, where it goes, and
peak memory against T with and without truncated backpropagation (`--tbptt`).

1. Epoch time: the notebook's loop as written (full batch, Adam 5e-3, BCE, torch's
   default threads) against `seqkit run --trainer fullbatch` doing the same training
   (the notebook's 120 epochs, stopped after the fifth; seqkit's defaults otherwise, as
   the command runs them: `--threads auto`, timed on this run, and `impl=auto`, a fixed
   rule; the heap setting and subnormal flushing on, as in the process the command
   owns), and
   seqkit with each fixed (threads, impl), on an idle machine and beside a busy
   neighbour, alternated in this process; the median of epochs 2-5 on both sides, then
   medians over rounds. seqkit's figure is its epoch's training time; its validation
   pass (10 sequences) is shown apart.
2. The heap: the same two on an idle machine, each with glibc's malloc as it is and with
   the memory a step frees kept for the next (seqkit's default during a CPU run,
   `seqkit._train.heap`; SEQKIT_MALLOC=system turns it off): epoch time and page faults.
3. Profile: the top operators of one seqkit epoch per cell (torch.profiler, T=2000).
4. Memory: peak resident memory of a fresh process that trains one full-batch step at
   length T, minus the same process's peak before training, with and without --tbptt.

    python -m benchmarks.long_sequences            # T=20000, 3 rounds; memory T up to 20000
    python -m benchmarks.long_sequences --full     # 5 rounds, memory up to T=80000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch import nn

import seqkit
from benchmarks.common import neighbour_process, write
from seqkit._core.cache import CACHE_ENV
from seqkit._train import host
from seqkit._train.heap import MALLOC_ENV, keep_freed_memory

N, D, H = 50, 10, 5
MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
EPOCHS = 5
"""Epochs timed on each side; the first is left out (warm-up: thread pools, kernels and,
with the heap kept, glibc settling into reusing it), the median of the rest counts."""


def faults() -> int:
    """This process's minor page faults so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class Notebook(nn.Module):
    """The notebook's SimpleRNN / LSTM / GRU classifier: the last step's h to one logit."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.rnn = MODULES[kind](D, H, batch_first=True)
        self.fc = nn.Linear(H, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.fc(out[:, -1, :])


def notebook_epoch(kind: str, t: int, threads: int, keep: bool = False) -> dict[str, float]:
    """The notebook's loop: the median training time and page faults of epochs 2-EPOCHS;
    `keep`: inside `keep_freed_memory()`, as seqkit runs."""
    torch.set_num_threads(threads)
    x_np = np.random.randn(N, t, D)
    y_np = np.array([1 if x.mean() > 0 else 0 for x in x_np])
    model = Notebook(kind)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    inputs, targets = (
        torch.from_numpy(x_np.astype(np.float32)),
        torch.from_numpy(y_np.astype(np.float32)),
    )
    times, faulted = [], []
    with keep_freed_memory() if keep else contextlib.nullcontext():
        for _ in range(EPOCHS):
            f0, t0 = faults(), time.perf_counter()
            model.zero_grad()
            loss = nn.BCEWithLogitsLoss()(model(inputs).squeeze(), targets)
            loss.backward()
            opt.step()
            loss.item()
            times.append(time.perf_counter() - t0)
            faulted.append(faults() - f0)
    return {"train": float(np.median(times[1:])), "faults": float(np.median(faulted[1:]))}


def seqkit_settings(kind: str, t: int, **extra: object) -> dict:
    settings = dict(
        cell=kind,
        task="meansign",
        trainer="fullbatch",
        hidden_size=H,
        lr=5e-3,
        lr_schedule="constant",
        epochs=1,
        device="cpu",
        task_options={"num_samples": N, "seq_len": t, "val_samples": 10},
    )
    return settings | extra


class StopAfter(seqkit.Callback):
    """Ends a run after `epochs` epochs: the run is planned (and its threads and kernels
    chosen) as the notebook's 120-epoch run, and only its first epochs are timed. Counts
    each epoch's page faults (`faulted`)."""

    def __init__(self, epochs: int) -> None:
        self.epochs, self.last = epochs, 0
        self.faulted: list[int] = []

    def on_fit_start(self, state: seqkit.TrainState) -> None:
        self.last = faults()

    def on_epoch_end(self, state: seqkit.TrainState, record: dict[str, float]) -> None:
        self.faulted.append(faults() - self.last)
        self.last = faults()
        if state.epoch >= self.epochs:
            state.stop = "benchmark"


NOTEBOOK_EPOCHS = 120


def seqkit_epoch(kind: str, t: int, **extra: object) -> dict[str, Any]:
    """One seqkit epoch of the notebook's section-4 run (120 epochs, stopped after
    EPOCHS; the median of epochs 2-EPOCHS): its training time (steps, loss read),
    validation time and page faults (with validation), and what `--threads auto` chose
    (and `impl`, when `extra` asks for `fastest`) and what that cost."""
    settings = seqkit_settings(kind, t, **extra) | {"epochs": NOTEBOOK_EPOCHS}
    stop = StopAfter(EPOCHS)
    with host.owned():  # as the `seqkit` command runs it: heap kept, subnormals flushed
        result = seqkit.run(**settings, callbacks=[stop])
    timed = result.history.epochs[1:]
    how = result.tuning
    return {
        "train": float(np.median([r["train_time"] for r in timed])),
        "val": float(np.median([r["epoch_time"] - r["train_time"] for r in timed])),
        "faults": float(np.median(stop.faulted[1:])),
        "chose": f"{result.config.threads} thr {result.config.cell_options.get('impl')}",
        "tuning": how.how if how else "",
        "trial_share": how.cost_s / how.expected_s if how and how.expected_s else 0.0,
        "trial_ms": how.times_ms if how else {},
        "trial_steps": how.trial_steps if how else None,
    }


def epoch_times(t: int, rounds: int, cells: list[str]) -> list[dict]:
    """Per cell and neighbour (idle, then a process keeping one core busy), taking turns
    in each round: the notebook's loop (torch's default threads), seqkit with its
    defaults (`--threads auto` timed on a fresh cache under the same conditions,
    `impl=auto`'s rule) and seqkit with each fixed (threads, impl)."""
    threads = torch.get_num_threads()
    rows = []
    print(f"training time of one epoch at N={N}, T={t}, D={D}, H={H} (median of {rounds})")
    print(
        f"{'cell':<6}{'neighbour':<10}{'notebook s':>11}{'auto s':>8}{'nb/auto':>9}"
        f"{'best fixed s':>22}{'auto/best':>10}  auto chose (trials)"
    )
    for neighbour in ("idle", "busy"):
        with neighbour_process(neighbour), tempfile.TemporaryDirectory() as cache:
            os.environ[CACHE_ENV] = cache  # measured here, now, once per cell
            for kind in cells:
                rows.append(cell_row(kind, t, rounds, threads, neighbour))
    torch.set_num_threads(threads)
    return rows


def cell_row(kind: str, t: int, rounds: int, threads: int, neighbour: str) -> dict:
    impls = ["fused", "kernels"] if kind != "lstm" else ["fused"]
    fixed = [(n, i) for n in sorted({1, threads}) for i in impls]
    nb: list[float] = []
    auto: list[dict] = []
    pinned: dict[str, list[float]] = {f"{n} thr {i}": [] for n, i in fixed}
    for r in range(rounds):
        # Which of the two goes first alternates, so that neither always runs right
        # after the fixed choices (what a process did last can slow its next epoch).
        for which in ("notebook", "auto") if r % 2 == 0 else ("auto", "notebook"):
            torch.set_num_threads(threads)
            if which == "notebook":
                nb.append(notebook_epoch(kind, t, threads)["train"])
            else:
                auto.append(seqkit_epoch(kind, t))
        for n, i in fixed:
            pinned[f"{n} thr {i}"].append(
                seqkit_epoch(kind, t, threads=n, cell_options={"impl": i})["train"]
            )
    a = float(np.median(nb))
    b = float(np.median([r["train"] for r in auto]))
    # Each round times the notebook and seqkit back to back: the per-round ratio pairs
    # them under the same machine state, which drifts more between rounds than within.
    paired = [n / r["train"] for n, r in zip(nb, auto, strict=True)]
    fixed_s = {k: float(np.median(v)) for k, v in pinned.items()}
    best = min(fixed_s, key=fixed_s.__getitem__)
    first = auto[0]
    print(
        f"{kind:<6}{neighbour:<10}{a:>11.2f}{b:>8.2f}{a / b:>8.2f}x"
        f"  {best:>14} {fixed_s[best]:>5.2f}{b / fixed_s[best]:>9.2f}x"
        f"  {first['chose']} ({first['tuning']}, {first['trial_share']:.2%})",
        flush=True,
    )
    if first["trial_ms"]:  # what the choice was made from, to tell a wrong one from noise
        trials = "  ".join(f"{k}: {v:.1f}" for k, v in first["trial_ms"].items())
        print(f"    trials (ms per step, cut to {first['trial_steps']} steps): {trials}")
    print(
        f"    notebook/auto per round: median {np.median(paired):.2f}x,"
        f" {sum(r >= 1 for r in paired)}/{rounds} rounds at least 1.0x,"
        f" range {min(paired):.2f}-{max(paired):.2f}x"
    )
    return {
        "cell": kind, "T": t, "neighbour": neighbour, "notebook_s": a, "seqkit_auto_s": b,
        "speedup": a / b, "speedup_per_round": paired,
        "fixed_s": fixed_s, "auto_over_best_fixed": b / fixed_s[best],
        "auto_chose": first["chose"], "trial_share": first["trial_share"],
        "trial_ms": first["trial_ms"], "trial_steps": first["trial_steps"],
        "validation_s": float(np.median([r["val"] for r in auto])),
    }  # fmt: skip


def glibc_as_it_is(on: bool) -> Any:
    """A block in which seqkit leaves malloc as it is (SEQKIT_MALLOC=system) with `on`,
    and keeps freed memory (its default) without."""
    return mock.patch.dict(os.environ, {MALLOC_ENV: "system" if on else ""})


def heap_effect(t: int, rounds: int, cells: list[str]) -> list[dict]:
    """Per cell, on an idle machine: the notebook's loop and seqkit's defaults, each with
    glibc's malloc as it is and with the memory a step frees kept for the next, taking
    turns in each round; medians of the epoch's training time and page faults (seqkit's
    with its validation pass). seqkit's threads and kernels are measured once, by the
    first run, and reused from the cache by the others."""
    threads = torch.get_num_threads()
    print(f"\nthe heap: glibc as it is / freed memory kept, N={N}, T={t} (median of {rounds})")
    print(
        f"{'cell':<6}{'loop':<10}{'as is s':>9}{'kept s':>8}{'speed-up':>10}"
        f"{'faults/epoch as is':>20}{'kept':>8}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ[CACHE_ENV] = cache
        for kind in cells:
            runs: dict[tuple[str, bool], list[dict]] = {
                (loop, keep): [] for loop in ("notebook", "seqkit") for keep in (False, True)
            }
            for r in range(rounds):
                for keep in (True, False) if r % 2 == 0 else (False, True):
                    torch.set_num_threads(threads)
                    runs["notebook", keep].append(notebook_epoch(kind, t, threads, keep))
                    with glibc_as_it_is(not keep):
                        runs["seqkit", keep].append(seqkit_epoch(kind, t))
            for loop in ("notebook", "seqkit"):
                s, f = {}, {}
                for keep in (False, True):
                    s[keep] = float(np.median([e["train"] for e in runs[loop, keep]]))
                    f[keep] = float(np.median([e["faults"] for e in runs[loop, keep]]))
                print(
                    f"{kind:<6}{loop:<10}{s[False]:>9.2f}{s[True]:>8.2f}{s[False] / s[True]:>9.2f}x"
                    f"{f[False]:>20,.0f}{f[True]:>8,.0f}",
                    flush=True,
                )
                row = {"cell": kind, "loop": loop, "T": t, "as_is_s": s[False]}
                row |= {"kept_s": s[True], "speedup": s[False] / s[True]}
                rows.append(row | {"faults_as_is": f[False], "faults_kept": f[True]})
    torch.set_num_threads(threads)
    return rows


def profile(t: int) -> dict[str, list]:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    out = {}
    for kind in MODULES:
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            seqkit_epoch(kind, t)
        table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=6)
        print(f"\n{kind}: top operators of one seqkit epoch by self CPU time\n{table}")
        out[kind] = [
            {"op": e.key, "self_cpu_s": e.self_cpu_time_total / 1e6, "calls": e.count}
            for e in sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)[
                :6
            ]
        ]
    return out


CHILD = """
import json, resource, sys, torch, seqkit
from seqkit._run.runner import make_data
from benchmarks.long_sequences import seqkit_settings
kind, t, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(1)
settings = seqkit_settings(kind, t, tbptt=k)
settings["task_options"]["val_samples"] = 1
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
plan = seqkit.plan(seqkit.RunConfig.from_dict(settings))
data = make_data(plan.task, 0, plan.device)  # the data, held before training
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
seqkit.run(**settings)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"base_mb": base / 1024, "peak_mb": peak / 1024}))
"""


def memory(lengths: list[int], chunk: int) -> list[dict]:
    rows = []
    print(f"\npeak memory of one training step above the data (MB), lstm, chunk K={chunk}")
    print(f"{'T':>8}{'full BPTT':>12}{'--tbptt':>10}")
    for t in lengths:
        row: dict = {"T": t}
        for k in (0, chunk):
            res = subprocess.run(
                [sys.executable, "-c", CHILD, "lstm", str(t), str(k)],
                capture_output=True,
                text=True,
                check=True,
            )
            m = json.loads(res.stdout.strip().splitlines()[-1])
            row["tbptt_mb" if k else "full_mb"] = m["peak_mb"] - m["base_mb"]
        print(f"{t:>8}{row['full_mb']:>12.1f}{row['tbptt_mb']:>10.1f}", flush=True)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=200)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--skip", default="", help="comma list of: time, heap, profile, memory")
    parser.add_argument("--cells", default=",".join(MODULES), help="comma list of cells timed")
    args = parser.parse_args()
    lengths = [1000, 5000, 20000] + ([80000] if args.full else [])
    if args.full:
        args.rounds = 5
    skip = set(args.skip.split(","))
    cells = args.cells.split(",")
    if unknown := set(cells) - set(MODULES):
        parser.error(f"--cells: unknown {', '.join(sorted(unknown))}; allowed: rnn, lstm, gru")
    result: dict = {}
    if "memory" not in skip:  # first: after the profiler ran, children measured nothing
        result["memory"] = memory(lengths, args.chunk)
    if "time" not in skip:
        result["epoch_time"] = epoch_times(args.length, args.rounds, cells)
    if "heap" not in skip:
        result["heap"] = heap_effect(args.length, args.rounds, cells)
    if "profile" not in skip:
        # The per-step work is the same at any length; at T=20000 the profiler's own
        # bookkeeping of the GRU's millions of small ops takes minutes.
        result["profile"] = profile(min(args.length, 2000))
    name = "long_sequences" + ("" if set(cells) == set(MODULES) else "-" + "-".join(cells))
    print("\nwritten:", write(name, [result]))  # a subset keeps the whole table's file


if __name__ == "__main__":
    main()
