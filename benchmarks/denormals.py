"""Subnormal floats kept (IEEE) against flushed to zero: one training step per cell.

A step is forward, backward and Adam on one batch, one CPU thread, seqkit's built-in
cells as a run builds them (`impl=auto`), a linear head reading the last step and an MSE
loss. The two modes alternate on the same model (A B A B ..., `common.alternate`); the
figure is the median of the per-round ratios kept / flushed.

    python -m benchmarks.denormals                 # three sizes, 5 rounds
    python -m benchmarks.denormals --rounds 9 --sizes adding200
"""

from __future__ import annotations

import argparse
from typing import Any

import torch
from seqkit_plugins.recurrent import Recurrent

from benchmarks.common import alternate, write
from seqkit._denormals import flushed

SIZES = {  # name: (batch, steps, inputs, hidden)
    "sum": (250, 6, 1, 50),  # the notebook's sum task at seqkit's defaults
    "long": (50, 2000, 10, 5),  # the notebook's long tiny size (section 4 at T=2000)
    "adding200": (50, 200, 2, 128),  # the long-range suite's adding-T=200 entry
}


def training_step(cell: str, size: tuple[int, int, int, int]) -> Any:
    """A closure that takes one training step on fixed data (seeded)."""
    batch, steps, inputs, hidden = size
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = Recurrent(cell, inputs, hidden, impl="auto")
    head = torch.nn.Linear(hidden, 1)
    params = [*model.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(params, lr=2e-3)
    x = torch.randn(batch, steps, inputs, generator=g)
    y = torch.randn(batch, 1, generator=g)

    def step() -> None:
        out, _ = model(x)
        loss = torch.nn.functional.mse_loss(head(out[:, -1]), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help=", ".join(SIZES))
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not torch.set_flush_denormal(False):
        raise SystemExit("this CPU cannot flush subnormals (torch.set_flush_denormal)")
    rows = []
    print(f"{'size':<10} {'cell':<5} {'kept ms':>9} {'flushed ms':>11} {'kept/flushed':>13}")
    for name in args.sizes.split(","):
        for cell in args.cells.split(","):
            step = training_step(cell, SIZES[name])

            def kept(step: Any = step) -> None:
                with flushed(False):
                    step()

            def flush(step: Any = step) -> None:
                with flushed(True):
                    step()

            t_kept, t_flushed, ratio = alternate(kept, flush, rounds=args.rounds)
            ratio = 1 / ratio  # alternate gives flushed / kept
            rows.append(
                {"size": name, "shape": SIZES[name], "cell": cell, "kept_s": t_kept}
                | {"flushed_s": t_flushed, "kept_over_flushed": ratio}
            )
            print(
                f"{name:<10} {cell:<5} {t_kept * 1e3:9.1f} {t_flushed * 1e3:11.1f} {ratio:12.2f}x",
                flush=True,
            )
    path = write("denormals", rows, rounds=args.rounds)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
