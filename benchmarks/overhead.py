"""seqkit's trainer against a hand-written PyTorch loop doing the same work, and the cost
of the gradient diagnostics when on.

Same assembled model (a fresh copy per run), same data, the same shuffled batches in
the same order, Adam with the same cosine schedule, a validation pass per epoch: A is
the plain loop, B is `minibatch` without callbacks, C is `minibatch` with the gradient
probe recording at init and end (and tracking per-step norms). Alternated A B C A B C
in this process; the medians of per-round ratios are reported.

    python -m benchmarks.overhead
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import time

import torch
from torch import nn

import seqkit
from benchmarks.common import write
from seqkit._run.runner import make_data
from seqkit._train.probe import GradientProbe

CASES = {
    "notebook sum, gru H=50": dict(
        task="sum", cell="gru", epochs=1, task_options={"num_samples": 10000}
    ),
    "lstm B=64 T=100 D=32 H=256": dict(
        task="meansign",
        cell="lstm",
        hidden_size=256,
        batch_size=64,
        epochs=1,
        task_options={"num_samples": 640, "seq_len": 100, "input_size": 32, "val_samples": 64},
    ),
}


def plain_loop(
    model: nn.Module, data: seqkit.Data, task: seqkit.Task, config: seqkit.RunConfig
) -> None:
    """What a careful user would write by hand for the same training."""
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    n, bs = data.train_x.shape[0], config.batch_size
    per_epoch = math.ceil(n / bs)
    total = per_epoch * config.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
    )
    gen = torch.Generator().manual_seed(config.seed + 1)
    for _ in range(config.epochs):
        model.train()
        running = torch.zeros(())
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, bs):
            idx = order[i : i + bs]
            loss = task.loss(model(data.train_x[idx]), data.train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += loss.detach()
        float(running / per_epoch)
        model.eval()
        with torch.no_grad():
            out = model(data.val_x)
            values = [task.loss(out, data.val_y), *task.metrics(out, data.val_y).values()]
            torch.stack(values).tolist()


def measure(settings: dict, rounds: int) -> tuple[float, float, float]:
    """Median plain-loop seconds, seqkit / plain, and probe-on / probe-off."""
    the_plan = seqkit.plan(seqkit.RunConfig(device="cpu", **settings))
    config, task = the_plan.config, the_plan.task
    data = make_data(task, config.seed, the_plan.device)
    model = the_plan.initial_model(data.train_x, data.train_y)
    trainer = the_plan.trainer
    runs = {
        "plain": lambda: plain_loop(copy.deepcopy(model), data, task, config),
        "seqkit": lambda: trainer.fit(copy.deepcopy(model), data, task, config, []),
        "probe": lambda: trainer.fit(
            copy.deepcopy(model), data, task, config, [GradientProbe(every=0)]
        ),
    }
    for fn in runs.values():
        fn()
    times: dict[str, list[float]] = {key: [] for key in runs}
    for _ in range(rounds):
        for key, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    seqkit_ratio = statistics.median(
        b / a for a, b in zip(times["plain"], times["seqkit"], strict=True)
    )
    probe_ratio = statistics.median(
        c / b for b, c in zip(times["seqkit"], times["probe"], strict=True)
    )
    return statistics.median(times["plain"]), seqkit_ratio, probe_ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    print(f"{'case':<30}{'plain ms':>10}{'seqkit':>9}{'+probe':>9}")
    for name, settings in CASES.items():
        plain_s, seqkit_ratio, probe_ratio = measure(settings, args.rounds)
        print(
            f"{name:<30}{plain_s * 1e3:>10.1f}{seqkit_ratio:>8.3f}x{probe_ratio:>8.3f}x", flush=True
        )
        rows.append(
            {
                "case": name,
                "plain_s": plain_s,
                "seqkit_over_plain": seqkit_ratio,
                "probe_over_seqkit": probe_ratio,
            }
        )
    print(
        "seqkit: the minibatch trainer / the plain loop; +probe: with GradientProbe / "
        "without (two gradient-flow records plus per-step norms)"
    )
    print("written:", write("overhead", rows))


if __name__ == "__main__":
    main()
