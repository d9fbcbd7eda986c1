"""A CPU run keeps the memory a training step frees for the next (`seqkit._train.heap`).

glibc's heap is process-wide state, so each case runs in a fresh interpreter that
allocates blocks the way torch's CPU allocator does (posix_memalign, 64-byte aligned),
writes every page and frees them, and reports the minor page faults of the last blocks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import seqkit
from seqkit._train import heap, host

pytestmark = pytest.mark.skipif(
    heap.glibc() is None, reason="malloc is not glibc's here: seqkit leaves it alone"
)

MIB = 1024 * 1024
BLOCK = 64 * MIB
"""Above glibc's largest mmap threshold (32 MiB): with glibc's defaults every block is a
fresh mmap whose pages fault in again."""
PAGES = BLOCK // os.sysconf("SC_PAGE_SIZE")

CASE = r"""
import ctypes, json, resource, sys
from contextlib import nullcontext
from seqkit._train import heap

libc = ctypes.CDLL(None)

def blocks(size, n):
    '''Minor faults of each of n blocks of `size` bytes, allocated, written, freed.'''
    out = []
    for _ in range(n):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        p = ctypes.c_void_p()
        assert libc.posix_memalign(ctypes.byref(p), 64, ctypes.c_size_t(size)) == 0
        ctypes.memset(p, 1, size)
        libc.free(p)
        out.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return out

case, size = sys.argv[1], int(sys.argv[2])
if case == "plain":
    result = blocks(size, 4)
elif case == "kept":
    with heap.keep_freed_memory():
        result = blocks(size, 30)
elif case == "nested":
    with heap.keep_freed_memory():
        with heap.keep_freed_memory():
            blocks(size, 30)
        result = blocks(size, 4)
elif case == "after":  # blocks 4x larger than any kept: glibc's mmap again, if restored
    with heap.keep_freed_memory():
        blocks(size, 30)
    result = blocks(4 * size, 3)
print(json.dumps(result))
"""


def faults(case: str, **env: str) -> list[int]:
    """The minor page faults of each measured block of `case` (see CASE)."""
    out = subprocess.run(
        [sys.executable, "-c", CASE, case, str(BLOCK)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return json.loads(out.stdout)


def test_glibc_by_itself_faults_every_page_of_every_block_in_again():
    assert all(f > PAGES / 2 for f in faults("plain"))  # what the setting is for


def test_in_the_block_freed_memory_is_reused_without_faults():
    # glibc 2.36 takes a few blocks to settle (6 of 64 MiB here: posix_memalign asks a
    # little more than a freed block holds until the free space has coalesced); from
    # then on, none fault.
    measured = faults("kept")
    assert all(f < PAGES / 100 for f in measured[-10:]), measured
    assert sum(measured) < 30 * PAGES / 2, measured  # most of the 30 were reused


def test_an_inner_block_does_not_restore_while_an_outer_one_runs():
    assert all(f < PAGES / 100 for f in faults("nested"))


def test_glibcs_defaults_are_restored_after_the_block():
    assert all(f > 4 * PAGES / 2 for f in faults("after"))


@pytest.mark.parametrize(
    "name, value",
    [
        ("SEQKIT_MALLOC", "system"),
        ("MALLOC_MMAP_MAX_", "65536"),
        ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=131072"),
        ("LD_PRELOAD", "libjemalloc.so.2"),
    ],
)
def test_malloc_chosen_elsewhere_is_left_alone(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert heap.glibc() is None
    if name != "LD_PRELOAD":  # a preload that is not there would stop the interpreter
        assert all(f > PAGES / 2 for f in faults("kept", **{name: value})[-4:])


def test_a_run_computes_the_same_numbers_with_and_without_it(monkeypatch):
    settings = dict(
        cell="lstm",
        task="meansign",
        trainer="fullbatch",
        hidden_size=5,
        epochs=3,
        threads=1,
        task_options={"num_samples": 20, "seq_len": 3000, "val_samples": 4},
    )
    with host.owned():  # as the command line runs it: with the heap setting
        kept = seqkit.run(**settings, quiet=True)
    monkeypatch.setenv("SEQKIT_MALLOC", "system")
    plain = seqkit.run(**settings, quiet=True)
    assert kept.history.epochs and len(kept.history.epochs) == len(plain.history.epochs)
    for a, b in zip(kept.history.epochs, plain.history.epochs, strict=True):
        assert a["train_loss"] == b["train_loss"] and a["val_loss"] == b["val_loss"]
    assert kept.test == plain.test
