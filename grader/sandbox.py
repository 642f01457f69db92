"""The test process of one grading: started isolated and limited, and afterwards, nothing of it left alive.

The child always gets its own session and resource limits. As root, with util-linux `unshare`, it also gets
a PID namespace of its own: it cannot see or signal the grader or any other process, and when the namespace
ends (its first process, a tiny init, exits or is killed) the kernel ends every process in it, whatever
sessions they made. As root, and when the Python installation is readable by other users, it also runs as
an unprivileged uid of its own from a pool: then it cannot write the repository and RLIMIT_NPROC bounds its
processes and threads. Elsewhere it runs as the grader's own user; `Plan.user` says which, for the report.

Every process of a run carries `-X grader-run=<id>` on its command line, so a scan of /proc finds (and
kills) anything of it left, whatever isolation the machine allows.
"""
from __future__ import annotations

import fcntl
import functools
import os
import pwd
import resource
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROCESS_LIMIT", "UID_POOL", "Plan", "plan", "Child", "processes_of"]

PROCESS_LIMIT = 256  # processes and threads of a run's own uid (RLIMIT_NPROC), when it has one
UID_POOL = range(64000, 65000)
SWEEP_TIME = 3.0  # seconds to keep killing what is left of a run

# pid 1 of the namespace: runs the test process, reaps orphans, reports the test process's wait status on
# the fd in argv[1], then exits, which ends every process left in the namespace.
_INIT = """\
import os, sys
os.setsid()  # out of the grader's process group
fd = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)  # a group of its own too: killpg() of it reaches neither init nor the grader
    os.close(fd)
    os.execv(sys.argv[2], sys.argv[2:])
while True:
    done, status = os.wait()
    if done == pid:
        os.write(fd, str(status).encode())
        os._exit(0)
"""


@dataclass(frozen=True)
class Plan:
    """How this machine isolates a test process: a uid of its own or not, a PID namespace or not."""

    own_uid: bool
    namespace: bool
    user: str  # for the report: who the submission runs as, and why


@functools.cache
def plan() -> Plan:
    """The strongest isolation this process can give a child (decided once per process)."""
    if os.geteuid() != 0:
        return Plan(False, False, "the grader's own user (the grader does not run as root: no separate user, "
                                  "no PID namespace, no process limit)")
    namespace = _namespaces_work()
    closed = _closed_to_others(_installation())
    if closed:
        user = (f"root: {closed} is not readable by other users, so the submission cannot run as an "
                "unprivileged user (no process limit)")
        return Plan(False, namespace, user)
    return Plan(True, namespace, f"an unprivileged uid of its own ({UID_POOL.start}-{UID_POOL.stop - 1})")


