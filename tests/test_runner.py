"""The runner grades hostile submissions safely: hangs, crashes, early exits, import errors, memory bombs.

Each test grades a small submission of the fixture problem `tally` (time limit 1 s a check) in a child
process; none of it runs in this process.
"""
import textwrap
import time

import pytest

from grader import catalog, report, runner

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


@pytest.fixture
def tally(fixture_root):
    return catalog.load("tally")


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
    assert (result.score, result.max_score, result.full_marks, result.import_error) == (5, 5, True, None)


def test_failure_report_text(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("self._value += 1"))
    assert report.format_terminal(result) == textwrap.dedent("""\
        PASS starts_at_zero (1 point)
        FAIL adds_amount (2 points)
          Expected: add(n) adds n.
          assert 2 == 6
           +  where 2 = <tally.Tally object at ADDR>.value
        PASS counts_every_add (2 points)
        Score: 3/5""").replace("ADDR", result.checks[1].message.split(" at ")[1].split(">")[0])


def test_only_runs_the_named_check(tally, tmp_path):
    result = grade(tally, tmp_path, REFERENCE, only="adds_amount")
    assert outcomes(result) == [("adds_amount", True, "")]
    assert (result.score, result.max_score) == (2, 2)


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


def test_hang_that_swallows_the_timeout_is_killed(tally, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "STARTUP_SLACK", 4.0)
    swallow = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    start = time.monotonic()
    result = grade(tally, tmp_path, with_add(swallow))
    assert time.monotonic() - start < 12
    assert outcomes(result) == [
        ("starts_at_zero", True, ""),
        ("adds_amount", False, "timed out after 1 s and could not be stopped; the run was killed at 7 s"),
        ("counts_every_add", False, "the test process was stopped at the run's 7 s time limit before this check ran"),
    ]


def test_exit_code_mid_check(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("os._exit(3)", "import os\n"))
    assert outcomes(result) == [
        ("starts_at_zero", True, ""),
        ("adds_amount", False, "the test process exited with code 3 during this check"),
        ("counts_every_add", False, "the test process exited with code 3 before this check ran"),
    ]
    assert result.returncode == 3


def test_sigkill_mid_check(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("os.kill(os.getpid(), signal.SIGKILL)", "import os, signal\n"))
    assert outcomes(result) == [
        ("starts_at_zero", True, ""),
        ("adds_amount", False, "the test process was killed by signal SIGKILL during this check (out of memory?)"),
        ("counts_every_add", False, "the test process was killed by signal SIGKILL before this check ran (out of memory?)"),
    ]


def test_segfault_names_the_student_line(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("ctypes.string_at(0)", "import ctypes\n"), only="adds_amount")
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
    assert result.score == 0
    assert report.format_terminal(result).splitlines()[:4] == [
        "Could not import the submission:",
        "  tally.py:3: SyntaxError: expected ':'",
        "",
        "FAIL starts_at_zero (1 point)",
    ]


def test_exception_at_import_names_the_innermost_student_line(tally, tmp_path):
    result = grade(tally, tmp_path, "def helper():\n    return 1 / 0\n\n\nhelper()\n")
    assert result.import_error == "tally.py:2: ZeroDivisionError: division by zero"


def test_error_in_a_fresh_import_fails_the_check(tally, tmp_path):
    source = "import os\nif os.path.exists('imported'):\n    raise RuntimeError('second import')\n" \
             "open('imported', 'w').close()\n" + REFERENCE
    result = grade(tally, tmp_path, source)
    assert result.import_error is None
    assert {check.message for check in result.checks} == {"tally.py:3: RuntimeError: second import"}


def test_memory_bomb_fails_the_check(tally, tmp_path):
    result = grade(tally, tmp_path, with_add("blocks = []\nwhile True:\n    blocks.append(bytes(2**28))"))
    assert outcomes(result)[:2] == [
        ("starts_at_zero", True, ""), ("adds_amount", False, "tally.py:13: MemoryError: ran out of memory")]
    assert result.limits["memory_bytes"] == 4 * 2**30


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
    assert "Note: ignored 12 result line(s) that did not come from the grader." in report.format_terminal(result)


def test_leftover_threads_do_not_hang_the_run(tally, tmp_path):
    start = time.monotonic()
    result = grade(tally, tmp_path, "import threading, time\n"
                                    "threading.Thread(target=time.sleep, args=(10**6,)).start()\n" + REFERENCE)
    assert result.full_marks
    assert time.monotonic() - start < 8


def test_child_sees_only_its_scratch_and_a_minimal_environment(tally, tmp_path):
    (tmp_path / "conftest.py").write_text("raise SystemExit('a student conftest must not be loaded')\n")
    probe = '''\
        import os
        SEEN = (sorted(os.environ), os.environ["HOME"] == os.getcwd(), sorted(os.listdir(".")), os.read(0, 10))


        class Tally:
            value = 0 if SEEN == (EXPECTED, True, ["tally.py"], b"") else SEEN
        '''
    expected = ["HOME", "LANG", "PATH", "PYTEST_CURRENT_TEST", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_VERSION",
                "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "TMPDIR"]
    result = grade(tally, tmp_path, textwrap.dedent(probe).replace("EXPECTED", repr(expected)), only="starts_at_zero")
    assert outcomes(result) == [("starts_at_zero", True, "")]


def test_schedule_failure_carries_its_seed(tally, tmp_path):
    source = with_add("exc = ScheduleFailure.__new__(ScheduleFailure)\n"
                      "AssertionError.__init__(exc, 'lost an update')\n"
                      "exc.seed, exc.kind = 7, 'assertion'\n"
                      "raise exc", "from grader.sched import ScheduleFailure\n")
    result = grade(tally, tmp_path, source, only="adds_amount")
    assert (result.checks[0].message, result.checks[0].seed) == ("lost an update", 7)
    assert report.format_terminal(result, replay="grader test tally").splitlines()[2:4] == [
        "  lost an update", "  Replay: grader test tally --seed 7 -k adds_amount"]


def test_replay_command_reaches_the_scheduler(tally, tmp_path):
    source = with_add("def scenario():\n    assert False, 'lost an update'\nexplore(scenario)",
                      "from grader.sched import explore\n")
    result = grade(tally, tmp_path, source, only="adds_amount", replay="grader test tally --impl mine.py")
    check = result.checks[0]
    assert not check.passed and "lost an update" in check.message
    assert f"Replay: grader test tally --impl mine.py --seed {check.seed} -k adds_amount" in check.message


def test_missing_file_is_an_error(tally, tmp_path):
    with pytest.raises(catalog.GraderError) as info:
        runner.grade(tally, tmp_path / "nope.py")
    assert str(info.value) == f"no such file: {tmp_path / 'nope.py'}"
