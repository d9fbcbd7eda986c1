"""The `series` task: forecasting from a CSV file of numeric columns.

Rows are time steps. A window's inputs are `input_len` rows of the input columns; its
targets the next `horizon` rows of the target columns. The split is chronological and
each later split's windows take their inputs from the rows before it, so no target is
ever seen as a training input. Windows are views of one float array, not copies; the
run standardises inputs and targets with the training split's statistics (the model
keeps them, so forecasts are in the data's own units).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from seqkit_plugins.data_files import FileTask
from torch import Tensor

from seqkit import ConfigError, IOSpec, Splits, require_memory

CHUNK = 8192
"""Windows a baseline is computed on at a time."""
BLOCK = 1 << 20
"""Bytes read at a time to count a file's lines."""
SHOWN = 4
"""Input steps an example line shows."""


class Series(FileTask):
    name = "series"
    reads_what = "a CSV"
    kind = "regression"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 64,
        "epochs": 20,
        "lr": 3e-3,
        "batch_size": 64,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.input_len: int = options.get("input_len", 24)
        self.horizon: int = options.get("horizon", 1)
        self.stride: int = options.get("stride", 1)
        self.inputs_named: str = options.get("inputs", "")
        self.targets_named: str = options.get("targets", "")
        self.val_fraction: float = options.get("val_fraction", 0.1)
        self.test_fraction: float = options.get("test_fraction", 0.1)
        self.default_topology = "many-to-one" if self.horizon == 1 else "seq2seq"
        self._columns: tuple[list[str], list[int], list[int]] | None = None
        self._baselines: dict[str, float] | None = None
        self._statistics: dict[str, Tensor] = {}

    @property
    def split_rule(self) -> str:  # type: ignore[override]
        train = 1 - self.val_fraction - self.test_fraction
        return (
            f"chronological: the first {train:.0%} of the rows train, the next "
            f"{self.val_fraction:.0%} validate, the last {self.test_fraction:.0%} test; a "
            f"window's {self.horizon} target row(s) lie in its split, its {self.input_len} "
            "input rows may precede it"
        )

    def identity(self) -> dict[str, Any]:
        names, inputs, targets = self.columns
        return {
            **self.file(),
            "inputs": [names[i] for i in inputs],
            "targets": [names[i] for i in targets],
        }

    @property
    def columns(self) -> tuple[list[str], list[int], list[int]]:
        """The file's column names and the indices of the input and target columns."""
        if self._columns is None:
            recorded = self.recorded or {}
            if "inputs" in recorded:  # a loaded run: the columns it trained on
                inputs, targets = list(recorded["inputs"]), list(recorded["targets"])
                names = list(dict.fromkeys([*inputs, *targets]))
                self._columns = (
                    names,
                    [names.index(n) for n in inputs],
                    [names.index(n) for n in targets],
                )
            else:
                self.splits  # noqa: B018 - reading the file sets the columns
        assert self._columns is not None
        return self._columns

    @property
    def io(self) -> IOSpec:
        _, inputs, targets = self.columns
        return IOSpec(len(inputs), len(targets), self.input_len, self.horizon)

    # -- reading -------------------------------------------------------------------------
    def load(self) -> Splits:
        where, size = self._where(), self.file()["bytes"]
        if size == 0:
            raise ConfigError(f"{where}: the file is empty")
        # float32 values from text of at least 2 bytes each ("1,"), read in blocks
        require_memory(3 * size, where, "reading it as numbers")

        def select(names: list[str], numeric: list[bool]) -> list[int]:
            self._columns = self._pick(names, numeric)
            _, inputs, targets = self._columns
            return sorted({*inputs, *targets})

        _, used, values = read_csv(self.path, where, select)
        _, inputs, targets = self.columns
        data = torch.from_numpy(values)
        x_all = column_view(data, [used.index(c) for c in inputs])
        y_all = column_view(data, [used.index(c) for c in targets])
        rows = data.shape[0]
        val, test = round(rows * self.val_fraction), round(rows * self.test_fraction)
        ends = {"train": rows - val - test, "val": rows - test, "test": rows}
        starts = {"train": 0, "val": ends["train"], "test": ends["val"]}
        parts = {}
        for name in ("train", "val", "test"):
            parts[name] = self._windows(x_all, y_all, starts[name], ends[name], name, where)
        self._baselines = self._measure_baselines(*parts["train"])
        self._statistics = {
            **_moments("x", x_all[: ends["train"]]),
            **_moments("y", y_all[self.input_len : ends["train"]]),
        }
        return Splits(**parts)

    def statistics(self) -> dict[str, Tensor] | None:
        """Means and standard deviations of the training rows, per column: each row once,
        not once per window that holds it. None for a loaded run (its model holds them)."""
        if self.recorded is not None and self._splits is None:
            return None
        self.splits  # noqa: B018 - measured when the data are read
        return dict(self._statistics)

    def _pick(
        self, names: list[str], numeric: list[bool]
    ) -> tuple[list[str], list[int], list[int]]:
        """Input and target column indices from the options (default: every column whose
        first row is a number in, the last of them as target; a time stamp column is left
        out by default)."""

        def chosen(text: str, default: list[int], what: str) -> list[int]:
            if not text.strip():
                return default
            picked = []
            for name in (n.strip() for n in text.split(",")):
                if name not in names:
                    raise ConfigError(
                        f"{self._where()}: no column '{name}' for --task-opt {what}; the "
                        f"columns are: {', '.join(names)}"
                    )
                picked.append(names.index(name))
            return picked

        numbers = [i for i, is_number in enumerate(numeric) if is_number]
        if not numbers and not (self.inputs_named.strip() and self.targets_named.strip()):
            raise ConfigError(f"{self._where()}: no column holds numbers in its first row")
        inputs = chosen(self.inputs_named, numbers, "inputs")
        targets = chosen(self.targets_named, numbers[-1:], "targets")
        return names, inputs, targets

    def _windows(
        self, x: Tensor, y: Tensor, start: int, end: int, split: str, where: str
    ) -> tuple[Tensor, Tensor]:
        """Windows whose targets lie in rows [start, end): views `(N, input_len, D)` and
        `(N, horizon, K)` of the columns."""
        first = max(start, self.input_len)  # the first target row
        count = (
            (end - first - self.horizon) // self.stride + 1 if end - first >= self.horizon else 0
        )
        if count < 1:
            raise ConfigError(
                f"{where}: the {split} split (rows {start + 1}..{end}) is shorter than one "
                f"window of input_len {self.input_len} + horizon {self.horizon} rows; use "
                "smaller --task-opt input_len / horizon or a longer file"
            )
        xs = x[
            first - self.input_len : first
            - self.input_len
            + (count - 1) * self.stride
            + self.input_len
        ]
        ys = y[first : first + (count - 1) * self.stride + self.horizon]
        inputs = xs.unfold(0, self.input_len, self.stride).permute(0, 2, 1)
        targets = ys.unfold(0, self.horizon, self.stride).permute(0, 2, 1)
        return inputs, targets

    # -- baselines -----------------------------------------------------------------------
    def _measure_baselines(self, x: Tensor, y: Tensor) -> dict[str, float]:
        """The MSE of the training mean (one per target column), and of persistence (the
        last input row of each target column, for every step ahead) when every target
        column is an input, on the training windows."""
        _, inputs, targets = self.columns
        persistence = all(t in inputs for t in targets)
        last = x[:, -1] if persistence else None  # (N, D): a view
        columns = [inputs.index(t) for t in targets] if persistence else []
        # row views, step ahead by step ahead: (N, K) with plain strides, never a copy of
        # the overlapping windows
        ahead = [y[:, k] for k in range(y.shape[1])]
        mean = sum(c.double().sum(0) for a in ahead for c in a.split(CHUNK)) / y.shape[0]
        mean = mean / len(ahead)
        errors = {"training mean": 0.0, **({"persistence": 0.0} if persistence else {})}
        for a in ahead:
            for start in range(0, a.shape[0], CHUNK):
                rows = a[start : start + CHUNK].double()
                errors["training mean"] += float(((rows - mean) ** 2).sum())
                if last is not None:
                    before = last[start : start + CHUNK].double()[:, columns]
                    errors["persistence"] += float(((rows - before) ** 2).sum())
        return {name: total / y.numel() for name, total in errors.items()}

    @property
    def chance_rule(self) -> str:  # type: ignore[override]
        if "persistence" in self.baselines():
            return "the better of persistence and the training mean"
        return "the training mean (no target is an input: persistence does not apply)"

    def baselines(self) -> dict[str, float]:
        self.splits  # noqa: B018 - measured when the data are read
        return dict(self._baselines or {})

    @property
    def reference_losses(self) -> dict[str, float]:
        return self.baselines()

    def example(self, directory: Path) -> dict[str, Any]:
        """A noisy daily cycle with a slow trend, and a second column that leads it."""
        rng = np.random.default_rng(0)
        t = np.arange(1500)
        load = 10 + 4 * np.sin(2 * np.pi * t / 24) + t / 500 + rng.normal(0, 0.3, t.size)
        temp = 20 + 5 * np.sin(2 * np.pi * (t + 3) / 24) + rng.normal(0, 0.3, t.size)
        path = directory / "example.csv"
        rows = "".join(f"{a:.3f},{b:.3f}\n" for a, b in zip(temp, load, strict=True))
        path.write_text("temperature,load\n" + rows, "utf-8")
        return {"path": str(path), "input_len": 24}

    def inputs_from_file(self, path: Path, where: str) -> Tensor:
        """The last `input_len` rows of a CSV's input columns, found by the names the run
        trained on, as one input `(1, input_len, D)` (`seqkit predict --input-file`)."""
        trained, inputs, _ = self.columns
        wanted = [trained[i] for i in inputs]

        def select(names: list[str], numeric: list[bool]) -> list[int]:
            missing = [n for n in wanted if n not in names]
            if missing and names == [f"c{i + 1}" for i in range(len(names))]:
                if len(names) != len(wanted):
                    raise ConfigError(
                        f"{where}: has {len(names)} column(s) and no header; the run reads "
                        f"{len(wanted)}: {', '.join(wanted)}"
                    )
                return list(range(len(names)))
            if missing:
                raise ConfigError(
                    f"{where}: no column '{missing[0]}'; the run reads {', '.join(wanted)}"
                )
            return [names.index(n) for n in wanted]

        names, used, values = read_csv(path, where, select)
        if values.shape[0] < self.input_len:
            raise ConfigError(
                f"{where}: has {values.shape[0]} row(s); a forecast reads the last "
                f"input_len = {self.input_len}"
            )
        order = [used.index(c) for c in select(names, [])]  # the order the run reads
        return torch.from_numpy(values[-self.input_len :, order]).unsqueeze(0)

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor | None) -> str:
        def numbers(t: Tensor) -> str:
            return ", ".join(f"{v:.4g}" for v in t.reshape(-1).tolist())

        _, inputs, targets = self.columns
        last = (
            x[-SHOWN:, [inputs.index(t) for t in targets]]
            if all(t in inputs for t in targets)
            else x[-SHOWN:, :1]
        )
        line = (
            f"Last {min(SHOWN, x.shape[0])} steps: [{numbers(last)}] -> forecast [{numbers(pred)}]"
        )
        return line + (f" (actual [{numbers(answer)}])" if answer is not None else "")


