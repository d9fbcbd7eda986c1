"""Helpers shared by the benchmarks: alternating timing and result files."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

RESULTS = Path(__file__).parent / "results"


def alternate(
    a: Callable[[], Any], b: Callable[[], Any], rounds: int = 7, warmup: int = 2
) -> tuple[float, float, float]:
    """Time `a` and `b` alternately (A B A B ...); return median seconds of each and the
    median of the per-round ratios b / a, which shared-machine noise disturbs least."""
    for _ in range(warmup):
        a()
        b()
    ta, tb, ratios = [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        a()
        t1 = time.perf_counter()
        b()
        t2 = time.perf_counter()
        ta.append(t1 - t0)
        tb.append(t2 - t1)
        ratios.append((t2 - t1) / (t1 - t0))
    return statistics.median(ta), statistics.median(tb), statistics.median(ratios)


def write(name: str, rows: list[dict[str, Any]], **meta: Any) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "machine": platform.machine(),
                **meta,
                "rows": rows,
            },
            indent=2,
        )
    )
    return path


def _busy(stop: Any) -> None:
    torch.set_num_threads(1)
    a = torch.randn(256, 256)
    while not stop.is_set():
        a = (a @ a).tanh()


@contextlib.contextmanager
def neighbour_process(kind: str) -> Iterator[None]:
    """`"busy"`: a second process multiplying matrices on one core for the duration (a
    neighbour on a shared machine); `"idle"`: nothing."""
    if kind != "busy":
        yield
        return
    stop = multiprocessing.Event()
    proc = multiprocessing.Process(target=_busy, args=(stop,), daemon=True)
    proc.start()
    time.sleep(0.5)
    try:
        yield
    finally:
        stop.set()
        proc.join(timeout=5)