def _installation() -> list[str]:
    paths = sysconfig.get_paths()
    found = [os.path.realpath(sys.executable), str(Path(__file__).resolve().parent), tempfile.gettempdir()]
    found += [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")]
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir and os.path.isdir(libdir):
        found.append(libdir)
    return found


def _closed_to_others(paths: list[str]) -> str | None:
    """The first of `paths` (or a folder above one) that a user other than its owner cannot read, if any."""
    for path in paths:
        current = Path(path).resolve()
        for folder in [*reversed(current.parents), current]:
            try:
                mode = folder.stat().st_mode
            except OSError:
                return str(folder)
            needed = stat.S_IXOTH | (stat.S_IROTH if folder == current else 0)
            if stat.S_ISREG(mode):
                needed = stat.S_IROTH
            if mode & needed != needed:
                return str(folder)
    return None


@functools.cache
def _namespaces_work() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    try:
        probe = subprocess.run([unshare, "--pid", "--fork", "--kill-child", "--mount-proc", "true"],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


class _Uid:
    """A uid of the pool, held (by an flock on a file of its own) until release()."""

    def __init__(self):
        folder = Path(tempfile.gettempdir()) / "concurrency-drills-uids"
        folder.mkdir(mode=0o700, exist_ok=True)
        for uid in UID_POOL:
            try:
                pwd.getpwuid(uid)
                continue  # a named user: not ours to use
            except KeyError:
                pass
            handle = open(folder / f"{uid}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self.uid, self._handle = uid, handle
            _sweep(lambda pid: _uid_of(pid) == uid)  # a crashed grader may have left processes of it
            return
        raise OSError(f"all {len(UID_POOL)} sandbox uids are in use")

    def release(self) -> None:
        self._handle.close()


class Child:
    """One test process, started isolated as `plan` allows, with `rlimits` [(resource, (soft, hard))].

    `cmd` starts with the Python executable; the child's stdout and stderr go to the files `out` and `err`.
    """

    def __init__(self, cmd: list[str], *, cwd: str, env: dict, pass_fds: tuple, rlimits: list, out, err,
                 plan: Plan, writable: list[str]):
        self.run_id = secrets.token_hex(8)
        self.plan = plan
        self._uid = _Uid() if plan.own_uid else None
        uid = self._uid.uid if self._uid else None
        if uid is not None:
            for path in writable:
                os.chown(path, uid, uid)
        cmd = [cmd[0], "-X", f"grader-run={self.run_id}", *cmd[1:]]
        self._status_r = None
        options = {}
        if plan.namespace:
            status_r, status_w = os.pipe()
            self._status_r = status_r
            pass_fds = (*pass_fds, status_w)
            ids = ["--setuid", str(uid), "--setgid", str(uid)] if uid is not None else []
            cmd = [shutil.which("unshare"), "--pid", "--fork", "--kill-child", "--mount-proc", *ids, "--",
                   sys.executable, "-I", "-S", "-c", _INIT, str(status_w), *cmd]
        elif uid is not None:
            options = {"user": uid, "group": uid, "extra_groups": []}
        if uid is not None:
            rlimits = [*rlimits, (resource.RLIMIT_NPROC, (PROCESS_LIMIT, PROCESS_LIMIT))]

        def preexec():  # between fork and exec: system calls only
            for which, values in rlimits:
                resource.setrlimit(which, values)

        try:
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         pass_fds=pass_fds, start_new_session=True, preexec_fn=preexec, **options)
        except BaseException:
            self._close()
            raise
        finally:
            if plan.namespace:
                os.close(status_w)

    def running(self) -> bool:
        return self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The test process's exit code, or minus the signal that killed it (as subprocess reports it)."""
        if self._status is not None:
            return os.waitstatus_to_exitcode(self._status)
        return None if self.plan.namespace else self.proc.returncode

    def stop(self) -> int:
        """Kill every process of the run; the number that could not be killed (0 when all is well)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self._read_status()
        marker = f"grader-run={self.run_id}".encode()
        uid = self._uid.uid if self._uid else None
        left = _sweep(lambda pid: marker in _cmdline(pid) or (uid is not None and _uid_of(pid) == uid))
        self._close()
        return left

    _status = None

    def _read_status(self) -> None:
        if self._status_r is None:
            return
        os.set_blocking(self._status_r, False)  # init may have been killed before it could write
        try:
            text = os.read(self._status_r, 64).decode()
            self._status = int(text) if text else None
        except (OSError, ValueError):
            self._status = None

    def _close(self) -> None:
        if self._status_r is not None:
            os.close(self._status_r)
            self._status_r = None
        if self._uid is not None:
            self._uid.release()
            self._uid = None


def processes_of(run_id: str) -> list[int]:
    """Live processes (not zombies) of the run `run_id`, found by the marker on their command line."""
    marker = f"grader-run={run_id}".encode()
    return [pid for pid in _pids() if marker in _cmdline(pid) and _alive(pid)]


def _sweep(belongs) -> int:
    """SIGKILL the live processes for which belongs(pid) holds, until none is left or SWEEP_TIME passes."""
    deadline = time.monotonic() + SWEEP_TIME
    while True:
        found = [pid for pid in _pids() if belongs(pid) and _alive(pid)]
        if not found or time.monotonic() > deadline:
            return len(found)
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit() and int(name) != os.getpid()]
    except OSError:
        return []


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read(8192)
    except OSError:
        return b""


def _uid_of(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie (a zombie is dead, only not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            state = file.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")
