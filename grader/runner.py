"""Grade one implementation of one problem in a sandboxed child process.

Untrusted code never runs in this process. The child is `python -m pytest` with grader.plugin, in a scratch
directory holding only a copy of the submission, with a minimal environment, isolated and limited as
grader.sandbox allows on this machine, with a time limit per check (calibrated, see grader.calibration) and
one for the whole run. The verdict comes only from signed result lines on a pipe of the runner's own,
accepted only in the order the plugin sends them (`begin`, then the result, once per check, then `end`);
stdout, stderr and the exit status are evidence. A check with no valid result fails, with a message that
says what happened to the test process. A submission too large or not readable as Python source is not run.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import resource
import secrets
import shlex
import select
import shutil
import signal
import sys
import tempfile
import time
import tokenize
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

from grader import calibration, integrity, policy, sandbox
from grader.catalog import GraderError, Problem
from grader.report import CheckResult, Report

__all__ = ["grade", "grade_all", "calibrate", "MEMORY_LIMIT", "STARTUP_SLACK", "MAX_SUBMISSION"]

MEMORY_LIMIT = 4 * 2**30  # bytes of address space (RLIMIT_AS)
FILE_SIZE_LIMIT = 64 * 2**20  # bytes a file, stdout and stderr included (RLIMIT_FSIZE)
OPEN_FILES_LIMIT = 1024
MAX_SUBMISSION = 2**20  # bytes of the submitted file; a larger one is not run
STARTUP_SLACK = 10.0  # seconds on top of the checks' limits, for starting Python and pytest
CHECK_GRACE = 2.0  # seconds past a check's limit before the runner kills a check that ignores its timeout
CPU_SLACK = 5.0  # CPU seconds past the wall limit before SIGXCPU
EXIT_GRACE = 2.0  # seconds the child gets to exit after its last result line
CALIBRATION_LIMIT = 60.0  # seconds a check of the reference may take while it is being timed
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


def grade(problem: Problem, impl_path, *, source: bytes | None = None, seed: int | None = None,
          base_seed: int = 0, only=None, replay: str | None = None, on_result=None,
          stop_early: bool = False) -> Report:
    """Grade the file `impl_path` against `problem`'s checks (all, or the names in `only`).

    `source` is the file's content when the caller has read it already (it is then not read again).
    `seed` replays exactly one schedule; `base_seed` is the first seed the scheduler explores.
    `replay` is the command that regrades this file (`grader test counter`), for failures' Replay: lines.
    `on_result(name, passed)` is called as each check's signed result arrives (for progress lines).
    `stop_early` stops at the first failing check (pytest's --maxfail=1); the checks after it fail with "the
    check did not run to its end (pytest did not run all of it)" (for mutants: one failure is a kill).
    Raises GraderError if the file does not exist or `only` names an unknown check.
    """
    impl = Path(impl_path)
    if source is None:
        if not impl.is_file():
            raise GraderError(f"no such file: {impl_path}")
        with open(impl, "rb") as file:  # read once, at most one byte past the limit
            source = file.read(MAX_SUBMISSION + 1)
    if isinstance(only, str):
        only = [only]
    names = [problem.check(name).name for name in only] if only else [check.name for check in problem.checks]
    check_limits, timing = calibration.check_limits(problem, lambda: _time_reference(problem))
    return _grade(problem, impl, source, names, check_limits, timing, seed=seed, base_seed=base_seed,
                  targeted=bool(only), replay=replay, on_result=on_result, stop_early=stop_early)


def calibrate(problem: Problem) -> dict[str, float]:
    """Each check's time limit for `problem` on this machine, timing its reference now if that was not done yet
    (grader watch does it first: a grading it stops must not be the one that times the reference)."""
    return calibration.check_limits(problem, lambda: _time_reference(problem))[0]


def grade_all(tasks, jobs: int | None = None) -> list[Report]:
    """Grade many (problem, impl_path) pairs, `jobs` child processes at a time; reports in task order."""
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return list(pool.map(lambda task: grade(*task), tasks))


def _time_reference(problem: Problem) -> dict[str, float]:
    """Seconds per check of the reference, for the checks it passes, graded with generous limits."""
    names = [check.name for check in problem.checks]
    limits = {name: max(CALIBRATION_LIMIT, problem.time_limit) for name in names}
    result = _grade(problem, problem.reference, problem.reference.read_bytes(), names, limits,
                    {"calibration": "this run times the reference"})
    return {check.name: round(check.duration, 4) for check in result.checks
            if check.passed and check.duration is not None}


def _grade(problem: Problem, impl: Path, source: bytes, names: list[str], check_limits: dict, timing: dict, *,
           seed=None, base_seed: int = 0, targeted: bool = False, replay=None, on_result=None,
           stop_early=False) -> Report:
    floor = problem.time_limit
    plan = sandbox.plan()
    wall = sum(check_limits[name] for name in names) + floor + STARTUP_SLACK
    limits = {
        "time_limit": floor,
        "check_limits": {name: check_limits[name] for name in names},
        **timing,
        "wall_limit": wall,
        "cpu_limit": wall + CPU_SLACK,
        "memory_bytes": MEMORY_LIMIT,
        "file_size_bytes": FILE_SIZE_LIMIT,
        "open_files": OPEN_FILES_LIMIT,
        "processes": sandbox.PROCESS_LIMIT if plan.own_uid or plan.cgroup else "not limited",
        "submission_bytes": MAX_SUBMISSION,
        "sandbox": plan.describe(),
    }
    size = impl.stat().st_size if len(source) > MAX_SUBMISSION and impl.is_file() else len(source)
    refused = _unreadable(problem.slug, source, size)
    if refused:
        return _report(problem, impl, names, _NotRun(refused), limits, [], "")
    found = policy.violations(source, f"{problem.slug}.py", problem.rules)
    if found:
        shown = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
        reason = (f"{problem.slug}.py uses what a submission may not use ({shown}): change that and grade again "
                  "(README.md, Allowed, says what this problem allows)")
        return _report(problem, impl, names, _NotRun(reason, imports=False), limits, [], "", refused=found)
    with tempfile.TemporaryDirectory(prefix="grader-scratch-", ignore_cleanup_errors=True) as scratch, \
            tempfile.TemporaryDirectory(prefix="grader-harness-", ignore_cleanup_errors=True) as harness:
        checks_copy = Path(harness) / problem.checks_file.name
        shutil.copyfile(problem.checks_file, checks_copy)
        ini = Path(harness) / "pytest.ini"
        lib = Path(harness) / "lib"  # the child imports this grader, whatever else the environment installed
        lib.mkdir()
        (lib / "grader").symlink_to(Path(__file__).resolve().parent, target_is_directory=True)
        for path in (harness, lib, checks_copy):  # readable by the child's own uid; never writable by it
            os.chmod(path, 0o755 if Path(path).is_dir() else 0o644)
        scratch_in, checks_in = sandbox.inside(plan, Path(scratch), Path(harness))
        impl_in = f"{scratch_in}/{problem.slug}.py"
        checks_file_in = f"{checks_in}/{checks_copy.name}"
        targets = [f"{checks_file_in}::test_{name}" for name in names] if targeted else [checks_file_in]
        options = [f"--timeout={floor:g}", "--impl", impl_in, "--grader-base-seed", str(base_seed),
                   "--grader-limits", json.dumps(limits["check_limits"]),
                   "--grader-private", str(problem.folder.parent.parent)]  # problems/ and solutions/
        for check in problem.checks:
            if check.hidden:
                options += ["--grader-hidden", check.name]
        if seed is not None:
            options += ["--grader-seed", str(seed)]
        if replay:
            options += ["--grader-replay", replay]
        if stop_early:
            options.append("--maxfail=1")
        plugins = ["-p", "pytest_timeout", "-p", "_hypothesis_pytestplugin", "-p", "grader.plugin",
                   "-p", "no:cacheprovider", "-q", "--tb=short", "--show-capture=no", "--color=no"]
        # the options in the ini file: the test process's command line says only what it runs
        ini.write_text(_INI.replace("addopts =", "addopts = " + shlex.join([*plugins, *options])))
        os.chmod(ini, 0o644)
        cmd = [sys.executable, "-s", "-P", "-m", "pytest", "-c", f"{checks_in}/pytest.ini", "--rootdir", checks_in,
               "--confcutdir", checks_in, *targets]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin") if plan.level != "namespaces" else "/usr/bin:/bin",
            "HOME": scratch_in,
            "TMPDIR": "/tmp" if plan.level == "namespaces" else scratch_in,
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PYTHONPATH": f"{checks_in}/lib",
        }
        run = _Run(cmd, env, names, check_limits, floor, wall, plan, on_result,
                   scratch=Path(scratch), files={f"{problem.slug}.py": source}, checks=Path(harness),
                   collected=checks_copy.unlink)
        shown_as = (impl_in, scratch_in, checks_in)
    return _report(problem, impl, names, run, limits, [], shown_as)


def _unreadable(slug: str, source: bytes, size: int) -> str | None:
    """Why the submission is not run at all (too large, not text in its declared encoding), or None."""
    if len(source) > MAX_SUBMISSION:
        return f"{slug}.py is {_size(size)}; the grader takes files of up to {_size(MAX_SUBMISSION)}"
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(source).readline)
        source.decode(encoding)
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        return (f"{slug}.py:{line}: the file is not valid {exc.encoding.upper()} (byte 0x{source[exc.start]:02x});"
                " save it as UTF-8")
    except (SyntaxError, LookupError) as exc:  # a broken or unknown `# coding:` line
        return f"{slug}.py: {exc}"
    return None


def _size(n: int) -> str:
    if n < 2**20:
        return f"{n} bytes"
    return f"{n // 2**20} MiB" if n % 2**20 == 0 else f"{n / 2**20:.1f} MiB"


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


class _NotRun:
    """The outcome of a submission that was refused before any process started: `reason` is why, and an
    import error unless `imports` is False (the file would import, but the grader will not run it)."""

    def __init__(self, reason: str, imports: bool = True):
        self.reason = reason
        self.import_error = reason if imports else None
        self.results, self.review = {}, []
        self.stdout = self.stderr = ""
        self.returncode, self.rejected, self.tampered = None, 0, None
        self.run_id = None


class _Run:
    """One child process: start it, read its result channel until it ends or a time limit passes, kill it all."""

    def __init__(self, cmd, env, names, check_limits, floor, wall, plan, on_result, *, scratch, files, checks,
                 collected):
        self.on_result = on_result
        self.collected = collected  # called once the checks are collected, before the submission's import
        self.key = secrets.token_bytes(32)
        self.names = set(names)
        self.check_limits = check_limits
        self.import_limit = floor
        self.results: dict[str, dict] = {}
        self.review: list[str] = []
        self.import_error = None
        self.running = None  # the check (or _IMPORT) that began last
        self.begun: set = set()
        self.check_deadline = None  # when the running check is past its limit and grace
        self.ended = False
        self.tampered = None  # why the run counts for nothing: a signed line out of order, a class changed
        self.rejected = 0
        self.lines = 0
        self.timed_out = False
        self.stuck = None  # the check the runner killed the test process for
        self.killed = False
        self.leftover = 0
        self._buffer = b""
        self._skipping = False

        result_r, result_w = os.pipe()
        nonce_r, nonce_w = os.pipe()
        self._go_r, self._go_w = os.pipe()
        os.write(nonce_w, self.key.hex().encode())
        os.close(nonce_w)
        cmd = cmd + ["--result-fd", str(result_w), "--nonce-fd", str(nonce_r), "--go-fd", str(self._go_r)]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                child = sandbox.Child(cmd, plan=plan, scratch=scratch, files=files, checks=checks, env=env,
                                      pass_fds=(result_w, nonce_r, self._go_r), rlimits=_rlimits(wall),
                                      out=out, err=err)
            except BaseException:
                os.close(result_r)
                os.close(self._go_w)
                raise
            finally:
                os.close(result_w)
                os.close(nonce_r)
                os.close(self._go_r)
            self.run_id = child.run_id
            try:
                self._read(child, result_r, time.monotonic() + wall)
            finally:
                self.killed = child.running()  # still running: we stop it now
                self.leftover = child.stop()
                self._drain(result_r)
                os.close(result_r)
                self._go()
            self.returncode = child.returncode
            self.stdout = _tail(out)
            self.stderr = _tail(err)

    def _read(self, child, fd, deadline):
        exited_at = ended_at = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                self.timed_out = child.running()
                return
            if self.check_deadline is not None and now >= self.check_deadline:
                self.stuck = self.running
                return
            if ended_at is None and self.ended:
                ended_at = now
            if exited_at is None and not child.running():
                exited_at = now
            # After the last result, or once the child is gone, a leftover process may hold the pipe open.
            if (ended_at and now - ended_at > EXIT_GRACE) or (exited_at and now - exited_at > 0.5):
                return
            ready, _, _ = select.select([fd], [], [], min(0.05, deadline - now))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:  # every write end is closed: no more results can come
                    end = min(deadline, time.monotonic() + EXIT_GRACE)
                    while child.running() and time.monotonic() < end:
                        time.sleep(0.01)
                    return
                self._feed(chunk)

    def _go(self) -> None:
        """The checks are collected: take their file away (a submission must not read hidden checks), then
        let the test process import the submission."""
        if self._go_w is None:
            return
        try:
            self.collected()
        except OSError:
            pass
        try:
            os.write(self._go_w, b"1")
        except OSError:  # the test process is gone
            pass
        os.close(self._go_w)
        self._go_w = None

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
        """Take one result line if it is signed and well-formed; False if it is rejected."""
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
        problem = self._out_of_order(record)
        if problem is not None:  # signed, yet not what the plugin sends: code in the test process forged it
            if self.tampered is None:
                self.tampered = f"the grader received results out of order ({problem}), so code in the test " \
                                "process wrote them"
            return True
        kind = record["kind"]
        if kind == "changed":  # a class the checks rely on was changed under them
            if self.tampered is None:
                self.tampered = f"the submission changed {str(record.get('what'))[:200]}, which the checks rely on"
            return True
        if kind == "begin":
            check = record["check"]
            if check is None:
                self._go()
            self.running = _IMPORT if check is None else check
            self.begun.add(self.running)
            limit = self.import_limit if check is None else self.check_limits[check]
            self.check_deadline = time.monotonic() + limit + CHECK_GRACE
        elif kind == "import_error":
            self.import_error = record["message"]
        elif kind == "review":
            if len(self.review) < integrity.MAX_NOTES:
                self.review.append(record["note"])
        elif kind == "end":
            self.ended = True
            self.check_deadline = None
        else:
            return self._accept_check(record)
        return True

    def _out_of_order(self, record: dict) -> str | None:
        """What is wrong with a signed record's place in the sequence, or None if it belongs where it is."""
        kind, check = record.get("kind"), record.get("check")
        if self.ended:
            return f"a {kind!r} record after the end of the run"
        if kind == "begin":
            if check is None:
                return "a second import" if self.begun else None
            if check not in self.names:
                return f"a check that was not asked for ({str(check)[:80]!r})"
            if check in self.begun:
                return f"{check} began twice"
            if self.running not in (None, _IMPORT) and self.running not in self.results:
                return f"{check} began before {self.running} had a result"
            return None
        if kind == "check":
            if check not in self.names:
                return f"a result for a check that was not asked for ({str(check)[:80]!r})"
            if check in self.results:
                return f"two results for {check}"
            if check != self.running:
                return f"a result for {check} while {self.running if isinstance(self.running, str) else 'no check'} ran"
            return None
        if kind == "import_error":
            fits = self.running is _IMPORT and self.import_error is None and isinstance(record.get("message"), str)
            return None if fits else "an import error out of place"
        if kind == "review":
            return None if isinstance(record.get("note"), str) and len(record["note"]) <= 1000 else "a malformed note"
        if kind in ("end", "changed"):
            return None
        return f"an unknown record {str(kind)[:40]!r}"

    def _accept_check(self, record: dict) -> bool:
        check, seed, duration = record["check"], record.get("seed"), record.get("duration")
        if not isinstance(record.get("passed"), bool) or not isinstance(record.get("message"), str):
            return False
        if seed is not None and type(seed) is not int:
            return False
        if type(duration) not in (int, float):
            return False
        self.results[check] = {"passed": record["passed"], "message": record["message"], "seed": seed,
                               "duration": float(duration)}
        self.check_deadline = None
        if self.on_result is not None:
            self.on_result(check, record["passed"])
        return True


_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_UNPRINTABLE = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")  # controls, bidi overrides, surrogates, unassigned


def _tail(file) -> str:
    """The last TAIL characters of a captured output, decoded and stripped of escapes and NULs."""
    size = file.seek(0, os.SEEK_END)
    file.seek(max(0, size - 4 * TAIL))
    text = _ESCAPES.sub("", file.read().decode("utf-8", errors="replace").replace("\r\n", "\n"))
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in _UNPRINTABLE)
    if size > 4 * TAIL or len(text) > TAIL:
        text = "[... earlier output cut]\n" + text[-TAIL:]
    return text


