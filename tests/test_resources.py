"""Resource limits: a run whose data or training step cannot fit in memory is refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from seqkit._core import memory
from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError
from seqkit._plugins.registry import get_registry
from seqkit._run import resources
from seqkit._run.plan import plan
from seqkit._run.resources import check_memory, estimate, size

GIB = 2**30


def _task(name: str, **options):
    return get_registry().resolve("task", name, options).build()


def _meansign_config(**settings) -> RunConfig:
    """meansign's own defaults, as `plan` would resolve them (without building a model)."""
    return RunConfig(
        task="meansign",
        cell="gru",
        **{"hidden_size": 16, "batch_size": 100, "epochs": 8, **settings},
    )


def test_the_default_sum_run_fits_and_its_data_are_counted_exactly():
    the_plan = plan(RunConfig(task="sum", cell="gru"))
    check_memory(the_plan.config, the_plan.task)  # no error: it fits
    need = estimate(the_plan.config, the_plan.task)
    # 50,000 + 1,000 sequences of 6 inputs and 1 target, float32.
    assert need.data == (50_000 + 1_000) * (6 + 1) * 4
    assert need.total < 100 * 2**20


def test_a_million_sequences_of_a_million_steps_is_refused_with_the_estimate():
    task = _task("meansign", seq_len=1_000_000, num_samples=1_000_000)
    with pytest.raises(ConfigError) as err:
        check_memory(_meansign_config(), task)
    message = str(err.value)
    # 1,000,500 sequences x 10^6 steps x 10 features x 4 bytes = 36 TiB.
    assert message.startswith(
        "the run does not fit in memory: it needs about 36 TiB (data 36 TiB, one step's activ"
    )
    assert "GiB available" in message and "--task-opt num_samples" in message
    assert "\n" not in message


def test_small_available_memory_refuses_even_the_default_run(monkeypatch):
    the_plan = plan(RunConfig(task="sum", cell="gru"))
    monkeypatch.setattr(resources, "available_memory", lambda: 2**20)
    with pytest.raises(ConfigError, match="does not fit in memory"):
        plan(RunConfig(task="sum", cell="gru"))  # plan() runs the check
    with pytest.raises(ConfigError, match=r"but this machine has 1\.0 MiB available") as err:
        check_memory(the_plan.config, the_plan.task)
    # Activations (250 x 6 steps x 50 units x 12 floats) outweigh the 1.4 MB of data here.
    assert "data 1.4 MiB, one step's activations 3.4 MiB" in str(err.value)
    assert "--batch-size or --hidden-size" in str(err.value)


def test_the_check_allows_up_to_90_percent_of_available_memory(monkeypatch):
    the_plan = plan(RunConfig(task="sum", cell="gru"))
    total = estimate(the_plan.config, the_plan.task).total
    monkeypatch.setattr(resources, "available_memory", lambda: int(total / 0.9) + 1)
    check_memory(the_plan.config, the_plan.task)
    monkeypatch.setattr(resources, "available_memory", lambda: int(total / 0.9) - 1)
    with pytest.raises(ConfigError):
        check_memory(the_plan.config, the_plan.task)


def test_parameters_layers_directions_and_tbptt_change_the_estimate():
    task = _task("meansign", seq_len=1000)
    base = estimate(_meansign_config(), task)
    assert estimate(_meansign_config(), task, parameters=1000).parameters == 1000 * 16
    stacked = _meansign_config(cell_options={"num_layers": 3, "bidirectional": True})
    out = 1 * 100 * 4  # the batch's outputs: one step of one value per sequence
    assert estimate(stacked, task).activations - out == 6 * (base.activations - out)
    chunked = estimate(_meansign_config(tbptt=10), task)
    assert chunked.activations - out == (base.activations - out) // 100
    assert chunked.data == base.data


def test_parameters_are_named_in_the_refusal(monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: GIB)
    the_plan = plan(RunConfig(task="sum", cell="gru"))
    with pytest.raises(ConfigError, match="optimizer state 16 GiB") as err:
        check_memory(the_plan.config, the_plan.task, parameters=2**30)
    assert err.match("use a smaller --hidden-size$")


