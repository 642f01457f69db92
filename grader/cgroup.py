"""A control group per grading, where the machine lets the grader make one: CPU weight, memory, processes.

With a cgroup of its own, a grading that starts 40 busy processes gets the same share of the CPU as a
neighbour with one (the kernel shares CPU between cgroups of equal weight, not between processes), all its
processes together stay under one memory limit and one process count, and every one of them can be found
and killed, whatever sessions or namespaces it made.

cgroup v2 (one unified hierarchy) is used where the grader can enable the cpu, memory and pids controllers
for a folder of its own under the root; otherwise cgroup v1 (a hierarchy per controller), as on machines
that still mount those. Where neither works (no root, a container without a writable /sys/fs/cgroup),
`Cgroup.make()` returns None and the grading runs without one: rlimits still bound each process.
"""
from __future__ import annotations

import functools
import os
import signal
import time
from pathlib import Path

__all__ = ["Cgroup", "available"]

ROOT = Path("/sys/fs/cgroup")
FOLDER = "concurrency-drills"  # the grader's own folder in each hierarchy; one subfolder per grading
CPU_WEIGHT = 100  # v2 weight (v1: shares of 1024); equal for every grading
_CONTROLLERS = ("cpu", "memory", "pids")


@functools.cache
def available() -> str | None:
    """'v2' or 'v1' if this process can make cgroups for gradings, else None (decided once per process)."""
    if _v2_base() is not None:
        return "v2"
    if _v1_bases() is not None:
        return "v1"
    return None


def _v2_base() -> Path | None:
    """The grader's v2 folder, with cpu, memory and pids enabled for its children, or None."""
    if not (ROOT / "cgroup.controllers").is_file():
        return None
    try:
        if not set(_CONTROLLERS) <= set((ROOT / "cgroup.controllers").read_text().split()):
            return None
        base = ROOT / FOLDER
        base.mkdir(exist_ok=True)
        for folder in (ROOT, base):
            (folder / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in _CONTROLLERS))
        return base
    except OSError:
        return None


def _v1_bases() -> dict[str, Path] | None:
    """{controller: the grader's folder in that v1 hierarchy}, or None if any of them cannot be made."""
    bases = {}
    for controller in _CONTROLLERS:
        mount = ROOT / controller
        if not (mount / "cgroup.procs").is_file():
            return None
        try:
            base = mount.resolve() / FOLDER
            base.mkdir(exist_ok=True)
        except OSError:
            return None
        bases[controller] = base
    return bases


class Cgroup:
    """One grading's cgroup (a folder per hierarchy): limits written, processes joined with join_fds()."""

    def __init__(self, folders: list[Path], version: str):
        self.folders = folders
        self.version = version

    @classmethod
    def make(cls, name: str, *, memory: int, processes: int) -> Cgroup | None:
        """A new cgroup called `name` with these limits, or None where cgroups cannot be made."""
        version = available()
        if version is None:
            return None
        if version == "v2":
            folders = [_v2_base() / name]
            settings = {"cpu.weight": CPU_WEIGHT, "memory.max": memory, "memory.swap.max": 0, "pids.max": processes}
        else:
            bases = _v1_bases()
            folders = [bases[c] / name for c in _CONTROLLERS]
            settings = {"cpu.shares": 1024, "memory.limit_in_bytes": memory, "pids.max": processes}
        made = []
        try:
            for folder in folders:
                folder.mkdir()
                made.append(folder)
            for key, value in settings.items():
                for folder in folders:
                    if (folder / key).exists():
                        (folder / key).write_text(str(value))
        except OSError:
            for folder in made:
                _rmdir(folder)
            return None
        return cls(folders, version)

    def join_fds(self) -> list[int]:
        """Open files that a process joins this cgroup by writing b"0" to (see join()); close them after."""
        return [os.open(folder / "cgroup.procs", os.O_WRONLY) for folder in self.folders]

    @staticmethod
    def join(fds: list[int]) -> None:
        """Move the calling process into the cgroup (between fork and exec: system calls only)."""
        for fd in fds:
            os.write(fd, b"0")

    def pids(self) -> set[int]:
        found = set()
        for folder in self.folders:
            try:
                found.update(int(line) for line in (folder / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def kill(self, seconds: float) -> int:
        """SIGKILL every process in the cgroup until none is left or `seconds` pass; remove the cgroup.
        Returns the number of processes still in it."""
        deadline = time.monotonic() + seconds
        while True:
            left = self.pids()
            if not left or time.monotonic() > deadline:
                break
            if self.version == "v2" and (self.folders[0] / "cgroup.kill").exists():
                try:
                    (self.folders[0] / "cgroup.kill").write_text("1")
                except OSError:
                    pass
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)
        for folder in self.folders:
            _rmdir(folder, until=deadline)
        return len(left)


def _rmdir(folder: Path, until: float = 0.0) -> None:
    """Remove a cgroup folder; a cgroup whose last processes are still being reaped is busy for a moment."""
    while True:
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > until:
                return
            time.sleep(0.01)
