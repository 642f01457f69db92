"""Every pytest hook of a grading run, loaded in the child process with `-p grader.plugin`.

It registers the `points`, `hint` and `hidden` markers, provides the `impl` fixture, installs the integrity
guard (grader.integrity) before any submission code runs, tries the submission's import once after the
checks are collected, and decides each check's verdict from the check itself: a check passes only when its
setup, its call (made by this plugin, not by pytest) and its teardown all returned normally within its time
limit. pytest's own reports play no part, so a submission that patches them changes nothing.

Verdicts stream to the runner over `--result-fd` as signed JSON lines, in the order the runner accepts:
`begin` (check None: the import), then `begin` and `check` for each check, then `end`; `review` notes may
come at any time. Each line is `<hex HMAC-SHA256 of the JSON> <JSON>`, keyed by a nonce read from
`--nonce-fd` before any submission code runs. Without `--result-fd` (an instructor running the checks by
hand) nothing is sent and no guard is installed.
"""
from __future__ import annotations

import _thread
import errno
import hashlib
import hmac
import inspect
import json
import os
import sys
import time
from pathlib import Path

import pytest

from grader import integrity, sched

MAX_MESSAGE = 12000  # characters of a check's message; the runner accepts lines of up to 64 KiB
_clock = time.perf_counter  # the real clock: the scheduler patches time's functions once a submission loads
# what signs and sends the results, bound before any submission runs (one that replaced json.dumps would not
# touch these)
_dumps, _hmac, _sha256, _write = json.dumps, hmac.new, hashlib.sha256, os.write
_sending = _thread.allocate_lock()  # a plain lock, made before the scheduler patches locks

# Per-session state of this process: the channel, the submission, and each check's accumulated outcome.
_state: dict = {"fd": None, "key": b"", "impl": None, "import_error": None, "pending": {}, "items": {},
                "results": {}, "limits": {}, "guard": None}


def pytest_addoption(parser):
    group = parser.getgroup("grader", "concurrency-drills grading")
    group.addoption("--impl", default=None, help="the implementation under test (a .py file)")
    group.addoption("--result-fd", type=int, default=None, help="pipe to stream signed results to")
    group.addoption("--nonce-fd", type=int, default=None, help="pipe holding the result signing key")
    group.addoption("--go-fd", type=int, default=None,
                    help="pipe the runner writes to once it has taken the checks' file away")
    group.addoption("--grader-seed", type=int, default=None, help="replay exactly this schedule seed")
    group.addoption("--grader-base-seed", type=int, default=0, help="first schedule seed to explore")
    group.addoption("--grader-replay", default=None, help="the command that regrades this file, for Replay: lines")
    group.addoption("--grader-limits", default=None, help="JSON {check: seconds}: each check's time limit")
    group.addoption("--grader-hidden", action="append", default=[],
                    help="a hidden check, whose lines the submission must not see (repeatable)")
    group.addoption("--grader-private", action="append", default=[],
                    help="a folder the submission may not read, even if it is on sys.path (repeatable)")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the points this check is worth")
    config.addinivalue_line("markers", "hint(text): shown to the student when this check fails")
    config.addinivalue_line("markers", "hidden: graded, but left out of the student handout")
    nonce_fd = config.getoption("nonce_fd")
    if nonce_fd is not None:
        _state["key"] = _read_nonce(nonce_fd)
    _state["fd"] = config.getoption("result_fd")
    # A process the submission forks is not the run: it sends nothing (a note it made after the run's end would
    # read as results out of order, that is, as forged)
    os.register_at_fork(after_in_child=lambda: _state.update(fd=None))
    _state["go"] = config.getoption("go_fd")
    impl = config.getoption("impl")
    _state["impl"] = str(Path(impl).resolve()) if impl else None
    _state["timeout"] = config.getoption("timeout", None)
    limits = config.getoption("grader_limits")
    _state["limits"] = json.loads(limits) if limits else {}
    _state["seeds"] = {"seed": config.getoption("grader_seed"), "base_seed": config.getoption("grader_base_seed")}
    _state["replay"] = config.getoption("grader_replay")
    sched.configure(**_state["seeds"])
    try:  # reproducible grading: no example database, the same examples on every run
        from hypothesis import Phase, settings

        # no explain phase: its notes name the grader's temporary paths, not the student's lines
        phases = [phase for phase in Phase if phase is not Phase.explain]
        settings.register_profile("grader", database=None, derandomize=True, phases=phases)
        settings.load_profile("grader")
    except ImportError:  # pragma: no cover - hypothesis is a dependency
        pass
    if _state["fd"] is not None and _state["impl"] is not None:
        guard = integrity.Guard(_state["impl"], scratch=os.getcwd(), harness=str(config.rootpath),
                                private=config.getoption("grader_private"), grader_pid=os.getppid(),
                                note=lambda note: _send({"kind": "review", "note": note}))
        guard.install()
        _state["guard"] = guard


