"""Subnormal floats kept (IEEE, `flush_denormals=False`) against flushed to zero (the
default): the training time of the same short `seqkit.run`, per cell and task.

Each figure is a real run's training time (data drawn from the task, one CPU thread,
seqkit's defaults otherwise), the two modes alternating (A B A B ..., after one untimed run)
from the same seed; the ratio is the median of the per-round ratios kept / flushed. How
many subnormals a step meets depends on the weights and the data, so the sizes are the
tasks themselves, not random tensors.

    python -m benchmarks.denormals                 # three sizes, 3 rounds
    python -m benchmarks.denormals --rounds 5 --sizes adding200
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

import torch

import seqkit
from benchmarks.common import write

SIZES: dict[str, dict[str, Any]] = {
    # the notebook's sum task at seqkit's defaults, 4 epochs of 2,000 sequences
    "sum": dict(task="sum", epochs=4, task_options={"num_samples": 2000}),
    # the notebook's section 4 (N=50, D=10, H=5) at T=2000, full batch, 5 epochs
    "long": dict(
        task="meansign",
        trainer="fullbatch",
        hidden_size=5,
        lr=5e-3,
        epochs=5,
        task_options={"num_samples": 50, "seq_len": 2000, "val_samples": 10},
    ),
    # the long-range suite's adding-T=200 entry, 40 of its 8,000 steps
    "adding200": dict(
        task="adding",
        hidden_size=128,
        lr=2e-3,
        batch_size=50,
        grad_clip=1.0,
        epochs=2,
        task_options={"seq_len": 200, "num_samples": 1000, "val_samples": 100},
    ),
}


def train_time(cell: str, size: str, flush: bool) -> float:
    """Seconds the run spent training (not drawing data, building or scoring)."""
    settings = SIZES[size] | {"cell": cell, "device": "cpu", "threads": 1}
    result = seqkit.run(**settings, flush_denormals=flush, quiet=True)
    return result.train_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help=", ".join(SIZES))
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not torch.set_flush_denormal(False):
        raise SystemExit("this CPU cannot flush subnormals (torch.set_flush_denormal)")
    rows = []
    print(f"{'size':<10} {'cell':<5} {'kept s':>8} {'flushed s':>10} {'kept/flushed':>13}")
    for size in args.sizes.split(","):
        for cell in args.cells.split(","):
            train_time(cell, size, flush=False)  # warm-up: imports, first allocations
            pairs = [
                (train_time(cell, size, flush=False), train_time(cell, size, flush=True))
                for _ in range(args.rounds)
            ]
            ratio = statistics.median(k / f for k, f in pairs)
            t_kept = statistics.median(k for k, _ in pairs)
            t_flushed = statistics.median(f for _, f in pairs)
            rows.append(
                {"size": size, "cell": cell, "kept_s": t_kept, "flushed_s": t_flushed}
                | {"kept_over_flushed": ratio, "settings": SIZES[size]}
            )
            print(f"{size:<10} {cell:<5} {t_kept:8.2f} {t_flushed:10.2f} {ratio:12.2f}x")
    path = write("denormals", rows, rounds=args.rounds, threads_per_run=1)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
