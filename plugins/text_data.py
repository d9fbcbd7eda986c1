"""The `text` task: a character-level (or byte-level) language model of any text file.

The file is read once into an int64 array of token ids (in blocks, so memory stays near
the size of the ids, not of Python strings), split chronologically, and cut into
consecutive windows of `seq_len + 1` ids (a window's last id is the next one's first):
inputs are a window's first `seq_len` ids, targets the same window one step on. The
windows are views of the ids, not copies.
"""

from __future__ import annotations

import codecs
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from seqkit_plugins.data_files import FileTask
from torch import Tensor

from seqkit import ConfigError, IOSpec, Splits, require_memory

BLOCK = 1 << 22
"""Bytes decoded at a time."""
SHOWN = 40
"""Characters of a window an example line shows."""
EXAMPLE_WORDS = (
    "동해 물과 백두산이 마르고 닳도록 하느님이 보우하사 우리나라 만세 무궁화 삼천리 "
    "화려 강산 the quick brown fox jumps over a lazy dog"
)
"""What `example` draws its words from."""


class Text(FileTask):
    name = "text"
    reads_what = "UTF-8 text"
    kind = "classification"
    default_topology = "many-to-many"
    headline_metric = "bpc"
    chance_rule = "unigram entropy of the training split"
    categorical_inputs = "all"
    ranges: ClassVar[dict[str, tuple[float, float]]] = {"bpc": (0.0, math.inf)}
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 128,
        "epochs": 10,
        "lr": 2e-3,
        "batch_size": 64,
        "normalize": False,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.level: str = options.get("level", "char")
        self.seq_len: int = options.get("seq_len", 100)
        self.val_fraction: float = options.get("val_fraction", 0.05)
        self.test_fraction: float = options.get("test_fraction", 0.05)
        self._vocabulary: str | None = None

    @property
    def split_rule(self) -> str:  # type: ignore[override]
        train = 1 - self.val_fraction - self.test_fraction
        return (
            f"chronological: the first {train:.0%} of the {self.level}s train, the next "
            f"{self.val_fraction:.0%} validate, the last {self.test_fraction:.0%} test; each "
            f"part cut into consecutive windows of seq_len + 1 = {self.seq_len + 1} that "
            "share their last token with the next window's first"
        )

    # -- identity and vocabulary -------------------------------------------------------
    def example(self, directory: Path) -> dict[str, Any]:
        """A small text: words of a Korean verse and an English pangram, drawn at random."""
        words = EXAMPLE_WORDS.split()
        rng = np.random.default_rng(0)
        drawn = [words[i] for i in rng.integers(0, len(words), 6000)]
        path = directory / "example.txt"
        path.write_text(" ".join(drawn) + "\n", "utf-8")
        return {"path": str(path), "seq_len": 40}

    def identity(self) -> dict[str, Any]:
        found = {**self.file(), "level": self.level}
        if self.level == "char":
            found["vocabulary"] = self.vocabulary
        return found

    @property
    def vocabulary(self) -> str:
        """The characters of the file in code-point order (a char model's classes); for a
        run loaded without its file, the vocabulary it recorded."""
        if self._vocabulary is None:
            recorded = (self.recorded or {}).get("vocabulary")
            if isinstance(recorded, str) and recorded:
                self._vocabulary = recorded
            else:
                self.splits  # noqa: B018 - reading the file sets the vocabulary
        assert self._vocabulary is not None
        return self._vocabulary

    @property
    def io(self) -> IOSpec:
        size = 256 if self.level == "byte" else len(self.vocabulary)
        return IOSpec(size, size, self.seq_len, self.seq_len, input_tokens=True)

    # -- reading -------------------------------------------------------------------------
    def cuts(self, n: int) -> tuple[int, int]:
        """Where training ends and where the test begins, for a text of `n` tokens."""
        val, test = round(n * self.val_fraction), round(n * self.test_fraction)
        return n - val - test, n - test

    def load(self) -> Splits:
        ids = self.read_ids()
        n = ids.shape[0]
        cut = (0, *self.cuts(n), n)
        parts = {}
        for name, start, end in zip(("train", "val", "test"), cut, cut[1:], strict=False):
            parts[name] = self._windows(ids[start:end], name)
        return Splits(**parts)

    def read_ids(self) -> Tensor:
        """The file's token ids, int64 `(n,)`."""
        where = self._where()
        size = self.file()["bytes"]
        if size == 0:
            raise ConfigError(f"{where}: the file is empty")
        require_memory(9 * size, where, "reading it as token ids (8 bytes per character)")
        if self.level == "byte":
            self._vocabulary = ""
            return torch.from_numpy(np.fromfile(self.path, dtype=np.uint8).astype(np.int64))
        chars, count = self._scan(where)
        self._vocabulary = "".join(chars)
        codes = np.array([ord(c) for c in chars], dtype=np.uint32)
        ids = np.empty(count, dtype=np.int64)
        filled = 0
        for text in self._decoded(where):
            points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
            ids[filled : filled + points.shape[0]] = np.searchsorted(codes, points)
            filled += points.shape[0]
        return torch.from_numpy(ids)

    def _scan(self, where: str) -> tuple[list[str], int]:
        """The file's distinct characters (sorted) and how many characters it has."""
        seen: set[str] = set()
        count = 0
        for text in self._decoded(where):
            seen.update(text)
            count += len(text)
        if "\x00" in seen:
            raise ConfigError(
                f"{where}: holds NUL characters, so it is not text; give a UTF-8 text file "
                "(or --task-opt level=byte to model its bytes)"
            )
        return sorted(seen), count

    def _decoded(self, where: str) -> Any:
        """The file as text, block by block; invalid UTF-8 is a ConfigError naming the
        byte offset and line."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset, lines = 0, 0
        with open(self.path, "rb") as f:
            while True:
                block = f.read(BLOCK)
                try:
                    text = decoder.decode(block, final=not block)
                except UnicodeDecodeError as exc:
                    at = offset + exc.start - len(decoder.getstate()[0])
                    line = lines + block[: max(exc.start, 0)].count(b"\n") + 1
                    raise ConfigError(
                        f"{where}: not UTF-8 text ({exc.reason} at byte {max(at, offset)}, "
                        f"line {line}); give a UTF-8 file, or --task-opt level=byte"
                    ) from None
                if text:
                    yield text
                if not block:
                    return
                offset += len(block)
                lines += block.count(b"\n")

    def _windows(self, ids: Tensor, split: str) -> tuple[Tensor, Tensor]:
        t = self.seq_len
        count = (ids.shape[0] - 1) // t
        if count < 1:
            raise ConfigError(
                f"{self._where()}: the {split} split holds {ids.shape[0]} {self.level}s, "
                f"fewer than one window of seq_len + 1 = {t + 1}; use a smaller --task-opt "
                "seq_len or a longer text"
            )
        x = ids[: count * t].view(count, t, 1)
        y = ids[1 : count * t + 1].view(count, t)
        return x, y

    # -- scoring and showing -------------------------------------------------------------
    def metrics(self, out: Tensor, y: Tensor) -> dict[str, Tensor]:
        metrics = super().metrics(out, y)
        metrics["bpc"] = self.loss(out, y).detach() / math.log(2)
        return metrics

    def chance_loss(self, y: Tensor) -> float:
        """The unigram entropy of the training split, in nats (the loss's unit)."""
        counts = torch.bincount(self.splits.train[1].reshape(-1), minlength=self.io.output_size)
        p = counts.double() / counts.sum()
        return float(-(p[p > 0] * p[p > 0].log()).sum())

    def decode(self, ids: Tensor | list[int]) -> str:
        """Token ids -> text (bytes decoded as UTF-8, invalid ones replaced)."""
        values = [int(i) for i in (ids.reshape(-1).tolist() if isinstance(ids, Tensor) else ids)]
        if self.level == "byte":
            return bytes(values).decode("utf-8", errors="replace")
        return "".join(self.vocabulary[i] for i in values)

    def encode(self, text: str) -> Tensor:
        """Text -> token ids `(1, T, 1)`; a character the model never saw is a ConfigError."""
        if self.level == "byte":
            values = list(text.encode("utf-8"))
        else:
            index = {c: i for i, c in enumerate(self.vocabulary)}
            unknown = sorted({c for c in text if c not in index})
            if unknown:
                raise ConfigError(
                    f"the text holds characters the model never saw: {''.join(unknown)!r}"
                )
            values = [index[c] for c in text]
        return torch.tensor(values, dtype=torch.int64).view(1, -1, 1)

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor | None) -> str:
        shown = self.decode(x[-SHOWN:])
        guess = self.decode(pred[-SHOWN:])
        line = f"Text: {_quoted(shown)} -> next {self.level}s guessed: {_quoted(guess)}"
        if answer is not None:
            right = int((pred == answer).sum())
            line += f" ({right}/{answer.numel()} right)"
        return line

    def is_correct(self, pred: Tensor, answer: Tensor) -> bool | None:
        return None  # a window is not one answer: the line counts the right guesses


