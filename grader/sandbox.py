"""The test process of one grading: isolated by the operating system, limited, and afterwards nothing of it left.

`plan()` picks the strongest isolation this machine gives (GRADER_ISOLATION=uid or none asks for less):

- "namespaces": bubblewrap (`bwrap`, Flatpak's sandbox) starts the test process in mount, PID, IPC, UTS and
  network namespaces of its own (and a user namespace when the grader is not root). It sees a read-only view
  built from an allowlist (the system's /usr, the Python installation, the grader package, the checks), a
  fresh scratch folder holding only the submission and a private /tmp (both small, in memory), its own /proc
  and /dev, and no network but a loopback of its own. As root, it runs as an unprivileged uid from a pool,
  one uid per running grading, with no capabilities. Nothing it writes outlives the run.
- "uid": an unprivileged uid of its own, and a PID namespace where util-linux `unshare` can make one (root
  only, where bwrap cannot run, e.g. in a container); files are protected by their permissions alone.
- "none": the grader's own user; only the limits below.

At every level the test process gets its own session and resource limits, and a cgroup of its own (CPU
weight, memory, process count) where one can be made (grader.cgroup). Every process of a run carries
`-X run=<id>` on its command line, so a scan of /proc finds (and kills) anything of it left.
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
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader.cgroup import Cgroup
from grader.cgroup import available as cgroups_available

__all__ = ["PROCESS_LIMIT", "UID_POOL", "LEVELS", "SCRATCH", "CHECKS", "Plan", "plan", "Child", "processes_of",
           "stop_all"]

PROCESS_LIMIT = 256  # processes and threads of a run (RLIMIT_NPROC of its uid, and its cgroup's pids.max)
UID_POOL = range(64000, 65000)
UID_LOCKS = Path("/tmp/concurrency-drills-uids")  # shared by every grader on the machine, whatever its TMPDIR
SWEEP_TIME = 3.0  # seconds to keep killing what is left of a run
TMPFS_BYTES = 64 * 2**20  # size of the in-memory scratch folder, and of /tmp, in the namespaces level
LEVELS = ("none", "uid", "namespaces")  # weakest first
SCRATCH = "/home/student"  # where the submission's folder is inside the namespaces level
CHECKS = "/opt/checks"  # where the checks are inside the namespaces level

# The test process's parent: forks the test process (in a process group of its own when argv[3] is "group",
# as in a namespace, where this process outlives it), which drops to the uid in argv[2] (unless -1); reaps
# orphans; reports the test process's wait status on the fd in argv[1]; then exits, which ends every process
# left in a PID namespace.
_INIT = """\
import ctypes, os, sys
fd, uid, group = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pid = os.fork()
if pid == 0:
    if group == "group":  # a group of its own: killpg() of it reaches neither this process nor the grader
        os.setpgid(0, 0)
    os.close(fd)
    os.environ.pop("PWD", None)  # bwrap sets it: the test process gets only the grader's environment
    if uid >= 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in range(64):  # empty the capability bounding set, then become the unprivileged uid
            libc.prctl(24, cap, 0, 0, 0)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # no_new_privs: no setuid program gives privileges back
            os._exit(125)
    os.execv(sys.argv[4], sys.argv[4:])
while True:
    done, status = os.wait()
    if done == pid:
        os.write(fd, str(status).encode())
        os._exit(0)
"""


@dataclass(frozen=True)
class Plan:
    """How this machine isolates a test process."""

    level: str  # one of LEVELS
    own_uid: bool  # runs as an unprivileged uid of the pool
    pid_namespace: bool
    cgroup: str | None  # "v1" or "v2" when each grading gets a cgroup of its own
    user: str  # who the submission runs as, and why (for the report)

    def describe(self) -> dict:
        """What the report records about the isolation of a run."""
        return {"level": self.level, "user": self.user, "pid_namespace": self.pid_namespace,
                "network": "its own loopback only" if self.level == "namespaces" else "the machine's",
                "files": {"namespaces": "a read-only view, a fresh scratch folder and /tmp",
                          "uid": "the machine's, as its own unprivileged uid",
                          "none": "the machine's, as the grader's user"}[self.level],
                "cgroup": self.cgroup or "none", "summary": self.summary}

    @property
    def summary(self) -> str:
        """For the student's report: `namespaces (own namespaces, read-only files, no network, cgroup)`."""
        if self.level == "namespaces":
            how = "own namespaces, read-only files, no network"
        elif self.level == "uid":
            how = "own unprivileged user" + (", own PID namespace" if self.pid_namespace else "")
        else:
            how = "no OS sandbox, limits only"
        return f"{self.level} ({how}{', cgroup' if self.cgroup else ''})"


