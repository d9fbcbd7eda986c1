"""Time to the notebook's quality: the notebook's own recipe vs `seqkit run` defaults.

For each task the notebook's recipe runs as the notebook wrote it (numpy data, full-batch
Adam at lr 1e-3 for 4000 epochs, unscaled targets, the cell swapped where asked), timing
every epoch. Its final training loss is the target. Then `seqkit.run` trains with its
defaults until its validation loss (on held-out data, a stricter test) reaches that
target. The ratio is notebook time / seqkit time. Both run in this process, one after
the other, with the same torch thread count.

With `--budget S` the notebook run stops after S seconds; its time is then a lower
bound and the target is the loss the issue reports for the full recipe (sum: 2.0).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import seqkit

EPOCHS = 4000
KNOWN_FINAL_LOSS = {"sum": 2.0}  # measured for the full 21-minute notebook run
TORCH_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class NotebookModel(nn.Module):
    """The notebook's SimpleRNN / ManyToOne / ManyToMany classes, cell swappable."""

    def __init__(self, cell: str, hidden: int, k: int, last_only: bool) -> None:
        super().__init__()
        self.rnn = TORCH_CELLS[cell](1, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, k)
        self.last_only = last_only

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.fc(out[:, -1, :]) if self.last_only else self.fc(out)


def notebook_data(task: str) -> tuple[torch.Tensor, torch.Tensor, int, int, bool]:
    """X, Y, hidden size, output width, last-step-only: as the notebook builds them."""
    np.random.seed(0)
    if task == "square":
        x = np.random.randint(1, 5, size=(1000, 1, 1))
        y = np.square(x).reshape(-1, 1)
        return _t(x), _t(y), 40, 1, True
    if task == "multiples":
        x = np.random.randint(1, 5, size=(1000, 1, 1))
        y = np.array([[i * j for i in range(1, 11)] for j in x.squeeze()])
        return _t(x), _t(y), 40, 10, True
    if task == "sum":
        x = np.random.randint(1, 15, size=(50000, 6, 1))
        y = np.array([np.sum(s) for s in x]).reshape(-1, 1)
        return _t(x), _t(y), 50, 1, True
    if task == "cumsum":
        x = np.array([[[np.random.randint(0, 31)] for _ in range(5)] for _ in range(3000)])
        y = np.array([np.cumsum(s) for s in x])
        return _t(x), _t(y).view(3000, 5, 1), 60, 1, False
    raise ValueError(task)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a.astype(np.float32))


def run_notebook(task: str, cell: str, budget: float | None) -> dict:
    x, y, hidden, k, last_only = notebook_data(task)
    torch.manual_seed(0)
    model = NotebookModel(cell, hidden, k, last_only)
    criterion, opt = nn.MSELoss(), torch.optim.Adam(model.parameters())
    times, losses = [], []
    start = time.perf_counter()
    for _ in range(EPOCHS):
        model.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
        losses.append(loss.item())
        if budget is not None and times[-1] > budget:
            break
    finished = len(losses) == EPOCHS
    target = losses[-1] if finished else KNOWN_FINAL_LOSS.get(task, losses[-1])
    reached = next((t for t, lo in zip(times, losses, strict=True) if lo <= target), None)
    return {
        "epochs": len(losses),
        "finished": finished,
        "final_loss": losses[-1],
        "target": target,
        "time_to_target": reached,
        "elapsed": times[-1],
    }


class StopAt(seqkit.Callback):
    """Stops training once the validation loss reaches the target; notes the time."""

    def __init__(self, target: float) -> None:
        self.target, self.reached = target, None
        self.start = time.perf_counter()

    def on_fit_start(self, state: seqkit.TrainState) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, state: seqkit.TrainState, record: dict[str, float]) -> None:
        if self.reached is None and record["val_loss"] <= self.target:
            self.reached = time.perf_counter() - self.start
            state.stop = "reached the target"


def run_seqkit(task: str, cell: str, target: float) -> dict:
    stop = StopAt(target)
    result = seqkit.run(cell=cell, task=task, seed=0, device="cpu", callbacks=[stop])
    return {
        "time_to_target": stop.reached,
        "val_loss": result.metrics["val_loss"],
        "best_val_loss": min(r["val_loss"] for r in result.history.epochs),
        "epochs": len(result.history.epochs),
        "examples": result.examples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="square,multiples,cumsum,sum")
    parser.add_argument("--cells", default="rnn")
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds the notebook recipe may run per task (default 120)",
    )
    parser.add_argument(
        "--full", action="store_true", help="all cells and no budget (sum takes ~20 min per cell)"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    cells = ["rnn", "lstm", "gru"] if args.full else args.cells.split(",")
    budget = None if args.full else args.budget

    rows = []
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}"
    )
    header = (
        f"{'task':<10}{'cell':<6}{'target loss':>12}{'notebook s':>12}"
        f"{'seqkit s':>10}{'ratio':>9}  seqkit probe"
    )
    print(header)
    for task in args.tasks.split(","):
        for cell in cells:
            nb = run_notebook(task, cell, budget)
            sk = run_seqkit(task, cell, nb["target"])
            nb_time = nb["time_to_target"] if nb["time_to_target"] is not None else nb["elapsed"]
            bound = "" if nb["time_to_target"] is not None else ">"
            # Cut by --budget with no known full-run loss: the target is the loss at the
            # cut, not the recipe's final loss; marked with * below the table.
            cut = not nb["finished"] and task not in KNOWN_FINAL_LOSS
            ratio = nb_time / sk["time_to_target"] if sk["time_to_target"] else None
            probe = sk["examples"][0]["text"]
            if ratio:
                seqkit_s, verdict = f"{sk['time_to_target']:.2f}", f"{bound}{ratio:.1f}x"
            else:  # its default run ended above the target: say how far it got
                seqkit_s, verdict = "-", f"not reached (best {sk['best_val_loss']:.3g})"
            print(
                f"{task:<10}{cell:<6}{nb['target']:>11.4g}{'*' if cut else ' '}"
                f"{bound + f'{nb_time:.1f}':>12}"
                f"{seqkit_s:>10}{verdict:>9}  {probe}",
                flush=True,
            )
            rows.append(
                {
                    "task": task,
                    "cell": cell,
                    "notebook": nb,
                    "seqkit": sk,
                    "ratio": ratio,
                    "ratio_is_lower_bound": bool(bound),
                    "target_is_loss_at_budget_cut": cut,
                }
            )
    print(
        "* the notebook recipe was cut by --budget: the target is its loss at the cut, "
        "not its final loss; > : the notebook did not reach the target within the budget"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "notebook.json"
    path.write_text(
        json.dumps(
            {"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}, indent=2
        )
    )
    print(f"written: {path}")


if __name__ == "__main__":
    main()
