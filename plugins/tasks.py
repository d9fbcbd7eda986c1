"""Built-in tasks: the teaching notebook's experiments (`seqkit_plugins.notebook`) and the
classic long-range memory tasks (`seqkit_plugins.long_range`), registered here with
their options; each task's module is imported, with torch, when the task is first built.
"""

from __future__ import annotations

from typing import Any

from seqkit import Option, hookimpl, lazy, sample_options

SEQKIT_API = 1
"""The seqkit plugin API this plugin is written for."""

OPTIONS: dict[str, dict[str, Option]] = {
    "toy": {
        **sample_options(1000),
        "seq_len": Option(3, "steps", min=1, max=10_000),
        "input_size": Option(2, "numbers per step", min=1, max=10_000),
        "max_start": Option(20, "largest first number", min=0, max=1_000_000),
    },
    "square": {
        **sample_options(1000),
        "low": Option(1, "smallest x", min=-1_000_000, max=1_000_000),
        "high": Option(4, "largest x", min=-1_000_000, max=1_000_000),
    },
    "multiples": {
        **sample_options(1000),
        "low": Option(1, "smallest x", min=-1_000_000, max=1_000_000),
        "high": Option(4, "largest x", min=-1_000_000, max=1_000_000),
        "count": Option(10, "how many multiples", min=1, max=10_000),
    },
    "sum": {
        **sample_options(50_000, 1000),
        "seq_len": Option(6, "numbers per sequence", min=1, max=1_000_000),
        "low": Option(1, "smallest number", min=-1_000_000, max=1_000_000),
        "high": Option(14, "largest number", min=-1_000_000, max=1_000_000),
    },
    "cumsum": {
        **sample_options(3000),
        "seq_len": Option(5, "numbers per sequence", min=1, max=1_000_000),
        "low": Option(0, "smallest number", min=-1_000_000, max=1_000_000),
        "high": Option(30, "largest number", min=-1_000_000, max=1_000_000),
    },
    "meansign": {
        **sample_options(10_000),
        "seq_len": Option(50, "steps", min=1, max=10_000_000),
        "input_size": Option(10, "features per step", min=1, max=100_000),
    },
    "adding": {
        **sample_options(5000, 1000),
        "seq_len": Option(100, "sequence length T", min=2, max=1_000_000),
        "variant": Option(
            "arjovsky2016",
            "arjovsky2016: values U[0,1], one marker per "
            "half; hochreiter1997: values U[-1,1], first marker in the first "
            "ten, target 0.5 + (X1 + X2) / 4",
            choices=("arjovsky2016", "hochreiter1997"),
        ),
    },
    "copy": {
        **sample_options(5000, 500),
        "seq_len": Option(
            50, "blanks between the symbols and their recall (T)", min=1, max=1_000_000
        ),
        "symbols": Option(10, "how many symbols to recall", min=1, max=1000),
        "alphabet": Option(8, "distinct symbols", min=2, max=1000),
    },
    "recall": {
        **sample_options(5000, 500),
        "seq_len": Option(20, "blanks after the symbol (L)", min=1, max=1_000_000),
        "alphabet": Option(8, "distinct symbols", min=2, max=1000),
    },
    "parity": {
        **sample_options(5000, 500),
        "seq_len": Option(10, "bits", min=1, max=1_000_000),
        "running": Option(False, "predict the parity so far at every step (many-to-many)"),
        "min_len": Option(
            0, "mixed lengths: each sequence min_len..seq_len bits (0: all seq_len)", min=0
        ),
    },
    "order": {
        **sample_options(5000, 500),
        "seq_len": Option(50, "sequence length T", min=10, max=1_000_000),
        "min_len": Option(
            0,
            "mixed lengths: each sequence min_len..seq_len steps, its marked symbols placed "
            "by min_len (0: all seq_len)",
            min=0,
        ),
    },
    "mqar": {
        **sample_options(20_000, 1000),
        "vocab": Option(
            128, "tokens: keys from the first half, values from the second", min=8, max=1_000_000
        ),
        "seq_len": Option(64, "steps (even; at least 4 x pairs)", min=4, max=1_000_000),
        "pairs": Option(4, "key-value pairs, each queried once", min=1, max=100_000),
        "power_a": Option(
            0.01, "power law of a query's distance (Zoology's power_a)", min=1e-6, max=1.0
        ),
    },
    **{
        name: {
            "root": Option("", "directory of the MNIST IDX files (or torchvision's MNIST/raw)"),
            "permutation": Option(
                order, "pixel order: none, expRNN, coRNN, LMU, NRU, bitreversal or seed:N"
            ),
            "pixels_per_step": Option(1, "pixels read per step (divides 784)", min=1, max=784),
            "val_images": Option(
                5000, "the last training images, kept for validation", min=1, max=59_999
            ),
            "download": Option(False, "fetch the files with torchvision (seqkit[vision])"),
        }
        for name, order in (("smnist", "none"), ("psmnist", "bitreversal"))
    },
    "mnist1d": {
        "shuffle_seq": Option(False, "the steps of every sequence in one fixed random order"),
        "seed": Option(42, "the package's data seed (its default: 42)", min=0, max=2**31 - 1),
        "val_samples": Option(
            500, "the last training sequences, kept for validation", min=1, max=3999
        ),
    },
    **{
        name: {
            "path": Option("", f"your copy of the {name} file"),
            "seq_len": Option(180, "tokens per training window", min=1, max=1_000_000),
            "train_chars": Option(
                90_000_000, "tokens that train (the standard split)", min=1, max=10**10
            ),
            "val_chars": Option(5_000_000, "tokens that validate, after them", min=1, max=10**10),
        }
        for name in ("text8", "enwik8")
    },
    "text": {
        "path": Option("", "the text file (UTF-8 for level=char)"),
        "level": Option("char", "tokens: characters or bytes", choices=("char", "byte")),
        "seq_len": Option(100, "characters per training window", min=1, max=1_000_000),
        "val_fraction": Option(
            0.05, "share of the text for validation (after train)", min=0.001, max=0.5
        ),
        "test_fraction": Option(
            0.05, "share of the text for the test (at its end)", min=0.001, max=0.5
        ),
    },
    "series": {
        "path": Option("", "the CSV file: a header row, then one row of numbers per step"),
        "input_len": Option(24, "rows a forecast reads", min=1, max=1_000_000),
        "horizon": Option(1, "rows ahead it forecasts", min=1, max=100_000),
        "stride": Option(1, "rows between one window and the next", min=1, max=1_000_000),
        "inputs": Option("", "input columns, comma-separated (default: all)"),
        "targets": Option("", "target columns, comma-separated (default: the last)"),
        "val_fraction": Option(
            0.1, "share of the rows for validation (after train)", min=0.001, max=0.5
        ),
        "test_fraction": Option(
            0.1, "share of the rows for the test (at the end)", min=0.001, max=0.5
        ),
    },
    "arrays": {
        "path": Option("", "a .npz or .pt file holding X (N, T, D) and y"),
        "kind": Option(
            "classification", "what y holds", choices=("classification", "binary", "regression")
        ),
        "val_fraction": Option(
            0.1, "share drawn for validation, unless the file holds X_val", min=0.001, max=0.5
        ),
        "test_fraction": Option(
            0.1, "share drawn for the test, unless the file holds X_test", min=0.001, max=0.5
        ),
        "split_seed": Option(0, "the random split's own seed", min=0, max=2**31 - 1),
    },
}
"""Each task's declared options (its class reads them from here too)."""

