from __future__ import annotations

import pytest
import torch

from seqkit._plugins.registry import Registry, load_registry


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The registry of installed plugins, built through the entry points."""
    return load_registry(strict=True)


@pytest.fixture(autouse=True, scope="session")
def _own_tuning_cache(tmp_path_factory):
    # Measured thread and kernel choices go to a cache of the suite's own (subprocesses
    # inherit it), never to the user's.
    mp = pytest.MonkeyPatch()
    mp.setenv("SEQKIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny models run faster on one thread, and tests must not fight over 2 cores.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