def _read_nonce(fd: int) -> bytes:
    data = b""
    try:
        while len(data) < 64 and (chunk := os.read(fd, 64 - len(data))):
            data += chunk
    finally:
        os.close(fd)
    return bytes.fromhex(data.decode("ascii"))


def _wait_for_go() -> None:
    """Block until the runner has removed the checks' file (it answers `begin` of the import on --go-fd)."""
    fd = _state.get("go")
    if fd is None:
        return
    try:
        os.read(fd, 1)
    finally:
        os.close(fd)
        _state["go"] = None


def _send(record: dict) -> None:
    fd = _state["fd"]
    if fd is None:
        return
    body = _dumps(record, separators=(",", ":")).encode()
    line = _hmac(_state["key"], body, _sha256).hexdigest().encode() + b" " + body + b"\n"
    with _sending:  # a note from a submission's thread must not split another thread's line
        try:
            while line:
                line = line[_write(fd, line):]
        except OSError:  # the runner fails closed on a missing result
            pass


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


def _exc_text(exc: BaseException, text: str | None = None) -> str:
    """`Type: message`; pass `text` when str(exc) was taken already (a submission's __str__ may run once)."""
    text = _str(exc) if text is None else text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _str(exc: BaseException) -> str:
    """str(exc), or a note if it fails (a submission's exception may be built to break its printing)."""
    try:
        text = str(exc)
    except BaseException:  # a submission's exception whose __str__ fails
        return "(its message could not be shown)"
    return text[:MAX_MESSAGE] if isinstance(text, str) else ""


def _check_name(item) -> str:
    return (getattr(item, "originalname", None) or item.name.split("[")[0]).removeprefix("test_")


@pytest.hookimpl(trylast=True)  # after pytest's own reordering: a check's items must run one after another
def pytest_collection_modifyitems(session, config, items):
    names = [_check_name(item) for item in items]
    order = {name: index for index, name in enumerate(dict.fromkeys(names))}
    items.sort(key=lambda item: order[_check_name(item)])
    for item in items:
        name = _check_name(item)
        _state["items"][name] = _state["items"].get(name, 0) + 1
        if name in _state["limits"]:
            item.add_marker(pytest.mark.timeout(_state["limits"][name]))
    _state["pending"] = dict(_state["items"])
    if _state["guard"] is not None:
        _state["guard"].close_harness({f"test_{name}" for name in config.getoption("grader_hidden")})
        _state["guard"].seal()
    path = _state["impl"]
    if path is None:
        return
    _send({"kind": "begin", "check": None})  # the import is running
    _wait_for_go()
    try:
        unload(load_impl(path))
    except BaseException as exc:  # SystemExit and KeyboardInterrupt at import are failures too
        _state["import_error"] = _import_error(exc, path)
        _send({"kind": "import_error", "message": _state["import_error"][:MAX_MESSAGE]})
    if _state["import_error"] is not None:
        message = f"not run: {Path(path).name} does not import ({_state['import_error']})"[:MAX_MESSAGE]
        for name in order:
            _send({"kind": "begin", "check": name})
            _send({"kind": "check", "check": name, "passed": False, "message": message, "seed": None, "duration": 0.0})
        config.hook.pytest_deselected(items=list(items))
        items[:] = []


def _result(name: str) -> dict:
    return _state["results"].setdefault(
        name, {"passed": True, "message": "", "seed": None, "duration": 0.0, "completed": 0})


