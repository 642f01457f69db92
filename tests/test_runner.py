"""The runner grades submissions safely and fails closed: hangs, crashes, early exits, import errors, memory
bombs, forged results. tests/test_hostile.py grades the issue's catalogue of hostile submissions; these
tests pin the runner's own mechanisms: messages, the result protocol, calibration, the sandbox.

Each test grades a small submission of a fixture problem (`tally`, 1 s a check; `async_tally` and `pacer`
in tests/hostile/root) in a child process; none of it runs in this process. Time limits are the problems'
own floors here (calibration is switched off), except in the calibration tests.
"""
import json
import os
import platform
import stat
import tempfile
import textwrap
from pathlib import Path

import pytest

from grader import calibration, catalog, runner, sandbox

REFERENCE = '''\
import threading


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n=1):
        with self._lock:
            self._value += n

    @property
    def value(self):
        return self._value
'''
HOSTILE_ROOT = Path(__file__).parent / "hostile" / "root"
OPEN_ROOT = Path(__file__).parent / "hostile" / "open_root"  # tally with the source policy off
CHECK_LIMITS = calibration.check_limits


def floors(problem, measure):
    return {check.name: problem.time_limit for check in problem.checks}, {"calibration": "off in these tests"}


@pytest.fixture(autouse=True)
def no_calibration(monkeypatch):
    monkeypatch.setattr(calibration, "check_limits", floors)


@pytest.fixture
def tally():
    """The fixture problem tally with the source policy off: these tests pin what happens at run time."""
    return catalog.load("tally", OPEN_ROOT)


@pytest.fixture
def strict_tally(fixture_root):
    """tally as a real problem is graded: the source policy on."""
    return catalog.load("tally")


@pytest.fixture
def async_tally():
    return catalog.load("async_tally", HOSTILE_ROOT)


def grade(problem, tmp_path, source, **options):
    path = tmp_path / "submission.py"
    path.write_text(textwrap.dedent(source))
    return runner.grade(problem, path, **options)


def with_add(body: str, header: str = "") -> str:
    """The reference with add() replaced by `body`, and `header` lines at the top."""
    return header + REFERENCE.replace("            self._value += n", textwrap.indent(body, " " * 12))


def outcomes(result):
    return [(check.name, check.passed, check.message) for check in result.checks]


def test_reference_gets_full_marks(tally, tmp_path):
    result = grade(tally, tmp_path, REFERENCE)
    assert outcomes(result) == [
        ("starts_at_zero", True, ""), ("adds_amount", True, ""), ("counts_every_add", True, "")]
    assert (result.score, result.max_score, result.full_marks, result.import_error, result.review) == (
        5, 5, True, None, [])


def test_failure_message_shows_the_values(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("self._value += 1"))
    address = result.checks[1].message.split(" at ")[1].split(">")[0]
    assert outcomes(result) == [
        ("starts_at_zero", True, ""),
        ("adds_amount", False, "assert 2 == 6\n"
                               " +  where 2 = number(2)\n"
                               f" +    where 2 = <tally.Tally object at {address}>.value"),
        ("counts_every_add", True, ""),
    ]


def test_only_runs_the_named_check(tally, tmp_path):
    result = grade(tally, tmp_path, REFERENCE, only="adds_amount")
    assert outcomes(result) == [("adds_amount", True, "")]
    assert (result.score, result.max_score, result.limits["check_limits"]) == (2, 2, {"adds_amount": 1.0})


@pytest.mark.parametrize("hang", ["time.sleep(10**6)", "while True:\n    pass"])
def test_hang_times_out_per_check(tally, tmp_path, hang):
    result = grade(tally, tmp_path, with_add(hang, "import time\n"))
    line = result.checks[1].message.removeprefix("timed out after 1 s (at tally.py:").removesuffix(")")
    assert line in {"12", "13"}  # the loop's line depends on the Python version
    assert outcomes(result) == [
        ("starts_at_zero", True, ""),
        ("adds_amount", False, f"timed out after 1 s (at tally.py:{line})"),
        ("counts_every_add", False, "timed out after 1 s"),
    ]


def test_a_check_that_swallows_its_timeout_is_killed_at_its_own_limit(tally, tmp_path):
    swallow = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    result = grade(tally, tmp_path, with_add(swallow))
    assert outcomes(result) == [
        ("starts_at_zero", True, ""),
        ("adds_amount", False, "timed out after 1 s and could not be stopped, so the test process was killed"),
        ("counts_every_add", False,
         "the test process was killed when adds_amount ran past its time limit before this check ran"),
    ]


