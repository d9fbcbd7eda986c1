"""The cost of the contract checks `plan()` runs on every run, against the shortest
default run: `python -m benchmarks.plan_checks`.

For each of the notebook's tasks with each built-in cell it times `seqkit.plan()` with
the checks and with them replaced by no-ops (alternated, medians), and one default
`seqkit.run` (no run directory). The figure that matters is the checks' cost as a share
of the shortest default run measured here; the target is under 2%.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator

import torch

import seqkit
from benchmarks.common import alternate, write
from seqkit._contracts import guards as contracts
from seqkit._run import plan as plan_

CHECKS = ("check_factory", "check_task_cheaply", "check_cells_cheaply", "check_model_on_task")


@contextlib.contextmanager
def without_checks() -> Iterator[None]:
    saved = {name: getattr(contracts, name) for name in CHECKS}
    for name in CHECKS:
        setattr(contracts, name, lambda *args, **kwargs: None)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(contracts, name, fn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--tasks", default="toy,square,multiples,sum,cumsum")
    args = parser.parse_args()
    torch.set_num_threads(1)
    assert plan_.contracts is contracts  # what without_checks patches is what plan calls
    rows = []
    for task in args.tasks.split(","):
        for cell in args.cells.split(","):
            config = seqkit.RunConfig(task=task, cell=cell, device="cpu")

            def checked(config: seqkit.RunConfig = config) -> None:
                seqkit.plan(config)

            def unchecked(config: seqkit.RunConfig = config) -> None:
                with without_checks():
                    seqkit.plan(config)

            bare, full, _ = alternate(unchecked, checked, rounds=args.rounds)
            t0 = time.perf_counter()
            seqkit.run(config)
            run_s = time.perf_counter() - t0
            rows.append(
                {
                    "task": task,
                    "cell": cell,
                    "checks_s": full - bare,
                    "plan_s": full,
                    "run_s": run_s,
                }
            )
    shortest = min(rows, key=lambda r: r["run_s"])
    print(f"{'task':<10}{'cell':<6}{'checks ms':>10}{'plan ms':>9}{'run s':>8}{'checks/run':>12}")
    for r in rows:
        print(
            f"{r['task']:<10}{r['cell']:<6}{1e3 * r['checks_s']:>10.2f}{1e3 * r['plan_s']:>9.1f}"
            f"{r['run_s']:>8.2f}{r['checks_s'] / r['run_s']:>12.2%}"
        )
    worst = max(r["checks_s"] for r in rows)
    print(
        f"\nshortest default run: {shortest['cell']} on {shortest['task']}, "
        f"{shortest['run_s']:.2f} s; the costliest checks ({1e3 * worst:.2f} ms) are "
        f"{worst / shortest['run_s']:.2%} of it"
    )
    write("plan_checks", rows, shortest=shortest, worst_checks_s=worst)


if __name__ == "__main__":
    main()