def _moments(name: str, rows: Tensor) -> dict[str, Tensor]:
    """`{name}_mean` and `{name}_std` of `rows (R, F)`, `(1, 1, F)`; a constant column gets 1.
    Summed in float64 a chunk of rows at a time, so that no copy of all the rows is made."""
    chunks = rows.split(CHUNK)
    mean = sum(c.double().sum(0) for c in chunks) / rows.shape[0]
    std = (sum(((c.double() - mean) ** 2).sum(0) for c in chunks) / rows.shape[0]).sqrt()
    std = torch.where(std > 1e-8, std, torch.ones_like(std))
    return {
        f"{name}_mean": mean.float().view(1, 1, -1),
        f"{name}_std": std.float().view(1, 1, -1),
    }


def column_view(data: Tensor, picked: list[int]) -> Tensor:
    """`data[:, picked]`: a view when the columns are adjacent and in order (all of
    them, or the last one: the defaults), else a copy of those columns."""
    first = picked[0]
    if picked == list(range(first, first + len(picked))):
        return data[:, first : first + len(picked)]
    return data[:, picked]


Select = Callable[[list[str], list[bool]], list[int]]
"""`select(names, numeric)`: the columns to read, from their names and whether the first
data row holds a number in each."""


def read_csv(
    path: Path, where: str, select: Select | None = None
) -> tuple[list[str], list[int], np.ndarray]:
    """Column names, the columns read (`select`'s, default all) and their float32 values
    `(rows, columns read)` of a CSV file with a header row (a file whose first row is
    numbers gets names `c1, c2, ...`); blank lines are skipped, and so are the columns
    not read (a time stamp). Ragged rows, cells that are not numbers, NaN and inf are
    ConfigErrors naming the line and column. The values go straight into one array
    sized by a first count of the file's lines: reading takes little more memory."""
    lines = _count_lines(path, where)
    with open(path, newline="", encoding="utf-8", errors="strict") as f:
        try:
            reader = csv.reader(f)
            rows = (row for row in reader if _filled(row))
            first = next(rows, None)
            if first is None:
                raise ConfigError(f"{where}: the file has no rows")
            header = _numbers(first) is None
            names = (
                [c.strip() for c in first] if header else [f"c{i + 1}" for i in range(len(first))]
            )
            data = first if not header else next(rows, None)
            if data is None:
                raise ConfigError(f"{where}: the file has a header but no rows of numbers")
            numeric = [_number(c) is not None for c in data]
            used = select(names, numeric) if select is not None else list(range(len(names)))
            values = np.empty((lines, len(used)), dtype=np.float32)
            values[0] = _row(data, names, used, reader.line_num, where)
            filled = 1
            for row in rows:
                values[filled] = _row(row, names, used, reader.line_num, where)
                filled += 1
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{where}: not a UTF-8 text file ({exc.reason})") from None
        except csv.Error as exc:
            raise ConfigError(f"{where}: not a CSV file ({exc})") from None
    return names, used, values[:filled]