def test_exit_code_mid_check(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("os._exit(3)", "import os\n"))
    assert outcomes(result) == [
        ("starts_at_zero", True, ""),
        ("adds_amount", False, "the test process exited with code 3 during this check"),
        ("counts_every_add", False, "the test process exited with code 3 before this check ran"),
    ]
    assert (result.returncode, result.review) == (3, [])


def test_sigkill_mid_check(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("os.kill(os.getpid(), signal.SIGKILL)", "import os, signal\n"))
    assert outcomes(result) == [
        ("starts_at_zero", True, ""),
        ("adds_amount", False, "the test process was killed by signal SIGKILL during this check (out of memory?)"),
        ("counts_every_add", False, "the test process was killed by signal SIGKILL before this check ran (out of memory?)"),
    ]


def test_segfault_names_the_student_line(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("faulthandler._sigsegv()", "import faulthandler\n"), only="adds_amount")
    assert outcomes(result) == [("adds_amount", False, "the test process was killed by signal SIGSEGV during this check\n"
                                                       "From the test process's stderr:\n"
                                                       "  Fatal Python error: Segmentation fault\n"
                                                       "  tally.py:12 in add")]


def test_exit_zero_in_a_check_is_not_a_pass(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("os._exit(0)", "import os\n"))
    assert outcomes(result)[1:] == [
        ("adds_amount", False, "the test process exited with code 0 during this check"),
        ("counts_every_add", False, "the test process exited with code 0 before this check ran"),
    ]


def test_sys_exit_in_a_check_is_a_failure(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("sys.exit(0)", "import sys\n"))
    assert outcomes(result)[:2] == [
        ("starts_at_zero", True, ""), ("adds_amount", False, "tally.py:12: SystemExit: 0")]
    assert not result.checks[2].passed


def test_exit_zero_at_import(tally, tmp_path):
    result = grade(tally, tmp_path, "import os\nos._exit(0)\n")
    assert {check.message for check in result.checks} == {
        "the test process exited with code 0 while importing tally.py"}
    assert result.score == 0


def test_sys_exit_at_import(tally, tmp_path):
    result = grade(tally, tmp_path, "import sys\nsys.exit(0)\n")
    assert result.import_error == "tally.py:2: SystemExit: 0"
    assert {check.message for check in result.checks} == {
        "not run: tally.py does not import (tally.py:2: SystemExit: 0)"}


def test_syntax_error_names_file_and_line(tally, tmp_path):
    result = grade(tally, tmp_path, "import threading\n\nclass Tally\n    pass\n")
    assert result.import_error == "tally.py:3: SyntaxError: expected ':'"
    assert {check.message for check in result.checks} == {
        "not run: tally.py does not import (tally.py:3: SyntaxError: expected ':')"}
    assert result.score == 0


def test_exception_at_import_names_the_innermost_student_line(tally, tmp_path):
    result = grade(tally, tmp_path, "def helper():\n    return 1 / 0\n\n\nhelper()\n")
    assert result.import_error == "tally.py:2: ZeroDivisionError: division by zero"


def test_error_in_a_fresh_import_fails_the_check(tally, tmp_path):
    source = "import os\nif os.path.exists('imported'):\n    raise RuntimeError('second import')\n" \
             "open('imported', 'w').close()\n" + REFERENCE
    result = grade(tally, tmp_path, source)
    assert result.import_error is None
    assert {check.message for check in result.checks} == {"tally.py:3: RuntimeError: second import"}


def test_missing_name_says_what_the_checks_use(tally, tmp_path):
    result = grade(tally, tmp_path, "import threading\n")
    assert {check.message for check in result.checks} == {
        "tally.py does not define 'Tally', which the checks use (see README.md)"}


def test_memory_bomb_fails_the_check(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("blocks = []\nwhile True:\n    blocks.append(bytes(2**28))"))
    assert outcomes(result)[:2] == [
        ("starts_at_zero", True, ""), ("adds_amount", False, "tally.py:13: MemoryError: ran out of memory")]
    assert result.limits["memory_bytes"] == 4 * 2**30


def test_large_or_undecodable_files_are_not_run(tally, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "MAX_SUBMISSION", 100)
    result = grade(tally, tmp_path, REFERENCE)
    assert result.import_error == f"tally.py is {len(REFERENCE)} bytes; the grader takes files of up to 100 bytes"
    assert (result.score, result.returncode, result.limits["submission_bytes"]) == (0, None, 100)
    monkeypatch.setattr(runner, "MAX_SUBMISSION", 2**20)
    path = tmp_path / "latin1.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + REFERENCE.encode())
    assert runner.grade(tally, path).full_marks  # a declared encoding is honoured
    path.write_bytes(b"x = 1\n# caf\xe9\n")
    assert runner.grade(tally, path).import_error == (
        "tally.py:2: the file is not valid UTF-8 (byte 0xe9); save it as UTF-8")


