"""Grade one implementation of one problem in a sandboxed child process.

Untrusted code never runs in this process. The child is `python -m pytest` with grader.plugin, in a
scratch directory holding only the submission, with a minimal environment, its own session (process
group), resource limits, a time limit per check and one for the whole run. The verdict comes only from
signed result lines on a pipe of the runner's own; stdout, stderr and the exit status are evidence.
A check with no valid result fails, with a message that says what happened to the test process.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader.catalog import GraderError, Problem
from grader.report import CheckResult, Report

__all__ = ["grade", "grade_all", "MEMORY_LIMIT", "STARTUP_SLACK"]

MEMORY_LIMIT = 4 * 2**30  # bytes of address space (RLIMIT_AS)
FILE_SIZE_LIMIT = 64 * 2**20  # bytes a file, stdout and stderr included (RLIMIT_FSIZE)
OPEN_FILES_LIMIT = 1024
STARTUP_SLACK = 10.0  # seconds on top of time_limit x checks, for starting Python and pytest
CPU_SLACK = 5.0  # CPU seconds past the wall limit before SIGXCPU
EXIT_GRACE = 2.0  # seconds the child gets to exit after its last result line
MAX_LINE = 64 * 1024  # bytes in one result line
MAX_LINES = 1000  # result lines read from one run
TAIL = 20_000  # characters of stdout and stderr kept as evidence

_INI = """\
[pytest]
addopts =
python_files = test_*.py
timeout_method = signal
timeout_disable_debugger_detection = true
"""
_IMPORT = object()  # "the import of the submission was running"


def grade(problem: Problem, impl_path, *, seed: int | None = None, base_seed: int = 0, only=None,
          replay: str | None = None, on_result=None) -> Report:
    """Grade the file `impl_path` against `problem`'s checks (all, or the names in `only`).

    `seed` replays exactly one schedule; `base_seed` is the first seed the scheduler explores.
    `replay` is the command that regrades this file (`grader test counter`), for failures' Replay: lines.
    `on_result(name, passed)` is called as each check's signed result arrives (for progress lines).
    Raises GraderError if the file does not exist or `only` names an unknown check.
    """
    impl = Path(impl_path)
    if not impl.is_file():
        raise GraderError(f"no such file: {impl_path}")
    if isinstance(only, str):
        only = [only]
    names = [problem.check(name).name for name in only] if only else [check.name for check in problem.checks]
    wall = problem.time_limit * len(names) + STARTUP_SLACK
    limits = {
        "time_limit": problem.time_limit,
        "wall_limit": wall,
        "cpu_limit": wall + CPU_SLACK,
        "memory_bytes": MEMORY_LIMIT,
        "file_size_bytes": FILE_SIZE_LIMIT,
        "open_files": OPEN_FILES_LIMIT,
    }
    with tempfile.TemporaryDirectory(prefix="grader-scratch-", ignore_cleanup_errors=True) as scratch, \
            tempfile.TemporaryDirectory(prefix="grader-harness-", ignore_cleanup_errors=True) as harness:
        impl_copy = Path(scratch) / f"{problem.slug}.py"
        shutil.copyfile(impl, impl_copy)
        checks_copy = Path(harness) / problem.checks_file.name
        shutil.copyfile(problem.checks_file, checks_copy)
        ini = Path(harness) / "pytest.ini"
        ini.write_text(_INI)
        targets = [f"{checks_copy}::test_{name}" for name in names] if only else [str(checks_copy)]
        options = [f"--timeout={problem.time_limit:g}", "--impl", str(impl_copy), "--grader-base-seed", str(base_seed)]
        if seed is not None:
            options += ["--grader-seed", str(seed)]
        if replay:
            options += ["--grader-replay", replay]
        cmd = [
            sys.executable, "-s", "-P", "-m", "pytest",
            "-p", "pytest_timeout", "-p", "_hypothesis_pytestplugin", "-p", "grader.plugin",
            "-p", "no:cacheprovider", "-c", str(ini), "--rootdir", harness, "--confcutdir", harness,
            "-q", "--tb=short", "--color=no", *options, *targets,
        ]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": scratch,
            "TMPDIR": scratch,
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
        run = _Run(cmd, scratch, env, names, wall, on_result)
        shown_as = str(impl_copy.resolve())  # the file name in the child's tracebacks
    return _report(problem, impl, shown_as, names, run, limits)


def grade_all(tasks, jobs: int | None = None) -> list[Report]:
    """Grade many (problem, impl_path) pairs, `jobs` child processes at a time; reports in task order."""
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return list(pool.map(lambda task: grade(*task), tasks))


def _rlimits(wall: float) -> list[tuple[int, tuple[int, int]]]:
    """The limits for the child, capped by this process's own hard limits (set before exec)."""
    cpu = int(wall + CPU_SLACK) + 1
    wanted = [
        (resource.RLIMIT_AS, MEMORY_LIMIT, MEMORY_LIMIT),
        (resource.RLIMIT_CPU, cpu, cpu + 5),
        (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT, FILE_SIZE_LIMIT),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NOFILE, OPEN_FILES_LIMIT, OPEN_FILES_LIMIT),
    ]
    limits = []
    for which, soft, hard in wanted:
        current = resource.getrlimit(which)[1]
        if current != resource.RLIM_INFINITY:
            hard = min(hard, current)
        limits.append((which, (min(soft, hard), hard)))
    return limits