def _count_lines(path: Path, where: str) -> int:
    """An upper bound on the file's rows: its line breaks (\\n and \\r both counted) plus
    one. The array sized by it is allocated lazily: rows never filled take no memory."""
    count = 1
    try:
        with open(path, "rb") as f:
            while block := f.read(BLOCK):
                count += block.count(b"\n") + block.count(b"\r")
    except OSError as exc:
        raise ConfigError(f"{where}: {exc.strerror or exc}") from None
    return count


def _filled(row: list[str]) -> bool:
    return bool(row) and any(cell.strip() for cell in row)


def _row(row: list[str], names: list[str], used: list[int], line: int, where: str) -> list[float]:
    """The numbers of one row's `used` columns, or a ConfigError naming its line and the
    column at fault."""
    if len(row) != len(names):
        raise ConfigError(
            f"{where}: line {line} has {len(row)} fields, the header {len(names)}; every "
            "row needs one value per column"
        )
    values = []
    for i in used:
        value = _number(row[i])
        if value is None:
            raise ConfigError(
                f"{where}: line {line}, column '{names[i]}': {row[i].strip()!r} is not a "
                "number (choose the columns to read with --task-opt inputs=... targets=...)"
            )
        if not math.isfinite(value):
            raise ConfigError(
                f"{where}: line {line}, column '{names[i]}': {row[i].strip()} is not a "
                "finite number (NaN and inf are not allowed; fill or drop the gaps first)"
            )
        values.append(value)
    return values


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _numbers(row: list[str]) -> list[float] | None:
    values = [_number(c) for c in row]
    return None if any(v is None for v in values) else values  # type: ignore[return-value]


__all__ = ["Series", "read_csv"]
