"""The whole benchmark suite, one benchmark after another: `python -m benchmarks`.

Each benchmark prints its table and writes its JSON under benchmarks/results/. The
default sizes are trimmed to finish in minutes (6 min 11 s on a 2-core CPU);
`--full` runs every benchmark at its own full size (an hour or more: the notebook's sum
recipe alone runs ~20 minutes per cell). Run it on an otherwise idle machine.

    python -m benchmarks                        # every benchmark, trimmed
    python -m benchmarks --only overhead,ddp    # some of them
    python -m benchmarks --full
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

TRIMMED = {
    "overhead": ["--rounds", "3"],
    "hardware": ["--sizes", "notebook,compute,long", "--rounds", "3"],
    "notebook": ["--tasks", "square,multiples,cumsum,sum", "--budget", "60"],
    "data": [],
    "threads": ["--rounds", "3"],
    "long_sequences": ["--length", "5000", "--rounds", "1"],
    "ddp": ["--rounds", "1"],
    "cells": ["--sizes", "notebook,compute", "--rounds", "3"],
    "plan_checks": ["--rounds", "3"],
    "startup": ["--rounds", "3"],
    "denormals": ["--rounds", "3"],
    "own_data": ["--quick"],
}
FULL = {
    "overhead": [],
    "hardware": ["--full"],
    "notebook": ["--full"],
    "data": [],
    "threads": [],
    "long_sequences": ["--full"],
    "ddp": ["--full"],
    "cells": [],
    "plan_checks": [],
    "startup": [],
    "denormals": ["--rounds", "9"],
    "own_data": [],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="every benchmark at full size")
    parser.add_argument("--only", default=",".join(TRIMMED), help="comma-separated names")
    args = parser.parse_args()
    plan = FULL if args.full else TRIMMED
    names = args.only.split(",")
    unknown = sorted(set(names) - set(plan))
    if unknown:
        sys.exit(f"unknown benchmark '{unknown[0]}'; benchmarks: {', '.join(plan)}")
    failed = []
    for name in names:
        print(f"\n=== benchmarks.{name} {' '.join(plan[name])}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", f"benchmarks.{name}", *plan[name]])
        print(f"=== {name}: {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
