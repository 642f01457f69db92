"""Every pytest hook of a grading run, loaded in the child process with `-p grader.plugin`.

It registers the `points` and `hint` markers, provides the `impl` fixture, tries the submission's import
once at session start, and streams one signed JSON line per check to the runner over `--result-fd`.
Each line is `<hex HMAC-SHA256 of the JSON> <JSON>`, keyed by a nonce read from `--nonce-fd` before any
submission code runs. Without `--result-fd` (an instructor running the checks by hand) nothing is sent.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
from pathlib import Path

import pytest

from grader import sched

MAX_MESSAGE = 12000  # characters of a check's message; the runner accepts lines of up to 64 KiB

# Per-session state of this process: the channel, the submission, and each check's accumulated outcome.
_state: dict = {"fd": None, "key": b"", "impl": None, "import_error": None, "pending": {}, "results": {}}


def pytest_addoption(parser):
    group = parser.getgroup("grader", "concurrency-drills grading")
    group.addoption("--impl", default=None, help="the implementation under test (a .py file)")
    group.addoption("--result-fd", type=int, default=None, help="pipe to stream signed results to")
    group.addoption("--nonce-fd", type=int, default=None, help="pipe holding the result signing key")
    group.addoption("--grader-seed", type=int, default=None, help="replay exactly this schedule seed")
    group.addoption("--grader-base-seed", type=int, default=0, help="first schedule seed to explore")
    group.addoption("--grader-replay", default=None, help="the command that regrades this file, for Replay: lines")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the points this check is worth")
    config.addinivalue_line("markers", "hint(text): shown to the student when this check fails")
    config.addinivalue_line("markers", "hidden: graded, but left out of the student handout")
    nonce_fd = config.getoption("nonce_fd")
    if nonce_fd is not None:
        _state["key"] = _read_nonce(nonce_fd)
    _state["fd"] = config.getoption("result_fd")
    impl = config.getoption("impl")
    _state["impl"] = str(Path(impl).resolve()) if impl else None
    _state["timeout"] = config.getoption("timeout", None)
    _state["seeds"] = {"seed": config.getoption("grader_seed"), "base_seed": config.getoption("grader_base_seed")}
    _state["replay"] = config.getoption("grader_replay")
    sched.configure(**_state["seeds"])
    try:  # reproducible grading: no example database, the same examples on every run
        from hypothesis import settings

        settings.register_profile("grader", database=None, derandomize=True)
        settings.load_profile("grader")
    except ImportError:  # pragma: no cover - hypothesis is a dependency
        pass


def _read_nonce(fd: int) -> bytes:
    data = b""
    try:
        while len(data) < 64 and (chunk := os.read(fd, 64 - len(data))):
            data += chunk
    finally:
        os.close(fd)
    return bytes.fromhex(data.decode("ascii"))


def _send(record: dict) -> None:
    fd = _state["fd"]
    if fd is None:
        return
    body = json.dumps(record, separators=(",", ":")).encode()
    line = hmac.new(_state["key"], body, hashlib.sha256).hexdigest().encode() + b" " + body + b"\n"
    try:
        while line:
            line = line[os.write(fd, line):]
    except OSError:  # the runner fails closed on a missing result
        pass


def _slug(path: str) -> str:
    return Path(path).stem


def load_impl(path: str) -> object:
    """Execute the file at `path` as a fresh module named after it, under the scheduler's control.

    The scheduler marks the file for instruction-level scheduling points and controls the locks its
    top level makes. The module stays in sys.modules until unload().
    """
    name = Path(path).stem
    previous = sys.modules.get(name)
    try:
        module = sched.load_module(path, name)
    except BaseException:
        _restore(name, previous)
        raise
    module.__grader_previous__ = previous
    return module


def unload(module) -> None:
    """Remove `module` from sys.modules, restoring what was there before load_impl()."""
    previous = module.__dict__.pop("__grader_previous__", None)
    if sys.modules.get(module.__name__) is module:
        _restore(module.__name__, previous)


def _restore(name: str, previous) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


@pytest.fixture
def impl(request):
    """The implementation under test, loaded fresh from --impl for this check."""
    path = _state["impl"]
    if path is None:
        pytest.fail("no implementation given: run pytest with --impl FILE", pytrace=False)
    module = load_impl(path)
    yield module
    unload(module)


def _where(tb, path: str | None) -> str | None:
    """`<file>.py:LINE` of the innermost traceback frame in the submission, if any."""
    where = None
    while tb is not None:
        if path and tb.tb_frame.f_code.co_filename == path:
            where = f"{Path(path).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def _import_error(exc: BaseException, path: str) -> str:
    name = Path(path).name
    if isinstance(exc, SyntaxError) and exc.filename == path:
        return f"{name}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    where = _where(exc.__traceback__, path) or name
    return f"{where}: {_exc_text(exc)}"


def _exc_text(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def pytest_sessionstart(session):
    path = _state["impl"]
    if path is None:
        return
    _send({"kind": "begin", "check": None})  # the import is running
    try:
        unload(load_impl(path))
    except BaseException as exc:  # SystemExit and KeyboardInterrupt at import are failures too
        _state["import_error"] = _import_error(exc, path)
        _send({"kind": "import_error", "message": _state["import_error"]})


def _check_name(item) -> str:
    return getattr(item, "originalname", None) or item.name.split("[")[0]


def pytest_collection_modifyitems(session, config, items):
    names = [_check_name(item).removeprefix("test_") for item in items]
    for name in names:
        _state["pending"][name] = _state["pending"].get(name, 0) + 1
    if _state["import_error"] is not None:
        message = f"not run: {Path(_state['impl']).name} does not import ({_state['import_error']})"
        for name in dict.fromkeys(names):
            _send({"kind": "check", "check": name, "passed": False, "message": message, "seed": None, "duration": 0.0})
        config.hook.pytest_deselected(items=list(items))
        items[:] = []


@pytest.hookimpl(tryfirst=True)  # before fixtures are set up: a setup error must find its check
def pytest_runtest_setup(item):
    name = _check_name(item).removeprefix("test_")
    if name not in _state["results"]:
        _state["results"][name] = {"passed": True, "message": "", "seed": None, "duration": 0.0}
        _send({"kind": "begin", "check": name})
        if _state["replay"]:  # a failure found by a schedule says how to replay just that check
            command = _state["replay"].replace("{", "{{").replace("}", "}}")
            sched.configure(**_state["seeds"], replay=f"{command} --seed {{seed}} -k {name}")


def _flatten(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _describe(exc: BaseException) -> tuple[str, int | None]:
    """The student-facing message for a check that raised `exc`, and its schedule seed if any."""
    exc = _flatten(exc)
    if isinstance(exc, sched.ScheduleFailure):
        return str(exc), exc.seed
    path = _state["impl"]
    where = _where(exc.__traceback__, path)
    text = str(exc)
    if isinstance(exc, pytest.fail.Exception) and text.startswith("Timeout (>"):
        timeout = _state["timeout"]
        message = f"timed out after {timeout:g} s" + (f" (at {where})" if where else "")
    elif isinstance(exc, AssertionError) and where is None:
        message = text or "assertion failed"
    elif isinstance(exc, pytest.skip.Exception):
        message = f"skipped ({text}): a check only passes by running to the end"
    elif isinstance(exc, pytest.fail.Exception):
        message = text
    elif isinstance(exc, MemoryError):
        message = f"{where + ': ' if where else ''}MemoryError: ran out of memory"
    else:
        message = f"{where + ': ' if where else ''}{_exc_text(exc)}"
    notes = getattr(exc, "__notes__", None)
    if notes:
        message += "\n" + "\n".join(str(note) for note in notes)
    return message, None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    name = _check_name(item).removeprefix("test_")
    result = _state["results"].get(name)
    if result is None:
        return report
    result["duration"] += report.duration
    ok = report.passed and not hasattr(report, "wasxfail")
    if not ok and result["passed"]:
        result["passed"] = False
        if call.excinfo is not None:
            result["message"], result["seed"] = _describe(call.excinfo.value)
        else:
            result["message"] = f"{report.outcome} in {call.when}"
    if call.when == "teardown":
        _state["pending"][name] -= 1
        if _state["pending"][name] == 0:
            _finish(name, result)
    return report


def _finish(name: str, result: dict) -> None:
    timeout = _state["timeout"]
    if timeout and result["passed"] and result["duration"] >= timeout:
        # A submission that swallowed pytest-timeout's exception ran over time all the same.
        result.update(passed=False, message=f"timed out after {timeout:g} s")
    message = result["message"]
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 20] + "\n... (message cut)"
    _send({"kind": "check", "check": name, **result, "message": message})


def pytest_sessionfinish(session, exitstatus):
    _state["exitstatus"] = int(exitstatus)
    _send({"kind": "end", "exitstatus": int(exitstatus)})


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _state["fd"] is not None:
        # Leftover threads of the submission must not hang or crash the exit: the results are sent.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_state.get("exitstatus", 3))
