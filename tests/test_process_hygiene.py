"""A library call leaves the caller's process as it found it (DESIGN.md, principle 11).

Each case runs a notebook-like interpreter: matplotlib on the inline backend with pyplot
loaded, torch's and Python's global RNGs seeded, one intra-op thread (a run with two
starts a worker). It trains and
displays a run as a notebook user does, then reads every process-wide setting back:
the backend, the RNG states, whether torch's threads flush subnormals (the calling thread
and the intra-op workers the run started), glibc's mmap behaviour for a large block
(`mallinfo2`), the thread count. The same probes are checked to see a change where seqkit
does make one, so that a probe that cannot see anything does not pass as hygiene.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from seqkit._core.config import usable_cores
from seqkit._train import host

pytestmark = pytest.mark.skipif(usable_cores() < 2, reason="the runs use two threads")

NOTEBOOK = r"""
import ctypes, json, random, sys
import matplotlib
matplotlib.use("module://matplotlib_inline.backend_inline")
import matplotlib.pyplot as plt
import torch
import seqkit
from seqkit._train import heap
from seqkit._train.denormals import flushing

MIB = 1 << 20


class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def mmapped(size=64 * MIB):
    '''Whether glibc serves a block of `size` with mmap, as its defaults do (None where
    glibc is not seqkit's to set, or older than 2.33, which added mallinfo2).'''
    libc = ctypes.CDLL(None)
    if heap.glibc() is None or not hasattr(libc, "mallinfo2"):
        return None
    libc.mallinfo2.restype = Mallinfo2
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    before = libc.mallinfo2().hblkhd
    p = libc.malloc(size)
    grown = libc.mallinfo2().hblkhd - before
    libc.free(p)
    return grown >= size


def workers_flush():
    '''Whether some intra-op thread flushes subnormals: an elementwise product over a
    large tensor is split across the threads; a flushing one writes zeros.'''
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    x = torch.full((1 << 22,), 1e-40)
    flushed = bool(((x * 1.0) == 0).any())
    torch.set_num_threads(threads)
    return flushed


def state(workers=True):
    '''The process-wide settings. `workers=False` before the run: a parallel op would
    start torch's worker threads then, and a thread started before a run never gets its
    mode, so the probe after it could see nothing.'''
    return {
        "backend": matplotlib.get_backend(),
        "torch_rng": torch.get_rng_state().tolist(),
        "python_rng": repr(random.getstate()),
        "flushing": flushing(),
        "workers_flush": workers_flush() if workers else False,
        "mmapped": mmapped(),
        "threads": torch.get_num_threads(),
        "figures": plt.get_fignums(),
    }


class Busy(seqkit.Callback):
    '''A large elementwise op each epoch, as a long run makes: torch starts its intra-op
    worker threads during the run.'''

    def __init__(self):
        self.mmapped = []

    def on_epoch_end(self, state, record):
        (torch.ones(1 << 22) * 2.0).sum()
        self.mmapped.append(mmapped())  # glibc's setting while the run trains


mode, out = sys.argv[1], sys.argv[2]
torch.set_num_threads(1)  # no worker thread yet: the run's threads=2 starts one
torch.manual_seed(1234)
random.seed(1234)
plt.figure()  # the user's own figure
before = state(workers=False)
settings = dict(cell="rnn", task="sum", epochs=2, seed=3, threads=2, quiet=True, out=out)
busy = Busy()
if mode == "owned":  # as the seqkit command runs it
    from seqkit._train import host
    with host.owned():
        result = seqkit.run(**settings, callbacks=[busy])
else:
    result = seqkit.run(**settings, callbacks=[busy])
page = result._repr_html_()
print(json.dumps({
    "before": before,
    "after": state(),
    "html_has_plot": "data:image/png;base64," in page,
    "recorded_flush": result.config.flush_denormals,
    "mmapped_during_the_run": busy.mmapped,
}))
"""


def notebook(tmp_path, mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != host.OWNER_ENV}  # a plain process
    done = subprocess.run(
        [sys.executable, "-c", NOTEBOOK, mode, str(tmp_path / mode)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_run_and_its_display_leave_the_notebook_process_as_it_was(tmp_path):
    seen = notebook(tmp_path, "library")
    assert seen["html_has_plot"]  # it drew: the backend was left alone, not unused
    assert seen["after"] == seen["before"]
    assert seen["before"]["backend"].endswith("backend_inline")
    assert seen["before"]["figures"] == [1]
    assert seen["recorded_flush"] is False  # the library's run kept IEEE arithmetic
    assert all(m is not False for m in seen["mmapped_during_the_run"])  # glibc's own mmap


def test_the_probes_see_the_changes_seqkit_makes_where_it_owns_the_process(tmp_path):
    """Run as the seqkit command runs it (the process marked as seqkit's): its heap
    setting shows while it trains (a large block is not an mmap), its flushing stays
    with torch's intra-op workers after it (torch cannot take the mode back from them),
    and the calling thread gets its own mode back."""
    if not __import__("torch").set_flush_denormal(False):
        pytest.skip("this CPU has no flush-to-zero mode: nothing to see")
    seen = notebook(tmp_path, "owned")
    assert seen["recorded_flush"] is True
    assert seen["after"]["workers_flush"] and not seen["before"]["workers_flush"]
    assert not seen["after"]["flushing"]
    if seen["before"]["mmapped"] is not None:  # glibc 2.33+, seqkit's to set
        assert seen["before"]["mmapped"] and seen["after"]["mmapped"]
        assert seen["mmapped_during_the_run"] and not any(seen["mmapped_during_the_run"])


def test_the_other_library_calls_leave_torchs_global_rng_alone(tmp_path):
    """explain, a gradient probe at initialisation, loading a run and predicting with it
    build a seeded model; the caller's stream is the same afterwards."""
    import torch

    import seqkit

    run = seqkit.run(cell="gru", task="sum", epochs=1, quiet=True, out=tmp_path / "r")
    calls = {
        "explain": lambda: seqkit.explain(seqkit.RunConfig(cell="lstm", task="sum")),
        "gradients": lambda: seqkit.gradients(["rnn"], task="sum", init_only=True),
        "load_run": lambda: seqkit.load_run(tmp_path / "r").predict([[1.0, 2, 3, 4, 5, 6]]),
        "run": lambda: seqkit.run(cell="rnn", task="sum", epochs=1, quiet=True),
    }
    for name, call in calls.items():
        torch.manual_seed(99)
        before = torch.get_rng_state()
        call()
        assert torch.equal(torch.get_rng_state(), before), name
    assert run.history.epochs