@pytest.hookimpl(wrapper=True, tryfirst=True)  # before fixtures are set up: a setup error must find its check
def pytest_runtest_setup(item):
    name = _check_name(item)
    if name not in _state["results"]:
        _result(name)
        _send({"kind": "begin", "check": name})
        if _state["replay"]:  # a failure found by a schedule says how to replay just that check
            command = _state["replay"].replace("{", "{{").replace("}", "}}")
            sched.configure(**_state["seeds"], replay=f"{command} --seed {{seed}} -k {name}")
    with _phase(name):
        return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Call the check here, so that its verdict rests on the call itself."""
    name = _check_name(pyfuncitem)
    arguments = {arg: pyfuncitem.funcargs[arg] for arg in pyfuncitem._fixtureinfo.argnames}
    with _phase(name):
        outcome = pyfuncitem.obj(**arguments)
        if inspect.isawaitable(outcome):
            getattr(outcome, "close", lambda: None)()
            pytest.fail("the check is a coroutine: a check must run its event loop itself", pytrace=False)
    _result(name)["completed"] += 1
    return True


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    name = _check_name(item)
    try:
        with _phase(name):
            return (yield)
    finally:
        _state["pending"][name] = _state["pending"].get(name, 1) - 1
        if _state["pending"][name] == 0:
            _finish(name, _result(name))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    """pytest's report of a phase, made without formatting the exception: the verdict is this plugin's, and
    formatting would call the submission's __repr__ and __str__, which need not return."""
    if _state["fd"] is None:
        return None  # checks run by hand: pytest's own full report
    name = _check_name(item)
    if call.excinfo is None:
        outcome, longrepr = "passed", None
    elif call.excinfo.errisinstance(pytest.skip.Exception):
        outcome, longrepr = "skipped", (str(item.path), None, "skipped")
    else:
        outcome = "failed"
        longrepr = _state["results"].get(name, {}).get("message") or f"{call.excinfo.typename} in {call.when}"
    return pytest.TestReport(item.nodeid, item.location, {}, outcome, longrepr, call.when,
                             duration=call.duration, start=call.start, stop=call.stop)


class _phase:
    """Times one phase of a check (setup, call, teardown) and records the first exception it raises."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.started = _clock()

    def __exit__(self, kind, exc, tb):
        result = _result(self.name)
        result["duration"] += _clock() - self.started
        if exc is not None and result["passed"]:
            result["passed"] = False
            result["message"], result["seed"] = _describe(exc, self.name)
        return False


def _flatten(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _describe(exc: BaseException, name: str) -> tuple[str, int | None]:
    """The student-facing message for a check that raised `exc`, and its schedule seed if any."""
    exc = _flatten(exc)
    if isinstance(exc, sched.ScheduleFailure):
        return _str(exc), exc.seed
    path = _state["impl"]
    where = _where(exc.__traceback__, path)
    text = _str(exc)
    limit = _state["limits"].get(name, _state["timeout"])
    if isinstance(exc, pytest.fail.Exception) and text.startswith("Timeout (>"):
        message = f"timed out after {limit:g} s" + (f" (at {where})" if where else "")
    elif isinstance(exc, AssertionError) and where is None:
        message = text or "assertion failed"
    elif isinstance(exc, pytest.skip.Exception):
        message = f"skipped ({text}): a check only passes by running to the end"
    elif isinstance(exc, pytest.fail.Exception):
        message = text
    elif isinstance(exc, MemoryError):
        message = f"{where + ': ' if where else ''}MemoryError: ran out of memory"
    elif isinstance(exc, AttributeError) and path and getattr(getattr(exc, "obj", None), "__file__", None) == path:
        message = f"{Path(path).name} does not define {exc.name!r}, which the checks use (see README.md)"
    else:
        message = f"{where + ': ' if where else ''}{_exc_text(exc, text)}"
        if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            message += " (a file, or the test's captured output, passed the grader's file size limit)"
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, list) and notes:
        message += "\n" + "\n".join(str(note) for note in notes if isinstance(note, str))
    return message, None


def _finish(name: str, result: dict) -> None:
    limit = _state["limits"].get(name, _state["timeout"])
    passed = result["passed"]
    if passed and result["completed"] != _state["items"].get(name):
        passed, result["message"] = False, "the check did not run to its end"
    if passed and limit and result["duration"] >= limit:
        # A submission that swallowed pytest-timeout's exception ran over time all the same.
        passed, result["message"] = False, f"timed out after {limit:g} s"
    message = result["message"]
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 20] + "\n... (message cut)"
    _send({"kind": "check", "check": name, "passed": passed, "message": message, "seed": result["seed"],
           "duration": result["duration"]})


def pytest_sessionfinish(session, exitstatus):
    _state["exitstatus"] = int(exitstatus)
    changed = _state["guard"].changed_classes() if _state["guard"] is not None else None
    if changed is not None:
        _send({"kind": "changed", "what": changed})
    for name, pending in _state["pending"].items():  # collected, yet never finished: pytest did not run it
        if pending and _state["import_error"] is None:
            if name not in _state["results"]:
                _send({"kind": "begin", "check": name})
            _send({"kind": "check", "check": name, "passed": False, "seed": None, "duration": 0.0,
                   "message": "the check did not run to its end (pytest did not run all of it)"})
    _send({"kind": "end", "exitstatus": int(exitstatus)})


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _state["fd"] is not None:
        # Leftover threads of the submission must not hang or crash the exit: the results are sent.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_state.get("exitstatus", 3))
