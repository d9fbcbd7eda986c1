"""Training-step throughput of each built-in cell against the hardware's matmul rate.

For each cell and size: one training step (forward, backward, Adam) of seqkit's cell
(`impl=fused`, `auto` and `scratch`) and of torch's bare module, as sequences/s and as
achieved GFLOP/s, counting the forward pass's matmul FLOPs
(2 B T (D + H) G H per layer, G gates) times 3 for the step, over a `torch.mm` rate
measured in the same run. At the long tiny size the time per timestep is also shown.
The bare module and seqkit's cell are alternated A B in this process; `vs torch` is the
median ratio of their step times (1.00: seqkit costs nothing on top).

    python -m benchmarks.hardware               # one thread, notebook/compute/long sizes
    python -m benchmarks.hardware --full        # adds the large size, more rounds
    python -m benchmarks.hardware --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from seqkit_plugins.recurrent import TORCH_MODULES, Recurrent
from torch import nn

from benchmarks.cells import step_fn
from benchmarks.common import alternate, write

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
SIZES = {
    "notebook": (100, 6, 1, 50),
    "compute": (64, 100, 32, 256),
    "long": (50, 2000, 10, 5),
    "large": (32, 200, 64, 512),
}


def mm_rate(device: torch.device, n: int = 1024, repeats: int = 9) -> float:
    """GFLOP/s of an (n, n) @ (n, n) float32 matmul, median of `repeats`."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    times = []
    for _ in range(repeats + 2):
        t0 = time.perf_counter()
        torch.mm(a, b)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times[2:]) / 1e9


def step_flops(kind: str, b: int, t: int, d: int, h: int) -> float:
    """Matmul FLOPs of one training step: 3 x the forward's 2 B T (D + H) G H."""
    return 3 * 2 * b * t * (d + h) * GATES[kind] * h


class Bare(nn.Module):
    """torch's module as a user would call it, for the `vs torch` column."""

    def __init__(self, kind: str, d: int, h: int) -> None:
        super().__init__()
        self.rnn = TORCH_MODULES[kind](d, h, batch_first=True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, object]:
        return self.rnn(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sizes", default="notebook,compute,long")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="every size, 9 rounds")
    args = parser.parse_args()
    if args.full:
        args.sizes, args.rounds = ",".join(SIZES), 9
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rate = mm_rate(device)
    print(f"torch.mm rate on {device}, {args.threads} thread(s): {rate:.1f} GFLOP/s\n")
    head = f"{'size':<9}{'cell':<6}{'impl':<8}{'ms/step':>9}{'seq/s':>9}{'GFLOP/s':>9}"
    print(head + f"{'of mm':>7}{'us/step t':>10}{'vs torch':>9}")
    rows = []
    for size in args.sizes.split(","):
        b, t, d, h = SIZES[size]
        x = torch.randn(b, t, d, device=device)
        for kind in ("lstm", "gru", "rnn"):
            torch.manual_seed(0)
            bare = Bare(kind, d, h).to(device)
            for impl in ("fused", "auto", "scratch"):
                cell = Recurrent(kind, d, h, impl=impl).to(device)
                cell.load_state_dict(bare.state_dict())
                t_bare, t_cell, ratio = alternate(
                    step_fn(bare, x, device),  # type: ignore[arg-type]
                    step_fn(cell, x, device),
                    rounds=args.rounds,
                    warmup=1,
                )
                gflops = step_flops(kind, b, t, d, h) / t_cell / 1e9
                row = {
                    "size": size, "B": b, "T": t, "D": d, "H": h, "cell": kind, "impl": impl,
                    "step_s": t_cell, "torch_step_s": t_bare, "seq_per_s": b / t_cell,
                    "gflops": gflops, "fraction_of_mm": gflops / rate,
                    "us_per_timestep": t_cell / t * 1e6, "vs_torch": ratio,
                }  # fmt: skip
                rows.append(row)
                print(
                    f"{size:<9}{kind:<6}{impl:<8}{t_cell * 1e3:>9.2f}{b / t_cell:>9.0f}"
                    f"{gflops:>9.2f}{gflops / rate:>7.1%}{t_cell / t * 1e6:>10.1f}"
                    f"{ratio:>8.2f}x",
                    flush=True,
                )
    path = write(f"hardware-{device.type}", rows, device=str(device), mm_gflops=rate)
    print("\nwritten:", path)


if __name__ == "__main__":
    main()
