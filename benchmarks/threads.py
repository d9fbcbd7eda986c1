"""One CPU thread against two for a training step, on an idle machine and beside a busy
neighbour (a second process multiplying matrices on one core), at three sizes.

Ratios are two-thread time / one-thread time, alternated in this process, median of the
rounds: above 1 means the second thread costs more than it gives.

    python -m benchmarks.threads
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time

import torch
from seqkit_plugins.recurrent import Recurrent

from benchmarks.common import write

SIZES = {  # cell, B, T, D, H
    "notebook sum (gru)": ("gru", 250, 6, 1, 50),
    "long tiny (rnn, T=2000)": ("rnn", 50, 2000, 10, 5),
    "compute (lstm, H=256)": ("lstm", 64, 100, 32, 256),
}


def busy(stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    torch.set_num_threads(1)
    a = torch.randn(256, 256)
    while not stop.is_set():
        a = (a @ a).tanh()


def step_time(cell: Recurrent, x: torch.Tensor, threads: int, reps: int) -> float:
    torch.set_num_threads(threads)
    opt = torch.optim.Adam(cell.parameters())
    t0 = time.perf_counter()
    for _ in range(reps):
        out, _ = cell(x)
        out.square().mean().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return (time.perf_counter() - t0) / reps


def measure(kind: str, b: int, t: int, d: int, h: int, rounds: int) -> tuple[float, float]:
    cell = Recurrent(kind, d, h)
    x = torch.randn(b, t, d)
    reps = 3 if t * h > 10_000 else 20
    step_time(cell, x, 1, 1)
    ratios, ones = [], []
    for _ in range(rounds):
        one = step_time(cell, x, 1, reps)
        two = step_time(cell, x, 2, reps)
        ones.append(one)
        ratios.append(two / one)
    return statistics.median(ones), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    print(f"{'size':<26}{'neighbour':<11}{'1 thread ms':>12}{'2 / 1':>8}")
    for neighbour in ("idle", "busy"):
        stop = multiprocessing.Event()
        proc = None
        if neighbour == "busy":
            proc = multiprocessing.Process(target=busy, args=(stop,), daemon=True)
            proc.start()
            time.sleep(0.5)
        try:
            for name, (kind, b, t, d, h) in SIZES.items():
                one, ratio = measure(kind, b, t, d, h, args.rounds)
                print(f"{name:<26}{neighbour:<11}{one * 1e3:>12.2f}{ratio:>7.2f}x", flush=True)
                rows.append(
                    {
                        "size": name,
                        "neighbour": neighbour,
                        "one_thread_s": one,
                        "two_over_one": ratio,
                    }
                )
        finally:
            stop.set()
            if proc is not None:
                proc.join(timeout=5)
    print("seqkit's default: 1 thread below hidden size 256, torch's default above")
    print("written:", write("threads", rows))


if __name__ == "__main__":
    main()
