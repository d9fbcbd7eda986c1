"""Your own data (issue 30): training throughput and memory of the data-backed tasks,
each as a ratio against a baseline measured in the same command.

1. A character-level LSTM (H=256, 2 layers, seq_len 100, batch 64) on a 5 MB text:
   characters per second of `seqkit.run` (the `text` task) against a plain PyTorch
   char-rnn loop written here with the same model (one-hot inputs, `nn.LSTM`, a linear
   head, Adam), over the same number of steps after a warm-up, the two taking turns in
   fresh processes; and each process's peak memory (VmHWM).
2. Reading a 100 MB text as token ids: the memory the reading takes (VmHWM after it,
   less VmRSS before) against the size of the int64 id array it makes.
3. A 1e6-row CSV as a `series` task with `input_len=100`: the memory the reading and
   windowing take against the float32 array of the CSV's values (windows are views).

    python -m benchmarks.own_data              # 5 MB text, 3 rounds; 100 MB; 1e6 rows
    python -m benchmarks.own_data --quick      # smaller files, 1 round (a dry run)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import write

WORD_TEXT = (
    "the of and to in a is that for it as was with be by on not he I this are or his "
    "from at which but have an they you were her she there one all we their has been "
    "동해 물과 백두산이 마르고 닳도록 하느님이 보우하사 우리나라 만세 ROMEO JULIET"
)
WORDS = WORD_TEXT.split()


def make_text(path: Path, megabytes: float, seed: int = 0) -> Path:
    """Words drawn at random, in lines, until the file holds `megabytes` MB."""
    rng = np.random.default_rng(seed)
    target = int(megabytes * 1e6)
    with open(path, "w", encoding="utf-8") as f:
        written = 0
        while written < target:
            line = " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), 12)) + ".\n"
            f.write(line)
            written += len(line.encode())
    return path


def make_csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    values = np.stack(
        [np.sin(t / 24) + rng.normal(0, 0.1, rows), np.cos(t / 50) + rng.normal(0, 0.1, rows)], 1
    )
    np.savetxt(path, values, delimiter=",", header="a,b", comments="", fmt="%.4f")
    return path


MEMORY = """
def vm(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
"""

SEQKIT_LOOP = (
    MEMORY
    + """
import json, sys, time
import seqkit
path, steps, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

class Timer(seqkit.Callback):
    def __init__(self):
        self.seen, self.start, self.end = 0, None, None
    def on_step_end(self, state):
        self.seen += 1
        if self.seen == warmup:
            self.start = time.perf_counter()
        if self.seen == warmup + steps:
            self.end = time.perf_counter()
            state.interrupt = "enough steps"

timer = Timer()
try:
    seqkit.run(cell="lstm", data=seqkit.from_text(path, seq_len=100), hidden_size=256,
               cell_options={"num_layers": 2}, batch_size=64, epochs=1, lr=2e-3,
               device="cpu", quiet=True, callbacks=[timer])
except seqkit.SeqkitError:
    pass  # interrupted after the timed steps, as asked
print(json.dumps({"seconds": timer.end - timer.start, "peak": vm("VmHWM")}))
"""
)

PLAIN_LOOP = (
    MEMORY
    + """
import json, sys, time
import torch
from torch import nn
import torch.nn.functional as F
path, steps, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
text = open(path, encoding="utf-8").read()
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
ids = torch.tensor([index[c] for c in text], dtype=torch.long)
del text
V, T, B = len(chars), 100, 64
n = (int(len(ids) * 0.9) - 1) // T
x, y = ids[: n * T].view(n, T), ids[1 : n * T + 1].view(n, T)

class CharRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(V, 256, num_layers=2, batch_first=True)
        self.head = nn.Linear(256, V)
    def forward(self, x):
        return self.head(self.lstm(F.one_hot(x, V).float())[0])

torch.manual_seed(0)
model = CharRNN()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
order = torch.randperm(n)
for step in range(warmup + steps):
    if step == warmup:
        start = time.perf_counter()
    pick = order[(step * B) % n : (step * B) % n + B]
    loss = F.cross_entropy(model(x[pick]).reshape(-1, V), y[pick].reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
print(json.dumps({"seconds": time.perf_counter() - start, "peak": vm("VmHWM")}))
"""
)

READ_TEXT = (
    MEMORY
    + """
import json, sys
import numpy, torch, seqkit, seqkit_plugins.text_data  # imported before, not counted
before = vm("VmRSS")
task = seqkit.get_task("text", path=sys.argv[1], seq_len=100)
splits = task.splits
n = sum(s[0].numel() for s in (splits.train, splits.val, splits.test))
print(json.dumps({"ids_bytes": task.splits.train[1].untyped_storage().nbytes(),
                  "taken": vm("VmHWM") - before}))
"""
)

READ_CSV = (
    MEMORY
    + """
import json, sys
import numpy, torch, seqkit, seqkit_plugins.series_data  # imported before, not counted
before = vm("VmRSS")
task = seqkit.get_task("series", path=sys.argv[1], input_len=100)
x, y = task.splits.train
shared = x.untyped_storage().data_ptr() == y.untyped_storage().data_ptr()
print(json.dumps({"taken": vm("VmHWM") - before, "views": shared, "windows": x.shape[0]}))
"""
)


def python(script: str, *args: Any) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def char_rnn(text: Path, rounds: int, steps: int, warmup: int) -> dict[str, Any]:
    chars = len(text.read_text(encoding="utf-8"))
    per_step = 64 * 100
    seq, plain = [], []
    for _ in range(rounds):  # taking turns: A B A B ...
        seq.append(python(SEQKIT_LOOP, text, steps, warmup))
        plain.append(python(PLAIN_LOOP, text, steps, warmup))
    ratios = [p["seconds"] / s["seconds"] for s, p in zip(seq, plain, strict=True)]
    return {
        "text_chars": chars,
        "steps_timed": steps,
        "seqkit_chars_per_s": statistics.median(steps * per_step / s["seconds"] for s in seq),
        "plain_chars_per_s": statistics.median(steps * per_step / p["seconds"] for p in plain),
        "throughput_ratio": statistics.median(ratios),
        "seqkit_peak_mib": statistics.median(s["peak"] for s in seq) / 2**20,
        "plain_peak_mib": statistics.median(p["peak"] for p in plain) / 2**20,
        "memory_ratio": statistics.median(
            s["peak"] / p["peak"] for s, p in zip(seq, plain, strict=True)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small files, one round")
    args = parser.parse_args()
    rounds, steps, warmup = (1, 10, 3) if args.quick else (3, 40, 5)
    text_mb, big_mb, csv_rows = (1, 10, 100_000) if args.quick else (5, 100, 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rnn = char_rnn(make_text(root / "small.txt", text_mb), rounds, steps, warmup)
        print(
            f"char LSTM on {text_mb} MB: seqkit {rnn['seqkit_chars_per_s']:,.0f} chars/s, "
            f"plain {rnn['plain_chars_per_s']:,.0f} chars/s, ratio {rnn['throughput_ratio']:.2f}x; "
            f"peak memory {rnn['seqkit_peak_mib']:.0f} vs {rnn['plain_peak_mib']:.0f} MiB "
            f"({rnn['memory_ratio']:.2f}x)"
        )
        big = python(READ_TEXT, make_text(root / "big.txt", big_mb, seed=1))
        big["ratio"] = big["taken"] / big["ids_bytes"]
        print(
            f"reading {big_mb} MB of text: {big['taken'] / 2**20:.0f} MiB taken for "
            f"{big['ids_bytes'] / 2**20:.0f} MiB of ids ({big['ratio']:.2f}x)"
        )
        series = python(READ_CSV, make_csv(root / "rows.csv", csv_rows))
        series["values_bytes"] = csv_rows * 2 * 4  # float32, two columns
        series["ratio"] = series["taken"] / series["values_bytes"]
        print(
            f"a {csv_rows:,}-row CSV, input_len 100: {series['taken'] / 2**20:.0f} MiB taken "
            f"for {series['values_bytes'] / 2**20:.1f} MiB of values ({series['ratio']:.2f}x), "
            f"{series['windows']:,} training windows, views: {series['views']}"
        )
    write(
        "own_data",
        [{"what": "char_rnn", **rnn}, {"what": "read_text", **big}, {"what": "read_csv", **series}],
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