def test_available_memory_reads_meminfo_then_falls_back_to_physical_pages(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  8000 kB\nMemFree:  100 kB\nMemAvailable:  2048 kB\n")
    monkeypatch.setattr(memory, "MEMINFO", meminfo)
    assert memory.available_memory() == 2048 * 1024
    monkeypatch.setattr(memory, "MEMINFO", tmp_path / "missing")
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert memory.available_memory() == physical


def test_no_readable_memory_skips_the_check(tmp_path, monkeypatch):
    def no_sysconf(name: str) -> int:
        raise ValueError(name)

    monkeypatch.setattr(memory, "MEMINFO", tmp_path / "missing")
    monkeypatch.setattr(os, "sysconf", no_sysconf)
    assert memory.available_memory() is None
    task = _task("meansign", seq_len=1_000_000, num_samples=1_000_000)
    check_memory(_meansign_config(), task)  # nothing to compare with: no error


@pytest.mark.parametrize(
    ("n", "shown"),
    [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (812 * GIB, "812 GiB"), (40e12, "36 TiB")],
)
def test_sizes_are_shown_in_binary_units(n, shown):
    assert size(n) == shown


def test_before_the_sizes_are_resolved_only_the_data_count():
    task = _task("meansign", seq_len=1_000_000, num_samples=1_000_000)
    unresolved = RunConfig(task="meansign", cell="gru")  # as plan() gets it: no hidden size
    need = estimate(unresolved, task)
    assert need.activations == 0 and need.data == estimate(_meansign_config(), task).data
    with pytest.raises(ConfigError) as err:
        check_memory(unresolved, task)
    assert "(data 36 TiB) but this machine has" in str(err.value)


def test_a_run_that_cannot_fit_is_refused_by_seqkit_run_before_anything_is_written(
    tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from seqkit._cli.main import cli

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["run", "--cell", "gru", "--task", "meansign", "--task-opt", "seq_len=1000000",
         "--task-opt", "num_samples=1000000"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert "does not fit in memory" in result.output and "TiB" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "files, left",
    [
        ({"memory.max": "3000000\n", "memory.current": "1000000\n"}, 2_000_000),
        ({"memory.max": "max\n", "memory.current": "1000000\n"}, None),
        (
            {
                "memory/memory.limit_in_bytes": "5000000\n",
                "memory/memory.usage_in_bytes": "4000000\n",
            },
            1_000_000,
        ),
        (
            {
                "memory/memory.limit_in_bytes": f"{2**63 - 4096}\n",
                "memory/memory.usage_in_bytes": "1\n",
            },
            None,
        ),
        ({}, None),
    ],
    ids=["v2-limit", "v2-max", "v1-limit", "v1-unlimited", "none"],
)
def test_a_containers_memory_limit_is_read_from_its_cgroup(tmp_path, monkeypatch, files, left):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(memory, "CGROUP", tmp_path)
    assert memory.cgroup_memory_left() == left
    if left is not None:  # the least of what the machine, the cgroup and ulimit allow
        assert memory.available_memory() == left


def test_ulimit_v_is_seen_before_anything_is_allocated(tmp_path):
    """A real RLIMIT_AS (`ulimit -v`) a few GiB above what the interpreter has mapped:
    a run whose data alone needs more is refused with the check's one line, though the
    machine has the memory."""
    probe = (
        "import resource, seqkit._core.memory as r; "
        "print(r.address_space_left(), r.machine_memory())"
    )
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "import torch, seqkit\n"  # map what a run maps before the limit is set
        "vm = next(int(l.split()[1]) * 1024 for l in Path('/proc/self/status').read_text()"
        ".splitlines() if l.startswith('VmSize:'))\n"
        "limit = vm + 3 * 2**30\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        "try:\n"
        "    seqkit.run(cell='gru', task='meansign', epochs=1, quiet=True,\n"
        "               task_options={'num_samples': 20000, 'seq_len': 5000})\n"
        "except seqkit.ConfigError as exc:\n"
        "    print(exc)\n"
    )
    machine = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    if int(machine[1]) < 6 * 2**30:
        pytest.skip("needs a machine with more free memory than the limit leaves")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    # 20,500 sequences x 5,000 steps x 10 features x 4 bytes = 3.8 GiB of data
    assert done.stdout.startswith("the run does not fit in memory: it needs about"), done.stdout
    assert "ulimit -v" in done.stdout