def _clean(text: str, paths: tuple = ()) -> str:
    """A message from the test process, safe to print: files in the scratch directory named by their name,
    the harness directory as `<grader>/`, control characters and lone surrogates as escapes (newlines and
    tabs stay)."""
    for path, shown in zip(paths, ("", "<grader>/")):
        text = text.replace(path.rstrip("/") + "/", shown)
    return "".join(c if c in "\n\t" or unicodedata.category(c) not in _UNPRINTABLE
                   else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in text)


def _cause(run: _Run, wall: float, cpu: float) -> str:
    """What happened to the test process, as a clause: 'the test process exited with code 3'."""
    if run.timed_out:
        return f"the test process was stopped at the run's {wall:g} s time limit"
    if run.stuck is not None:
        what = "the import" if run.stuck is _IMPORT else run.stuck
        return f"the test process was killed when {what} ran past its time limit"
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
    if code is None:
        return "the test process was killed"
    if "MemoryError" in run.stderr[-2000:]:
        return "the test process ran out of memory"
    return f"the test process exited with code {code}"


def _missing(name: str, run: _Run, slug: str, limits: dict) -> str:
    """The message of a check that sent no valid result."""
    if run.ended:
        return "the check did not run (see the test output)"
    limit = limits["check_limits"][name]
    if run.running == name and run.stuck == name:
        return f"timed out after {limit:g} s and could not be stopped, so the test process was killed"
    if run.running == name and run.timed_out:
        wall = limits["wall_limit"]
        return f"timed out after {limit:g} s and could not be stopped; the run was killed at {wall:g} s"
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