def _quoted(text: str) -> str:
    return '"' + text.replace("\n", "\\n").replace('"', '\\"') + '"'


class CharacterBenchmark(Text):
    """A standard character-level benchmark (`text8`, `enwik8`): a local copy of its file
    split at the standard counts, the first 90M tokens train, the next 5M validate, the
    rest (5M) is the test, scored once, in bits per character."""

    standard_level: ClassVar[str] = "char"

    def __init__(self, **options: Any) -> None:
        super().__init__(**{**options, "level": self.standard_level})
        self.train_tokens: int = options.get("train_chars", 90_000_000)
        self.val_tokens: int = options.get("val_chars", 5_000_000)

    @property
    def split_rule(self) -> str:  # type: ignore[override]
        return (
            f"the standard split: the first {self.train_tokens:,} {self.level}s train, the "
            f"next {self.val_tokens:,} validate, the rest is the test"
        )

    def example(self, directory: Path) -> dict[str, Any]:
        """The text task's example, split at counts scaled to its size (80/10/10)."""
        options = super().example(directory)
        text = Path(options["path"]).read_text("utf-8")
        size = len(text.encode("utf-8")) if self.standard_level == "byte" else len(text)
        return {**options, "train_chars": size * 8 // 10, "val_chars": size // 10}

    def cuts(self, n: int) -> tuple[int, int]:
        end = self.train_tokens + self.val_tokens
        if n <= end + self.seq_len:
            raise ConfigError(
                f"{self._where()}: holds {n:,} {self.level}s, too few for {self.name}'s split "
                f"({self.train_tokens:,} + {self.val_tokens:,} + a test); is it {self.name}?"
            )
        return self.train_tokens, end


class Text8(CharacterBenchmark):
    name = "text8"


class Enwik8(CharacterBenchmark):
    name = "enwik8"
    standard_level = "byte"
