"""Per-run cgroups: a process count and a memory limit for the whole run, not per process.

``RLIMIT_AS`` bounds one process; six children of 1 GiB each still take 6 GiB. A memory
cgroup bounds them together, tmpfs pages they write (``/tmp``, ``/dev/shm``) included: the
kernel reclaims, then OOM-kills inside the group. We create the groups where we may: our
own place in the v1 ``pids`` / ``memory`` hierarchies, or in a delegated v2 one
(``pids.max`` / ``memory.max``). Where no memory group can be made, only ``RLIMIT_AS``
per process applies, and :func:`memory_enforcement` says so.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_serial = itertools.count()
_LIMIT_FILES = {"pids": ("pids.max",), "memory": ("memory.max", "memory.limit_in_bytes")}


@cache
def cgroup_base(controller: str) -> Path | None:
    """Where we may create groups for ``controller`` (``pids`` or ``memory``), or None."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, rel = line.split(":", 2)
            if controllers and controller not in controllers.split(","):
                continue
            for base in (
                [Path(f"/sys/fs/cgroup/{controller}{rel}")]
                if controllers
                else [Path(f"/sys/fs/cgroup{rel}"), Path(f"/sys/fs/cgroup/unified{rel}")]
            ):
                probe = base / f"autogpt-sbx-probe-{os.getpid()}"
                with contextlib.suppress(OSError):
                    probe.mkdir()
                    usable = any((probe / name).exists() for name in _LIMIT_FILES[controller])
                    probe.rmdir()
                    if usable:
                        return base
    return None


def memory_enforcement() -> str:
    if cgroup_base("memory") is not None:
        return "memory cgroup (whole run, tmpfs included) and RLIMIT_AS per process"
    return "RLIMIT_AS per process only (no memory cgroup can be created here)"


@dataclass
class RunGroups:
    """The groups of one run; ``paths`` are joined by the run's first process."""

    pids: Path | None = None
    memory: Path | None = None

    @property
    def paths(self) -> list[Path]:
        return list(dict.fromkeys(p for p in (self.pids, self.memory) if p is not None))

    def members(self) -> set[int]:
        found: set[int] = set()
        for path in self.paths:
            with contextlib.suppress(OSError, ValueError):
                found.update(map(int, (path / "cgroup.procs").read_text().split()))
        return found

    def memory_peak(self) -> int | None:
        for name in ("memory.peak", "memory.max_usage_in_bytes"):
            if self.memory is not None:
                with contextlib.suppress(OSError, ValueError):
                    return int((self.memory / name).read_text())
        return None

    def remove(self) -> bool:
        """True once every group is gone (a group goes when its last process is reaped)."""
        for path in self.paths:
            with contextlib.suppress(FileNotFoundError):
                try:
                    path.rmdir()
                except OSError:
                    return False
        return True


def _make(controller: str, values: dict[str, int], existing: Path | None) -> Path | None:
    if (base := cgroup_base(controller)) is None:
        return None
    path = existing if existing is not None and existing.parent == base else None
    made = path is None
    path = path or base / f"autogpt-sbx-{os.getpid()}-{next(_serial)}"
    try:
        if made:
            path.mkdir()
        written = False
        for name, value in values.items():
            if (path / name).exists():
                (path / name).write_text(str(value))
                written = True
        if not written:
            raise OSError(f"no limit file for {controller}")
    except OSError:
        with contextlib.suppress(OSError):
            if made:
                path.rmdir()
        return None
    return path


def new_groups(max_tasks: int, memory_bytes: int) -> RunGroups:
    groups = RunGroups()
    groups.pids = _make("pids", {"pids.max": max_tasks}, None)
    memory = {"memory.max": memory_bytes, "memory.swap.max": 0, "memory.limit_in_bytes": memory_bytes}
    groups.memory = _make("memory", memory, groups.pids)
    if groups.memory is not None and (groups.memory / "memory.memsw.limit_in_bytes").exists():
        with contextlib.suppress(OSError):  # no swap for the run either (v1; needs swap accounting)
            (groups.memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
    return groups
