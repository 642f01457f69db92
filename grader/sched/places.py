"""Places in the student's terms: `counter.py:12 `self.value += 1``, found by walking frames."""
from __future__ import annotations

import linecache
import os
import sys

from grader.sched import state

_HARNESS_DIRS = (os.path.dirname(os.path.dirname(__file__)), os.path.dirname(os.__file__))
_SCHED_DIR = os.path.dirname(__file__)


def where(filename: str, line: int, short: bool = False) -> str:
    """`counter.py:12 `self.value += 1``: a place in the student's terms (`12 self.value += 1` if short)."""
    text = linecache.getline(filename, line).strip()
    if short:
        return f"{line} {text}"
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{os.path.basename(filename)}:{line} `{text}`" if text else f"{os.path.basename(filename)}:{line}"


def is_user(filename: str) -> bool:
    """The submission's or a check's file: neither the grader's nor the stdlib's."""
    return filename in state.tracked_files or not filename.startswith(_HARNESS_DIRS)


def is_check_code(code) -> bool:
    """Code of the check's own, not a helper marked with __tracebackhide__. (Callers read a frame's
    f_code once and pass it: on 3.11 each read raises an audit event.)"""
    return is_user(code.co_filename) and "__tracebackhide__" not in code.co_varnames


def student_site(frame) -> tuple[str, int] | None:
    """(file, line) of the innermost frame in the submission, else in the check, else None; within the
    scenario when a run is active (the frames outside it are the harness's). Frames are told apart by
    their namespace first: reading f_code raises an audit event on 3.11, for the grading child's hook."""
    fallback = None
    stop = state.active.root_frame if state.active is not None else None
    namespaces, identity = state.tracked_globals, state.identity
    while frame is not None and frame is not stop:
        ours = identity(frame.f_globals) in namespaces
        if ours or fallback is None:
            code = frame.f_code
            name = code.co_filename
            if ours and name in state.tracked_files:
                return name, frame.f_lineno
            if fallback is None and is_check_code(code):
                fallback = name, frame.f_lineno
        frame = frame.f_back
    return fallback


def in_submission(frame, depth: int = 8) -> bool:
    """Whether one of the `depth` innermost frames from `frame` outwards is the submission's."""
    tracked = state.tracked_files
    for _ in range(depth):
        if frame is None:
            return False
        if frame.f_code.co_filename in tracked:
            return True
        frame = frame.f_back
    return False


def blocked_site(ident: int):
    """(site, innermost stdlib function) of the thread `ident`, parked by the scheduler: the innermost
    frame in the submission or the check, and the function it called that blocks (or None)."""
    frame = sys._current_frames().get(ident)
    inner = None
    while frame is not None:
        code = frame.f_code
        name = code.co_filename
        if name in state.tracked_files or is_check_code(code):
            return (name, frame.f_lineno), (inner.f_code.co_qualname if inner else None)
        if not name.startswith(_SCHED_DIR):
            inner = frame
        frame = frame.f_back
    return None, None
