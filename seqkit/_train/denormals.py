"""Subnormal floats during a CPU run: flushed to zero, unless the run keeps them.

Vanishing gradients pass through the subnormal floats on their way to 0 (below about
1.2e-38 in float32, 2.2e-308 in float64), and x86 CPUs compute with those through
microcode assists, many times slower than with normal numbers. A long sequence's
backward pass can be full of them: on adding at T=200 (hidden size 128, batch 50, one
thread, raw inputs) the first 40 training steps took 7.3x (RNN) and 3.3x (GRU) as long
as with subnormals flushed, the LSTM's the same; at the notebook's section 4 (T=2000) the LSTM
took 1.4x (`python -m benchmarks.denormals`). For a run that flushes (the `seqkit`
command's default; a library call's only with `flush_denormals=True`, see
`seqkit._train.host`), seqkit sets the CPU's flush-to-zero and denormals-are-zero modes
(`torch.set_flush_denormal`), as TensorFlow's CPU threads do by default, and restores the
thread's mode after it.

A flushed value was under 1.2e-38 and its effect on a weight under Adam's or SGD's
update is below float32's resolution of that weight; the losses can still differ from a
run that keeps subnormals in the last bits. `--keep-denormals` (`flush_denormals=False`)
keeps IEEE arithmetic. The gradient probe rescales its vectors at every step, so it reads
the same curves either way (tested on an RNN whose gradient falls below 1e-38).

The mode belongs to a thread. The run's own thread (which also runs the CPU backward
pass) is set and restored; torch's intra-op worker threads started during the run
inherit it, and keep it after the run; workers started before it do not get it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


def flushing() -> bool:
    """Whether this thread flushes subnormals to zero now, as a result (flush-to-zero) or
    as an operand (denormals-are-zero): torch has no getter, so a subnormal is made and
    used here, and reads 0 when either mode is on."""
    return (torch.tensor(1e-40, dtype=torch.float32) * 1.0).item() == 0.0


@contextmanager
def flushed(flush: bool = True) -> Iterator[bool]:
    """Flush subnormals to zero on this thread inside the block, when `flush`; yields
    whether they are flushed (False too where the CPU has no such mode: not x86 with
    SSE3). The thread's mode before the block is restored after it."""
    before = flushing()
    if before == flush or not torch.set_flush_denormal(flush):
        yield before
        return
    try:
        yield flush
    finally:
        torch.set_flush_denormal(before)