@functools.cache
def plan() -> Plan:
    """The strongest isolation this process can give a child, at most GRADER_ISOLATION's (decided once)."""
    wanted = os.environ.get("GRADER_ISOLATION", "namespaces")
    if wanted not in LEVELS:
        wanted = "namespaces"
    root = os.geteuid() == 0
    cgroup = cgroups_available() if root else None
    if wanted == "namespaces" and _bwrap_works():
        if root:
            user = f"an unprivileged uid of its own ({UID_POOL.start}-{UID_POOL.stop - 1}), in its own namespaces"
        else:
            user = "the grader's own user, mapped in a user namespace of its own"
        return Plan("namespaces", root, True, cgroup, user)
    if wanted != "none" and root:
        closed = _closed_to_others(_installation())
        if closed is None:
            return Plan("uid", True, _pid_namespaces_work(), cgroup,
                        f"an unprivileged uid of its own ({UID_POOL.start}-{UID_POOL.stop - 1})")
        why = f"root: {closed} is not readable by other users, so the submission cannot run as another user"
        return Plan("none", False, _pid_namespaces_work(), cgroup, why)
    if root:
        return Plan("none", False, _pid_namespaces_work(), cgroup, f"root (GRADER_ISOLATION={wanted})")
    return Plan("none", False, False, None, "the grader's own user (no bubblewrap, not root: no OS sandbox)")


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


def _probe(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def _bwrap_works() -> bool:
    """Whether bwrap can start Python in the namespaces the namespaces level uses, with its view."""
    bwrap = shutil.which("bwrap")
    return bwrap is not None and _probe([bwrap, *_view([]), "--", sys.executable, "-I", "-S", "-c", "pass"])


@functools.cache
def _bwrap_has(option: str) -> bool:
    """Whether this bwrap knows `option` (--disable-userns came with bubblewrap 0.8)."""
    try:
        return option in subprocess.run([shutil.which("bwrap") or "bwrap", "--help"], capture_output=True,
                                        text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def _pid_namespaces_work() -> bool:
    unshare = shutil.which("unshare")
    return (os.geteuid() == 0 and unshare is not None
            and _probe([unshare, "--pid", "--fork", "--kill-child", "--mount-proc", "true"]))


# -- the read-only view of the namespaces level ----------------------------------------------------------------

_SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "hosts", "nsswitch.conf",
        "host.conf", "gai.conf", "alternatives")


def _python_folders() -> list[str]:
    """The folders of this Python installation (and of its virtual environment, if any), outermost only."""
    paths = sysconfig.get_paths()
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)),
             *(paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib"))}
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        found.add(libdir)
    found = {path for path in found if path and os.path.isdir(path)}
    found = sorted(found | {os.path.realpath(path) for path in found})
    outer = [p for p in found if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in found)]
    return [p for p in outer if p != "/"]


def _view(binds: list[tuple[str, str]]) -> list[str]:
    """bwrap's arguments for the namespaces level: the allowlisted read-only view, plus `binds` [(source,
    target)] read-only; not the scratch folder (added by Child)."""
    args = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "sandbox", "--die-with-parent", "--new-session"]
    if os.geteuid() != 0:
        args += ["--unshare-user", *(["--disable-userns"] if _bwrap_has("--disable-userns") else [])]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(TMPFS_BYTES), "--tmpfs", "/dev/shm",
             "--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp", "--ro-bind", "/usr", "/usr"]
    for name in _SYSTEM_LINKS:
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in _ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # after /tmp's tmpfs: a virtual environment or a grader installed under /tmp is bound into it
    binds = [(folder, folder) for folder in _python_folders() if not folder.startswith("/usr/")] + binds
    parents = sorted({str(parent) for _, target in binds for parent in Path(target).parents}
                     - {"/", "/tmp", "/dev", "/proc"})
    for parent in parents:  # bwrap would make them 0700, closed to the test process's uid
        args += ["--perms", "0755", "--dir", parent]
    for source, target in binds:
        args += ["--ro-bind", source, target]
    return args


def inside(plan: Plan, scratch: Path, checks: Path) -> tuple[str, str]:
    """Where the test process finds its scratch folder and the checks folder (host paths outside the
    namespaces level)."""
    if plan.level == "namespaces":
        return SCRATCH, CHECKS
    return str(scratch), str(checks)


class _Uid:
    """A uid of the pool, held (by an flock on a file of its own) until release()."""

    def __init__(self):
        folder = UID_LOCKS
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


_live: set = set()  # the Children started and not yet stopped, for stop_all()


def stop_all() -> None:
    """Kill every test process this process started and has not stopped yet (a second Ctrl-C, say)."""
    for child in list(_live):
        child.stop()


