"""Data generation: samples per second of every built-in task's vectorised generator,
and for the notebook's tasks the ratio against the notebook's own numpy and
list-comprehension code for the same data (best of several repeats, same process).

    python -m benchmarks.data
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

import seqkit
from benchmarks.common import write

N = 20_000


def notebook_square() -> None:
    x = np.random.randint(1, 5, size=(N, 1, 1))
    np.square(x)


def notebook_multiples() -> None:
    x = np.random.randint(1, 5, size=(N, 1, 1))
    np.array([[i * j for i in range(1, 11)] for j in x.squeeze()])


def notebook_sum() -> None:
    x = np.random.randint(1, 15, size=(N, 6, 1))
    np.array([np.sum(s) for s in x])


def notebook_cumsum() -> None:
    x = np.array([[[np.random.randint(0, 31)] for _ in range(5)] for _ in range(N)])
    np.array([np.cumsum(s) for s in x])


def notebook_meansign() -> None:
    x = np.random.randn(N // 10, 50, 10)  # the same T=50, D=10 as seqkit's default
    np.array([1 if s.mean() > 0 else 0 for s in x])


NOTEBOOK: dict[str, tuple[Callable[[], None], int]] = {
    "square": (notebook_square, N),
    "multiples": (notebook_multiples, N),
    "sum": (notebook_sum, N),
    "cumsum": (notebook_cumsum, N),
    "meansign": (notebook_meansign, N // 10),
}


def best_of(fn: Callable[[], None], repeats: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    print(f"{'task':<11}{'seqkit samples/s':>18}{'notebook samples/s':>20}{'speed-up':>10}")
    for entry in seqkit.list_tasks():
        task = seqkit.get_task(entry.name)
        n = NOTEBOOK.get(entry.name, (None, N // 10))[1]
        gen = torch.Generator().manual_seed(0)
        ours = n / best_of(lambda t=task, k=n, g=gen: t.generate(k, g, torch.device("cpu")))
        row = {"task": entry.name, "samples": n, "seqkit_per_s": ours}
        line = f"{entry.name:<11}{ours:>18,.0f}"
        if entry.name in NOTEBOOK:
            fn, _ = NOTEBOOK[entry.name]
            theirs = n / best_of(fn)
            row |= {"notebook_per_s": theirs, "speedup": ours / theirs}
            line += f"{theirs:>20,.0f}{ours / theirs:>9.1f}x"
        print(line, flush=True)
        rows.append(row)
    print("written:", write("data", rows))


if __name__ == "__main__":
    main()
