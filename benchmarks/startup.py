"""How long the commands take before they do anything: `python -m benchmarks.startup`.

Each command runs as a fresh process, the rows taking turns within each round, and the
medians are compared with a baseline measured in the same rounds: `python -c "import
click"` for the commands that do not train, `python -c "import torch"` for the fixed
overhead of the README's main job (its wall time minus the training time its own
summary reports). Targets (issue 12): `--help` within 1.5x and `list` within 3x of
`import click`; the main job's overhead within 1.3x of `import torch`.

The commands run as a user's do, with their bytecode cached: PYTHONDONTWRITEBYTECODE is
dropped for them, so the first round (not counted) writes `__pycache__` (gitignored)
beside seqkit's sources, as any first run does. With it set, every process would compile
seqkit's modules again, which no installed seqkit does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import write

PY = sys.executable
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ROWS = {
    "import click": [PY, "-c", "import click"],
    "seqkit --help": [PY, "-m", "seqkit", "--help"],
    "seqkit list": [PY, "-m", "seqkit", "list"],
    "seqkit run --help": [PY, "-m", "seqkit", "run", "--help"],
    "seqkit describe lstm": [PY, "-m", "seqkit", "describe", "lstm"],
    "import torch": [PY, "-c", "import torch"],
    # torch's optimizers import torch._dynamo when first built: a fixed cost inside every
    # run's training time (and the notebook's), shown here against `import torch`.
    "import torch + first optimizer": [
        PY,
        "-c",
        "import torch; torch.optim.Adam([torch.zeros(1, requires_grad=True)])",
    ],
}


def timed(command: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=ENV).stdout
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in [*ROWS, "main job overhead"]}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds + 1):  # the first round warms the disk cache
            for name, command in ROWS.items():
                seconds, _ = timed(command)
                if i:
                    times[name].append(seconds)
            run = [PY, "-m", "seqkit", "run", "--cell", "gru", "--task", "sum", "--json"]
            seconds, out = timed([*run, "--quiet", "--out", str(Path(tmp) / f"r{i}")])
            if i:
                summary = json.loads(out.strip().splitlines()[-1])
                times["main job overhead"].append(seconds - summary["train_time_s"])
    median = {name: statistics.median(ts) for name, ts in times.items()}
    baseline = {name: "import click" for name in median} | {
        "main job overhead": "import torch",
        "import torch + first optimizer": "import torch",
        "import torch": "import click",
    }
    rows = [
        {
            "command": name,
            "median_s": median[name],
            "baseline": baseline[name],
            "ratio": median[name] / median[baseline[name]],
        }
        for name in median
        if name != "import click"
    ]
    print(f"{'command':<24}{'median s':>10}  {'ratio':>7}  baseline")
    print(f"{'import click':<24}{median['import click']:>10.3f}")
    for r in rows:
        print(f"{r['command']:<24}{r['median_s']:>10.3f}  {r['ratio']:>6.2f}x  {r['baseline']}")
    write("startup", rows, rounds=args.rounds, import_click_s=median["import click"])


if __name__ == "__main__":
    main()
