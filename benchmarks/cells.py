"""Scratch cells vs torch's fused modules: one training step (forward, backward, Adam).

Ratios are scratch time / fused time, alternated A B A B in this process, median of the
rounds. Sizes: the notebook's (B=100, T=6, D=1, H=50), a compute-bound one (B=64, T=100,
D=32, H=256) and a large one (B=32, T=200, D=64, H=512).

    python -m benchmarks.cells            # one thread, every size
    python -m benchmarks.cells --device cuda
"""

from __future__ import annotations

import argparse

import torch
from seqkit_plugins.recurrent import Recurrent

from benchmarks.common import alternate, write

SIZES = {"notebook": (100, 6, 1, 50), "compute": (64, 100, 32, 256), "large": (32, 200, 64, 512)}


def step_fn(cell: Recurrent, x: torch.Tensor, device: torch.device):
    opt = torch.optim.Adam(cell.parameters())

    def step() -> None:
        out, _ = cell(x)
        out.square().mean().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rows = []
    print(f"{'size':<10}{'cell':<6}{'fused ms':>10}{'scratch ms':>12}{'ratio':>8}")
    for size in args.sizes.split(","):
        b, t, d, h = SIZES[size]
        for kind in ("lstm", "gru", "rnn"):
            torch.manual_seed(0)
            fused = Recurrent(kind, d, h).to(device)
            scratch = Recurrent(kind, d, h, impl="scratch").to(device)
            scratch.load_state_dict(fused.state_dict())
            x = torch.randn(b, t, d, device=device)
            tf, ts, ratio = alternate(
                step_fn(fused, x, device), step_fn(scratch, x, device), rounds=args.rounds
            )
            print(
                f"{size:<10}{kind:<6}{tf * 1e3:>10.2f}{ts * 1e3:>12.2f}{ratio:>7.2f}x", flush=True
            )
            rows.append(
                {
                    "size": size,
                    "B": b,
                    "T": t,
                    "D": d,
                    "H": h,
                    "cell": kind,
                    "fused_s": tf,
                    "scratch_s": ts,
                    "ratio": ratio,
                }
            )
    print("written:", write(f"cells-{device.type}", rows, device=str(device)))


if __name__ == "__main__":
    main()