def test_forged_result_lines_are_ignored(tally, tmp_path):
    forge = '''\
        import json, os, sys
        fd = int(sys.argv[sys.argv.index("--result-fd") + 1])
        for name in ("starts_at_zero", "adds_amount", "counts_every_add"):
            body = json.dumps({"kind": "check", "check": name, "passed": True, "message": "", "seed": None,
                               "duration": 0.1})
            os.write(fd, ("0" * 64 + " " + body + "\\n").encode())
        '''
    result = grade(tally, tmp_path, textwrap.dedent(forge) + "Tally = None\n")
    assert result.score == 0
    assert result.rejected_lines == 3 * 4  # the import check, then a fresh import for each of 3 checks


def test_signed_results_out_of_order_earn_nothing(tally, tmp_path):
    """A submission that takes the signing key out of the plugin can sign lines, but not fit them into
    the sequence the plugin is already sending: the whole run then counts for nothing."""
    forge = '''\
        import hashlib, hmac, json, operator, os, sys
        state = operator.attrgetter("mod" + "ules")(sys)["grader.plugin"]._state  # past the source scan
        body = json.dumps({"kind": "check", "check": "starts_at_zero", "passed": True, "message": "",
                           "seed": None, "duration": 0.1}).encode()
        mac = hmac.new(state["key"], body, hashlib.sha256).hexdigest().encode()
        os.write(state["fd"], mac + b" " + body + b"\\n")
        '''
    result = grade(tally, tmp_path, textwrap.dedent(forge) + REFERENCE)
    reason = "a result for starts_at_zero while no check ran"
    assert {check.message for check in result.checks} == {
        f"no points: the grader received results out of order ({reason}), so code in the test process wrote "
        "them; the whole run counts for nothing"}
    assert result.score == 0
    assert result.review[-1] == (f"grader: the grader received results out of order ({reason}), so code in the "
                                 "test process wrote them; no points were given")


def test_the_grader_is_off_limits_but_the_student_api_is_not(tally, tmp_path):
    result = grade(tally, tmp_path, "from grader.sched import AtomicReference\n" + REFERENCE)
    assert (result.full_marks, result.review) == (True, [])
    result = grade(tally, tmp_path, "from grader.sched import AtomicReference, explore\n" + REFERENCE)
    assert result.import_error == ("tally.py:1: ImportError: tally.py may not import 'grader.sched': the grader's "
                                   "own modules are off limits to submissions (use the standard library)")
    assert result.review == []


@pytest.mark.parametrize("start", [
    "subprocess.run(['cat', '/etc/hostname'])",
    "process = multiprocessing.get_context('spawn').Process(target=print)\nprocess.start()",
])
def test_a_submission_cannot_start_programs(tally, tmp_path, start):
    result = grade(tally, tmp_path, with_add(start, "import multiprocessing, subprocess\n"), only="adds_amount")
    message = result.checks[0].message
    assert message.startswith("tally.py:") and message.endswith(
        ": PermissionError: the grader does not let a submission start a program: a submission runs in this "
        "one Python process")
    assert result.review[-1].endswith(": tried to start a program (refused)")


def test_leftover_threads_do_not_keep_the_test_process_alive(tally, tmp_path):
    result = grade(tally, tmp_path, "import threading, time\n"
                                    "threading.Thread(target=time.sleep, args=(10**6,)).start()\n" + REFERENCE)
    assert (result.full_marks, result.returncode) == (True, 0)  # it exited by itself, with its results sent


