"""What pruning saves in a tuning study: the same study (task, space, trials, sampler
seed) with the median pruner and without, run one after the other in this process's
machine. Prints each study's epochs trained, wall time and best mean validation loss,
and the ratios (pruned / unpruned). Numbers are this machine's; rerun to compare.

    python benchmarks/tune_pruning.py [--trials 16] [--epochs 20]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import seqkit


def study(pruner: str, trials: int, epochs: int, root: Path) -> tuple[int, float, float]:
    start = time.perf_counter()
    result = seqkit.tune(
        cell="gru",
        task="sum",
        epochs=epochs,
        task_options={"num_samples": 2000, "val_samples": 500},
        space={"lr": "1e-5:1e-1:log", "hidden_size": "4:32:int"},
        trials=trials,
        seeds=1,
        pruner=pruner,
        out=root / pruner,
    )
    assert result.best is not None
    return result.epochs_trained, time.perf_counter() - start, result.best["value"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = {p: study(p, args.trials, args.epochs, Path(tmp)) for p in ("none", "median")}
    print(f"gru on sum, {args.trials} trials of up to {args.epochs} epochs, TPE seed 0")
    print(f"{'pruner':<8}{'epochs':>8}{'wall s':>9}  best val loss")
    for name, (epochs, wall, best) in rows.items():
        print(f"{name:<8}{epochs:>8}{wall:>9.1f}  {best:.4g}")
    (e0, w0, b0), (e1, w1, b1) = rows["none"], rows["median"]
    print(f"pruned / unpruned: epochs {e1 / e0:.2f}, wall time {w1 / w0:.2f}, best {b1 / b0:.2f}")


if __name__ == "__main__":
    main()
