"""The `ddp` trainer's scaling: samples/s for 1 and 2 processes at a compute-bound size.

LSTM, T=100, D=32, H=256 (the overhead benchmark's compute-bound size), global batch 64:
one process with batch 64, and `--nproc 2` with batch 32 per process (the same steps,
see tests/test_ddp.py), each process on one CPU thread; for reference, one process
with two threads (the other way to use two cores). Each is a `seqkit run` subprocess;
the configurations take turns, round by round, and samples/s is the median over rounds
of the training set size over the mean training time of the epochs after the first.

    python -m benchmarks.ddp                 # 3 rounds, 3 epochs of 1280 sequences
    python -m benchmarks.ddp --full          # 5 rounds, 5 epochs of 3200
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import write

CONFIGS = {
    "1 process, 1 thread": ["--trainer", "ddp", "--batch-size", "64", "--threads", "1"],
    "2 processes, 1 thread each": [
        "--trainer", "ddp", "--nproc", "2", "--batch-size", "32", "--threads", "1",
    ],
    "1 process, 2 threads": ["--trainer", "ddp", "--batch-size", "64", "--threads", "2"],
}  # fmt: skip


def samples_per_s(args: list[str], n: int, epochs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "seqkit", "run", "--cell", "lstm", "--task", "meansign",
               "--hidden-size", "256", "--task-opt", "seq_len=100", "--task-opt", "input_size=32",
               "--task-opt", f"num_samples={n}", "--task-opt", "val_samples=64",
               "--epochs", str(epochs), "--out", str(out), "-q", *args]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1200)
        records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    times = [r["train_time"] for r in records[1:]] or [records[0]["train_time"]]
    return n / statistics.mean(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    n, epochs = (3200, 5) if args.full else (1280, 3)
    if args.full:
        args.rounds = 5
    rates: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for r in range(args.rounds):
        order = list(CONFIGS) if r % 2 == 0 else list(reversed(CONFIGS))
        for name in order:
            rates[name].append(samples_per_s(CONFIGS[name], n, epochs))
    base = statistics.median(rates["1 process, 1 thread"])
    print(f"LSTM T=100 D=32 H=256, global batch 64, median of {args.rounds} rounds")
    print(f"{'configuration':<30}{'samples/s':>11}{'vs 1 process':>14}")
    rows = []
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"{name:<30}{rate:>11.0f}{rate / base:>13.2f}x")
        rows.append({"configuration": name, "samples_per_s": rate, "scaling": rate / base})
    print("written:", write("ddp", rows, sequences=n, epochs=epochs))


if __name__ == "__main__":
    main()
