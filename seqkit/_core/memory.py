"""How much memory this process can still take, read from the machine, its cgroup and
`ulimit -v`: what a run's plan and a data file's reader check before they allocate."""

from __future__ import annotations

import os
from pathlib import Path

from seqkit._core.errors import ConfigError

HEADROOM = 0.9
"""The share of the available memory a run or a reader may plan to use."""
MEMINFO = Path("/proc/meminfo")
CGROUP = Path("/sys/fs/cgroup")


def available_memory() -> int | None:
    """Bytes of memory this process can still take: the least of what the machine has
    free, what its cgroup's memory limit leaves (a container's) and what `ulimit -v`
    leaves of its address space; None when none of them can be read."""
    sources = (machine_memory(), cgroup_memory_left(), address_space_left())
    found = [m for m in sources if m is not None]
    return min(found) if found else None


def machine_memory() -> int | None:
    """/proc/meminfo's MemAvailable on Linux, else the physical memory."""
    try:
        for line in MEMINFO.read_text().splitlines():
            key, _, value = line.partition(":")
            if key == "MemAvailable":
                return int(value.split()[0]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def cgroup_memory_left() -> int | None:
    """The cgroup's memory limit less what the cgroup uses (v2: `memory.max` and
    `memory.current`; v1: `memory/memory.limit_in_bytes` and `usage_in_bytes`); None
    without a limit (`max`, or v1's page-counter maximum) or a cgroup to read."""
    for limit_file, usage_file in (
        ("memory.max", "memory.current"),
        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),
    ):
        try:
            limit = (CGROUP / limit_file).read_text().strip()
            usage = int((CGROUP / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or not limit.isdigit() or int(limit) >= 2**62:  # no limit
            return None
        return max(int(limit) - usage, 0)
    return None


def address_space_left() -> int | None:
    """`RLIMIT_AS` (`ulimit -v`) less the process's address space now (VmSize): a run's
    allocations beyond it fail however much memory is free. None without a limit."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return None
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return max(limit - int(line.split()[1]) * 1024, 0)
    except (ImportError, OSError, ValueError, IndexError):
        return None
    return None


def check_fits(need: int, where: str, what: str) -> None:
    """Raise ConfigError when `need` bytes exceed HEADROOM of the available memory:
    `where: what needs about 1.2 GiB but this machine has 512 MiB available`."""
    available = available_memory()
    if available is not None and need > HEADROOM * available:
        raise ConfigError(
            f"{where}: {what} needs about {size(need)} of memory but this machine has "
            f"{size(available)} available (free memory, or what the process's cgroup or "
            "`ulimit -v` leaves of it)"
        )


def size(n: float) -> str:
    """Bytes in binary units, 2 or 3 significant digits: `812 GiB`, `1.5 MiB`, `12 KiB`."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    power = 0
    while n >= 1024 and power < len(units) - 1:
        n, power = n / 1024, power + 1
    return f"{n:.0f} {units[power]}" if n >= 10 or power == 0 else f"{n:.1f} {units[power]}"