def _report(problem: Problem, impl: Path, names: list[str], run, limits: dict, review: list[str],
            shown_as, refused=()) -> Report:
    impl_copy, *paths = shown_as or ("",)
    paths = tuple(paths)
    if run.run_id is not None:
        limits["sandbox"]["run"] = run.run_id
    import_error = _clean(run.import_error, paths) if run.import_error else None
    checks, explained = [], False
    for check in problem.checks:
        if check.name not in names:
            continue
        result = run.results.get(check.name)
        if isinstance(run, _NotRun):
            result = {"passed": False, "message": f"not run: {run.reason}", "seed": None, "duration": None}
        elif run.tampered is not None:
            result = {"passed": False, "seed": None, "duration": None,
                      "message": f"no points: {run.tampered}; the whole run counts for nothing"}
        elif result is None:
            message = _missing(check.name, run, problem.slug, limits)
            evidence = _evidence(run.stderr, impl_copy)
            if evidence and not explained and not run.ended:
                indented = "\n".join("  " + line for line in evidence.splitlines())
                message += "\nFrom the test process's stderr:\n" + indented
                explained = True
            result = {"passed": False, "message": message, "seed": None, "duration": None}
        else:
            result = {**result, "message": _clean(result["message"], paths)}
        checks.append(CheckResult(name=check.name, max_points=check.points, doc=check.doc, hint=check.hint,
                                  hidden=check.hidden, **result))
    notes = list(review)
    for note in run.review:
        note = _clean(note, paths)
        if note not in notes:
            notes.append(note)
    notes.sort(key=_line_of)
    if run.tampered is not None:
        notes.append(f"grader: {run.tampered}; no points were given")
    if getattr(run, "leftover", 0):
        notes.append(f"grader: {run.leftover} process(es) of the run could not be stopped")
    return Report(
        problem=problem.slug,
        impl=str(impl),
        checks=checks,
        import_error=import_error,
        stdout=run.stdout,
        stderr=run.stderr,
        limits=limits,
        returncode=run.returncode,
        rejected_lines=run.rejected,
        review=notes,
        refused=list(refused),
    )


def _line_of(note: str) -> int:
    parts = note.split(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0