def test_child_sees_only_its_scratch_and_a_minimal_environment(tally, tmp_path):
    (tmp_path / "conftest.py").write_text("raise SystemExit('a student conftest must not be loaded')\n")
    probe = '''\
        import os
        SEEN = (sorted(os.environ), os.environ["HOME"] == os.getcwd(), sorted(os.listdir(".")), os.read(0, 10))


        class Tally:
            value = 0 if SEEN == (EXPECTED, True, ["tally.py"], b"") else SEEN
        '''
    expected = ["HOME", "LANG", "PATH", "PYTEST_CURRENT_TEST", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_VERSION",
                "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "PYTHONPATH", "TMPDIR"]
    result = grade(tally, tmp_path, textwrap.dedent(probe).replace("EXPECTED", repr(expected)), only="starts_at_zero")
    assert outcomes(result) == [("starts_at_zero", True, "")]


LOST_UPDATE = '''\
import asyncio


class AsyncTally:
    def __init__(self):
        self._value = 0

    async def add(self, n=1):
        current = self._value
        await asyncio.sleep(0)
        self._value = current + n

    @property
    def value(self):
        return self._value
'''


def test_schedule_failure_carries_its_seed_and_replay_command(async_tally, tmp_path):
    result = grade(async_tally, tmp_path, LOST_UPDATE, only="counts_every_add",
                   replay="grader test async_tally --impl mine.py")
    assert outcomes(result) == [("counts_every_add", False, "10 adds, but value is 1\n"
                                 "Replay: grader test async_tally --impl mine.py --seed 0 -k counts_every_add"
                                 f"   (Python {platform.python_version()})")]
    assert result.checks[0].seed == 0


def test_missing_file_is_an_error(tally, tmp_path):
    with pytest.raises(catalog.GraderError) as info:
        runner.grade(tally, tmp_path / "nope.py")
    assert str(info.value) == f"no such file: {tmp_path / 'nope.py'}"


def test_limits_and_sandbox_are_recorded(tally, tmp_path):
    result = grade(tally, tmp_path, REFERENCE)
    plan = sandbox.plan()
    assert result.limits["sandbox"] == {**plan.describe(), "run": result.limits["sandbox"]["run"]}
    assert result.limits["processes"] == (sandbox.PROCESS_LIMIT if plan.own_uid or plan.cgroup else "not limited")
    assert sandbox.processes_of(result.limits["sandbox"]["run"]) == []


# -- calibration ---------------------------------------------------------------------------------------------

@pytest.fixture
def real_calibration(monkeypatch, tmp_path):
    """Calibration switched back on, with an empty cache of its own; the cache folder."""
    monkeypatch.setattr(calibration, "check_limits", CHECK_LIMITS)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "concurrency-drills" / "calibration"


def test_limits_are_calibrated_against_the_reference_once(real_calibration):
    pacer = catalog.load("pacer", HOSTILE_ROOT)
    first = runner.grade(pacer, pacer.reference)
    times = first.limits["reference_seconds"]
    assert set(times) == {"spaces_five_times"}
    assert first.limits["check_limits"] == {"spaces_five_times": round(max(0.5, 5 * times["spaces_five_times"]), 2)}
    [cached] = real_calibration.glob("pacer-*.json")
    assert first.limits["calibration"] == f"measured now, cached in {cached}"
    assert json.loads(cached.read_text()) == times
    second = runner.grade(pacer, pacer.reference)
    assert (second.limits["calibration"], second.limits["reference_seconds"]) == (f"cached in {cached}", times)
    assert first.full_marks and second.full_marks


def test_a_problem_without_a_reference_keeps_its_floor(real_calibration, copied_root):
    (copied_root / "solutions" / "tally" / "tally.py").unlink()
    problem = catalog.load("tally")
    limits, info = calibration.check_limits(problem, lambda: pytest.fail("nothing to measure"))
    assert limits == {"starts_at_zero": 1.0, "adds_amount": 1.0, "counts_every_add": 1.0}
    assert info["calibration"] == "none: the problem has no reference solution"


# -- the sandbox ---------------------------------------------------------------------------------------------

def test_a_folder_closed_to_others_is_named():
    with tempfile.TemporaryDirectory() as folder:  # in the system's temporary folder, open to all
        closed = Path(folder) / "closed"
        (closed / "inside").mkdir(parents=True)
        os.chmod(folder, 0o755)
        os.chmod(closed, 0o700)
        assert sandbox._closed_to_others([str(closed / "inside")]) == str(closed)
        os.chmod(closed, 0o755)
        assert sandbox._closed_to_others([str(closed / "inside")]) is None


def test_uids_of_the_pool_are_held_one_run_each(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "UID_LOCKS", tmp_path / "concurrency-drills-uids")
    monkeypatch.setattr(sandbox, "_sweep", lambda belongs: 0)  # real gradings beside this test use these uids
    first, second = sandbox._Uid(), sandbox._Uid()
    assert first.uid != second.uid and {first.uid, second.uid} <= set(sandbox.UID_POOL)
    first.release()
    third = sandbox._Uid()
    assert third.uid == first.uid
    second.release()
    third.release()
    assert stat.S_IMODE((tmp_path / "concurrency-drills-uids").stat().st_mode) == 0o700


def test_a_source_outside_the_allowlist_is_not_run(strict_tally, tmp_path):
    result = grade(strict_tally, tmp_path, with_add("os._exit(3)", "import os\n"))
    expected = ("not run: tally.py uses what a submission may not use (tally.py:1: imports os, which this problem "
                "does not allow): change that and grade again (README.md, Allowed, says what this problem allows)")
    assert outcomes(result) == [(name, False, expected) for name in ("starts_at_zero", "adds_amount", "counts_every_add")]
    assert (result.import_error, result.review) == (None, [])
    assert result.refused == ["tally.py:1: imports os, which this problem does not allow"]
    assert grade(strict_tally, tmp_path, REFERENCE).full_marks


def needs_namespaces():
    if sandbox.plan().level != "namespaces":
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real sandbox; here: {sandbox.plan().summary}")
        pytest.skip(f"no OS sandbox on this machine ({sandbox.plan().summary})")


VIEW_PROBE = '''\
import os, socket, sys

PYTHON = os.path.dirname(os.__file__)

def attempt(call):
    try:
        return call()
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"

def write(path):  # through a folder's fd, as the guard in the process does not see (the kernel does)
    folder = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.close(os.open(os.path.basename(path), os.O_WRONLY | os.O_CREAT, dir_fd=folder))
    finally:
        os.close(folder)
    return "written"


SEEN = {
    "uid": os.getuid() != 0, "top": sorted(os.listdir("/")), "repository": os.path.exists(REPOSITORY),
    "host_tmp": os.path.exists(MARKER), "write_python": attempt(lambda: write(os.path.join(PYTHON, "x"))),
    "write_here": attempt(lambda: write(os.path.join(os.getcwd(), "x"))),
    "network": socket.if_nameindex(), "processes": len([p for p in os.listdir("/proc") if p.isdigit()]) < 5,
    "checks": os.path.exists("/opt/checks/test_tally.py"),  # gone once collected: hidden checks stay hidden
    "names": [text for text in (*sys.argv, *os.environ.values(), os.getcwd()) if "grader" in text.lower()],
}


class Tally:
    @property
    def value(self):
        assert SEEN == EXPECTED, SEEN
        return 0
'''


def test_the_namespaces_level_shows_an_allowlisted_view_and_no_network(tally, tmp_path):
    needs_namespaces()
    marker = Path(tempfile.gettempdir()) / f"concurrency-drills-host-marker-{os.getpid()}"
    marker.write_text("on the host")
    try:
        top = sorted({"bin", "dev", "etc", "home", "lib", "lib64", "opt", "proc", "sbin", "tmp", "usr"}
                     | {Path(p).parts[1] for p in (sandbox._python_folders() + [str(Path(runner.__file__).parent)])})
        expected = {"uid": os.geteuid() == 0, "top": top, "repository": False, "host_tmp": False,
                    "write_python": "OSError: [Errno 30] Read-only file system: 'x'", "write_here": "written", "network": [(1, "lo")],
                    "processes": True, "checks": False, "names": []}
        source = VIEW_PROBE.replace("REPOSITORY", repr(str(Path(__file__).parent / "fixtures"))).replace(
            "MARKER", repr(str(marker))).replace("EXPECTED", repr(expected))
        result = grade(tally, tmp_path, source, only="starts_at_zero")
    finally:
        marker.unlink()
    assert outcomes(result) == [("starts_at_zero", True, "")]


HIDDEN_CHECK = '''

@pytest.mark.points(1)
@pytest.mark.hidden
def test_hidden_one(impl):
    """A hidden check."""
    # the-code-of-a-hidden-check
    assert number(impl.Tally().value) == 0
'''
LINES_PROBE = '''\
import linecache, sys
CHECKS = sys.argv[sys.argv.index("--rootdir") + 1] + "/test_tally.py"
SEEN = "".join(linecache.getlines(CHECKS))
try:
    open(CHECKS).read()
    READ = "read"
except OSError as exc:
    READ = type(exc).__name__


class Tally:
    @property
    def value(self):
        assert "the-code-of-a-hidden-check" not in SEEN and "def test_adds_amount" in SEEN, SEEN
        assert READ in ("FileNotFoundError", "PermissionError"), READ
        return 0
'''


def test_hidden_checks_leave_no_line_behind(copied_root, tmp_path):
    """Once collected, the checks' file is gone, and linecache (which tracebacks and printed stacks read)
    keeps the visible checks' lines only."""
    (copied_root / "problems" / "tally" / "problem.toml").write_text(
        (OPEN_ROOT / "problems" / "tally" / "problem.toml").read_text())
    with open(copied_root / "problems" / "tally" / "test_tally.py", "a") as checks:
        checks.write(HIDDEN_CHECK)
    result = grade(catalog.load("tally"), tmp_path, LINES_PROBE, only="starts_at_zero")
    assert outcomes(result) == [("starts_at_zero", True, "")]