class Child:
    """One test process, started isolated as `plan` says, with `rlimits` [(resource, (soft, hard))].

    `cmd` starts with the Python executable. The test process works in `scratch`, a folder holding `files`
    ({name: bytes}, read-only for it); `checks` (a folder of the grader's) is readable at inside()'s second
    path, and so is the grader package. stdout and stderr go to the files `out` and `err`.
    """

    def __init__(self, cmd: list[str], *, plan: Plan, scratch: Path, files: dict[str, bytes], checks: Path,
                 env: dict, pass_fds: tuple, rlimits: list, out, err):
        self.run_id = secrets.token_hex(8)
        self.plan = plan
        self._status_r = self.cgroup = self._left = None
        self._stopping = threading.Lock()
        self._uid = _Uid() if plan.own_uid else None
        uid = self._uid.uid if self._uid else -1
        cmd = [cmd[0], "-X", f"run={self.run_id}", *cmd[1:]]
        join_fds = []
        try:
            self.cgroup = Cgroup.make(f"run-{self.run_id}", memory=_memory_limit(rlimits), processes=PROCESS_LIMIT)
            join_fds = self.cgroup.join_fds() if self.cgroup else []
            status_r, status_w = os.pipe()
            self._status_r = status_r
            pass_fds = (*pass_fds, status_w)
            for name, data in files.items():
                (scratch / name).write_bytes(data)
                os.chmod(scratch / name, 0o444)
            init = [sys.executable, "-I", "-S", "-c", _INIT, str(status_w), str(uid)]
            if plan.level == "namespaces":
                cmd = [*self._bwrap(scratch, files, checks), *init, "group", *cmd]
            elif plan.pid_namespace:
                cmd = [shutil.which("unshare"), "--pid", "--fork", "--kill-child", "--mount-proc", "--",
                       *init, "group", *cmd]
            else:  # the test process stays in init's group, which stop() kills: nothing else would reach it
                cmd = [*init, "same", *cmd]
            if uid >= 0 and plan.level != "namespaces":
                os.chown(scratch, uid, uid)
            if uid >= 0:
                rlimits = [*rlimits, (resource.RLIMIT_NPROC, (PROCESS_LIMIT, PROCESS_LIMIT))]

            def preexec():  # between fork and exec: system calls only
                for which, values in rlimits:
                    resource.setrlimit(which, values)
                Cgroup.join(join_fds)

            self.proc = subprocess.Popen(cmd, cwd=str(scratch), env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, pass_fds=pass_fds, start_new_session=True, preexec_fn=preexec)
            _live.add(self)
        except BaseException:
            self._close()
            raise
        finally:
            for fd in join_fds:
                os.close(fd)
            if self._status_r is not None:
                os.close(status_w)

    def _bwrap(self, scratch: Path, files: dict[str, bytes], checks: Path) -> list[str]:
        """bwrap's command line up to the command: the view, the checks, and an in-memory scratch folder
        holding `files` (bound read-only from their copies in the host's `scratch`)."""
        package = Path(__file__).resolve().parent
        args = [shutil.which("bwrap"), *_view([(str(checks), CHECKS), (str(package), str(package))])]
        args += ["--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", SCRATCH]
        for name in files:
            args += ["--ro-bind", str(scratch / name), f"{SCRATCH}/{name}"]
        return [*args, "--chdir", SCRATCH, "--"]

    def running(self) -> bool:
        return self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The test process's exit code, or minus the signal that killed it (as subprocess reports it)."""
        if self._status is not None:
            return os.waitstatus_to_exitcode(self._status)
        return None

    def stop(self) -> int:
        """Kill every process of the run; the number that could not be killed (0 when all is well). Once: a
        second call (from stop_all() and the runner both) returns the first one's count."""
        with self._stopping:
            if self._left is None:
                self._left = self._stop()
            return self._left

    def _stop(self) -> int:
        _live.discard(self)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self._read_status()
        left = self.cgroup.kill(SWEEP_TIME) if self.cgroup else 0
        marker = f"run={self.run_id}".encode()
        uid = self._uid.uid if self._uid else None
        left = max(left, _sweep(lambda pid: marker in _cmdline(pid) or (uid is not None and _uid_of(pid) == uid)))
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
        if self.cgroup is not None and not self.cgroup.pids():
            self.cgroup.kill(0)


def _memory_limit(rlimits: list) -> int:
    for which, (soft, _hard) in rlimits:
        if which == resource.RLIMIT_AS and soft != resource.RLIM_INFINITY:
            return soft
    return 4 * 2**30


def processes_of(run_id: str) -> list[int]:
    """Live processes (not zombies) of the run `run_id`, found by the marker on their command line."""
    marker = f"run={run_id}".encode()
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