class _Run:
    """One child process: start it, read its result channel until it ends or its time is up, kill its group."""

    def __init__(self, cmd, cwd, env, names, wall, on_result=None):
        self.on_result = on_result
        self.key = secrets.token_bytes(32)
        self.names = set(names)
        self.results: dict[str, dict] = {}
        self.import_error = None
        self.running = None  # the check (or _IMPORT) that began last
        self.ended = False
        self.rejected = 0
        self.lines = 0
        self.timed_out = False
        self.killed = False
        self._buffer = b""
        self._skipping = False
        limits = _rlimits(wall)

        def preexec():  # runs in the child between fork and exec: keep it to system calls
            for which, values in limits:
                resource.setrlimit(which, values)

        result_r, result_w = os.pipe()
        nonce_r, nonce_w = os.pipe()
        os.write(nonce_w, self.key.hex().encode())
        os.close(nonce_w)
        cmd = cmd + ["--result-fd", str(result_w), "--nonce-fd", str(nonce_r)]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(
                    cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                    pass_fds=(result_w, nonce_r), start_new_session=True, preexec_fn=preexec,
                )
            except BaseException:
                os.close(result_r)
                raise
            finally:
                os.close(result_w)
                os.close(nonce_r)
            try:
                self._read(proc, result_r, time.monotonic() + wall)
            finally:
                self.killed = proc.poll() is None  # still running: we stop it now
                _kill_group(proc)
                self._drain(result_r)
                os.close(result_r)
            self.returncode = proc.returncode
            self.stdout = _tail(out)
            self.stderr = _tail(err)

    def _read(self, proc, fd, deadline):
        exited_at = ended_at = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                self.timed_out = proc.poll() is None
                return
            if ended_at is None and self.ended:
                ended_at = now
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            # After the last result, or once the child is gone, a leftover process may hold the pipe open.
            if (ended_at and now - ended_at > EXIT_GRACE) or (exited_at and now - exited_at > 0.5):
                return
            ready, _, _ = select.select([fd], [], [], min(0.05, deadline - now))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:  # every write end is closed: no more results can come
                    try:
                        proc.wait(timeout=max(0.0, min(deadline - time.monotonic(), EXIT_GRACE)))
                    except subprocess.TimeoutExpired:
                        pass
                    return
                self._feed(chunk)

    def _drain(self, fd):
        os.set_blocking(fd, False)
        try:
            while chunk := os.read(fd, 65536):
                self._feed(chunk)
        except BlockingIOError:
            pass

    def _feed(self, chunk: bytes):
        self._buffer += chunk
        while True:
            line, newline, rest = self._buffer.partition(b"\n")
            if not newline:
                if len(self._buffer) > MAX_LINE:
                    self._buffer, self._skipping = b"", True
                return
            self._buffer = rest
            if self._skipping or len(line) > MAX_LINE:
                self._skipping = False
                self.rejected += 1
            elif not self._accept(line):
                self.rejected += 1

    def _accept(self, line: bytes) -> bool:
        """Take one result line if it is signed, well-formed and new; False if it is rejected."""
        if self.lines >= MAX_LINES:
            return False
        self.lines += 1
        mac, _, body = line.partition(b" ")
        expected = hmac.new(self.key, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(mac, expected):
            return False
        try:
            record = json.loads(body)
        except ValueError:
            return False
        if not isinstance(record, dict):
            return False
        kind = record.get("kind")
        if kind == "begin":
            check = record.get("check")
            if check is not None and check not in self.names:
                return False
            self.running = _IMPORT if check is None else check
        elif kind == "import_error" and isinstance(record.get("message"), str) and self.import_error is None:
            self.import_error = record["message"]
        elif kind == "end":
            self.ended = True
        elif kind == "check":
            return self._accept_check(record)
        else:
            return False
        return True

    def _accept_check(self, record: dict) -> bool:
        check, seed, duration = record.get("check"), record.get("seed"), record.get("duration")
        if check not in self.names or check in self.results:
            return False
        if not isinstance(record.get("passed"), bool) or not isinstance(record.get("message"), str):
            return False
        if seed is not None and type(seed) is not int:
            return False
        if type(duration) not in (int, float):
            return False
        self.results[check] = {"passed": record["passed"], "message": record["message"], "seed": seed,
                               "duration": float(duration)}
        if self.on_result is not None:
            self.on_result(check, record["passed"])
        return True


def _kill_group(proc):
    """SIGKILL the child's whole process group, then reap the child."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


def _tail(file) -> str:
    """The last TAIL characters of a captured output, decoded and stripped of escapes and NULs."""
    size = file.seek(0, os.SEEK_END)
    file.seek(max(0, size - 4 * TAIL))
    text = _ESCAPES.sub("", file.read().decode("utf-8", errors="replace").replace("\r\n", "\n"))
    if size > 4 * TAIL or len(text) > TAIL:
        text = "[... earlier output cut]\n" + text[-TAIL:]
    return text


def _cause(run: _Run, wall: float, cpu: float) -> str:
    """What happened to the test process, as a clause: 'the test process exited with code 3'."""
    if run.timed_out:
        return f"the test process was stopped at the run's {wall:g} s time limit"
    if run.killed:
        return "the test process stopped sending results (its result channel was closed) and was killed"
    code = run.returncode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGKILL":
            return "the test process was killed by signal SIGKILL (out of memory?)"
        if name == "SIGXCPU":
            return f"the test process used more than {cpu:g} s of CPU time (SIGXCPU)"
        if name == "SIGXFSZ":
            return f"the test process wrote more than {FILE_SIZE_LIMIT // 2**20} MiB to one file (SIGXFSZ)"
        return f"the test process was killed by signal {name}"
    if "MemoryError" in run.stderr[-2000:]:
        return "the test process ran out of memory"
    return f"the test process exited with code {code}"


def _missing(name: str, check_limit: float, run: _Run, slug: str, limits: dict) -> str:
    """The message of a check that sent no valid result."""
    if run.ended:
        return "the check did not run (see the test output)"
    if run.running == name and run.timed_out:
        wall = limits["wall_limit"]
        return f"timed out after {check_limit:g} s and could not be stopped; the run was killed at {wall:g} s"
    cause = _cause(run, limits["wall_limit"], limits["cpu_limit"])
    if run.running == name:
        where = "during this check"
    elif run.running is _IMPORT:
        where = f"while importing {slug}.py"
    else:
        where = "before this check ran"
    if cause.endswith(")") and " (" in cause:  # keep a trailing "(out of memory?)" last
        head, _, note = cause.rpartition(" (")
        return f"{head} {where} ({note}"
    return f"{cause} {where}"


_FRAME = re.compile(r'File "([^"]+)", line (\d+)(?:,? in (\S+))?')
_DUMP_HEADERS = ("Current thread", "Thread 0x", "Traceback (most recent", "Extension modules:", "Stack (most recent")


def _evidence(stderr: str, impl_copy: str, count: int = 6) -> str:
    """The useful last lines of the child's stderr: messages, and stack frames in the submission only."""
    picked = []
    for line in stderr.splitlines():
        line = line.strip()
        frame = _FRAME.search(line)
        if frame:
            if frame.group(1) == impl_copy:
                name = f" in {frame.group(3)}" if frame.group(3) else ""
                picked.append(f"{Path(impl_copy).name}:{frame.group(2)}{name}")
        elif line and not line.startswith(_DUMP_HEADERS):
            picked.append(line)
    return "\n".join(picked[-count:])


def _report(problem: Problem, impl: Path, impl_copy: str, names: list[str], run: _Run, limits: dict) -> Report:
    checks, explained = [], False
    for check in problem.checks:
        if check.name not in names:
            continue
        result = run.results.get(check.name)
        if result is None:
            message = _missing(check.name, problem.time_limit, run, problem.slug, limits)
            evidence = _evidence(run.stderr, impl_copy)
            if evidence and not explained and not run.ended:
                indented = "\n".join("  " + line for line in evidence.splitlines())
                message += "\nFrom the test process's stderr:\n" + indented
                explained = True
            result = {"passed": False, "message": message, "seed": None, "duration": None}
        checks.append(CheckResult(name=check.name, max_points=check.points, doc=check.doc, hint=check.hint,
                                  hidden=check.hidden, **result))
    return Report(
        problem=problem.slug,
        impl=str(impl),
        checks=checks,
        import_error=run.import_error,
        stdout=run.stdout,
        stderr=run.stderr,
        limits=limits,
        returncode=run.returncode,
        rejected_lines=run.rejected,
    )