TASKS = {
    "toy": (
        "seqkit_plugins.notebook:Toy",
        "Two classes: is a run of consecutive numbers ascending (1) or descending (0)?",
    ),
    "square": ("seqkit_plugins.notebook:Square", "One-to-one: x in 1..4 -> x^2 (notebook 3-1)."),
    "multiples": (
        "seqkit_plugins.notebook:Multiples",
        "One-to-many: x in 1..4 -> x, 2x, ..., 10x (notebook 3-2).",
    ),
    "sum": (
        "seqkit_plugins.notebook:Sum",
        "Many-to-one: 6 integers in 1..14 -> their sum (notebook 3-3).",
    ),
    "cumsum": (
        "seqkit_plugins.notebook:CumSum",
        "Many-to-many: 5 integers in 0..30 -> running sums (notebook 3-4).",
    ),
    "meansign": (
        "seqkit_plugins.notebook:MeanSign",
        "Binary: is the mean of a Gaussian (T, D) sequence positive? (notebook section 4).",
    ),
    "adding": (
        "seqkit_plugins.long_range:Adding",
        "Adding problem: sum the two marked values of a long sequence (Arjovsky 2016).",
    ),
    "copy": (
        "seqkit_plugins.long_range:Copy",
        "Copy memory: recall 10 symbols after T blanks (Arjovsky et al. 2016).",
    ),
    "recall": (
        "seqkit_plugins.long_range:Recall",
        "Delayed recall: one of 8 symbols at t = 0, L blanks, name the symbol at the end.",
    ),
    "parity": (
        "seqkit_plugins.long_range:Parity",
        "Parity of a bit sequence (many-to-one), or running parity at every step.",
    ),
    "order": (
        "seqkit_plugins.long_range:Order",
        "Temporal order: which of two marked symbols came first, among distractors",
    ),
    "mqar": (
        "seqkit_plugins.recall_tasks:MQAR",
        "Multi-query associative recall: answer each queried key's value (Zoology, 2023).",
    ),
    "smnist": (
        "seqkit_plugins.pixel_data:SequentialMNIST",
        "Sequential MNIST: a digit from its 784 pixels, one step at a time (IDX files).",
    ),
    "psmnist": (
        "seqkit_plugins.pixel_data:PermutedMNIST",
        "Permuted sequential MNIST: the pixels in a named fixed order (bitreversal, ...).",
    ),
    "mnist1d": (
        "seqkit_plugins.mnist1d_data:MNIST1D",
        "MNIST-1D: 40-step 1-D digits, 10 classes (Greydanus 2020; the mnist1d package).",
    ),
    "text8": (
        "seqkit_plugins.text_data:Text8",
        "text8: 100M characters of Wikipedia, a-z and space; bits per character (90M/5M/5M).",
    ),
    "enwik8": (
        "seqkit_plugins.text_data:Enwik8",
        "enwik8: the first 100M bytes of a Wikipedia dump; bits per byte (90M/5M/5M).",
    ),
    "text": (
        "seqkit_plugins.text_data:Text",
        "Your text file as a character-level language model (bits per character).",
    ),
    "series": (
        "seqkit_plugins.series_data:Series",
        "Your CSV of measurements as forecasting, against persistence and the mean.",
    ),
    "arrays": (
        "seqkit_plugins.array_data:Arrays",
        "Your arrays X (N, T, D) and y from a .npz or .pt file.",
    ),
}
"""name -> (implementation, description)."""


READS = {"text": "plain text", "series": "csv", "arrays": "npz"}
"""The data tasks: the format each reads (`seqkit.from_text`, `from_csv`, `from_arrays`)."""


@hookimpl
def register_tasks(register: Any) -> None:
    for name, (target, description) in TASKS.items():
        reads = {"reads": READS[name]} if name in READS else {}
        register(name, lazy(target), description=description, options=OPTIONS[name], **reads)
