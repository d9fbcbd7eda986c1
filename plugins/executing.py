"""The built-in executors: worker processes on this machine, and Ray tasks.

Both yield `(index, result)` as each call finishes and `(index, exception)` for a call
that raised or lost its worker, so a comparison keeps every finished point."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any

from seqkit import ConfigError


class ProcessExecutor:
    """`jobs` spawned worker processes (one at a time in this process when `jobs` is 1)."""

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs
        self.in_process = jobs <= 1
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        if self.jobs <= 1:
            for i, item in enumerate(items):
                try:
                    yield i, fn(item)
                except Exception as exc:  # the caller decides; the others still run
                    yield i, exc
            return
        # spawn, not fork: a forked worker inherits torch's thread pools in a bad state
        self._pool = ProcessPoolExecutor(
            max_workers=self.jobs,
            mp_context=get_context("spawn"),
            initializer=end_with_parent,
            initargs=(os.getpid(),),
        )
        futures: dict[Future[Any], int] = {self._pool.submit(fn, x): i for i, x in enumerate(items)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=futures.__getitem__):
                error = future.exception()
                yield futures[future], error if error is not None else future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def end_with_parent(parent: int, every: float = 0.25) -> None:
    """In a worker: end this process as soon as `parent` (the comparison's process) has
    died, however it died (SIGKILL included). A dead parent's children are handed to
    another process, so a thread watches for `os.getppid()` to change; then the worker
    ends at once, its run left as a kill leaves one (resumable from its checkpoint)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)  # no cleanup to wait for: the run's files are written atomically

    threading.Thread(target=watch, name="seqkit-end-with-parent", daemon=True).start()


class RayExecutor:
    """Each call a Ray task with one CPU, retried up to `retries` times if its worker
    dies. Joins `address` (or RAY_ADDRESS); with neither, starts a local Ray with `jobs`
    CPUs and stops it on `close`. Every node needs seqkit (and the plugins the runs use)
    installed, and the comparison's directory on storage that every node can write."""

    def __init__(self, jobs: int = 1, address: str = "", retries: int = 2) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "--executor ray needs Ray: pip install 'seqkit[ray]' (or pip install ray)"
            ) from None
        self.ray, self.retries = ray, retries
        address = address or os.environ.get("RAY_ADDRESS", "")
        self._started = not ray.is_initialized()
        if self._started:
            settings: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": logging.ERROR,  # not Ray's banner on the comparison's output
            }
            if address:
                settings["address"] = address
            else:
                settings["num_cpus"] = jobs
            try:
                ray.init(**settings)
            except Exception as exc:  # Ray raises ConnectionError, ValueError, RuntimeError...
                where = f"cannot join {address!r}" if address else "cannot start a local Ray"
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ConfigError(f"--executor ray: {where}: {first}") from None

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        ray = self.ray
        # one CPU and one torch thread per run, as the process executor's workers
        remote = ray.remote(num_cpus=1, max_retries=self.retries)(fn)
        refs = {remote.remote(item): i for i, item in enumerate(items)}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    yield refs[ref], ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the call raised: its error
                    cause = exc.cause
                    yield refs[ref], cause if isinstance(cause, Exception) else exc
                except ray.exceptions.RayError as exc:  # its worker died, retries used up
                    yield refs[ref], exc

    def close(self) -> None:
        if self._started and self.ray.is_initialized():
            self.ray.shutdown()
