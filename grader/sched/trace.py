"""What a student reads: places in their file, wait-for cycles, and the interleaving as columns."""
from __future__ import annotations

import linecache
import os
import sys

from grader.sched import runtime
from grader.sched.primitives import ControlledLock, tracked_files
from grader.sched.runtime import SLEEP, Failure, ThreadState

_MAX_ROWS = 30
_CONTEXT = 3        # rows shown on each side of a thread switch in a long interleaving
_MAX_CELL = 46
_MAX_WIDTH = 160      # of a whole row: columns get narrower as threads get more
_HARNESS_DIRS = (os.path.dirname(os.path.dirname(__file__)), os.path.dirname(os.__file__))

# What a blocked thread is doing, by the stdlib function it is blocked in.
_OPERATIONS = {
    "Condition.wait": "Condition.wait()", "Condition.wait_for": "Condition.wait_for()",
    "Semaphore.acquire": "Semaphore.acquire()", "Event.wait": "Event.wait()",
    "Barrier.wait": "Barrier.wait()", "Queue.get": "Queue.get()", "Queue.put": "Queue.put()",
    "Queue.join": "Queue.join()", "Thread.join": "Thread.join()", "ControlledLock.acquire": "acquiring a lock",
    "ControlledLock.__enter__": "acquiring a lock", "_RLock.acquire": "acquiring an RLock",
    "_RLock.__enter__": "acquiring an RLock", "sleep": "time.sleep()", "Future.result": "Future.result()",
}


def where(filename: str, line: int, short: bool = False) -> str:
    """`counter.py:12 `self.value += 1``: a place in the student's terms (`12 self.value += 1` if short)."""
    text = linecache.getline(filename, line).strip()
    if short:
        return f"{line} {text}"
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{os.path.basename(filename)}:{line} `{text}`" if text else f"{os.path.basename(filename)}:{line}"


def _is_user(filename: str) -> bool:
    return filename in tracked_files or not filename.startswith(_HARNESS_DIRS)


def _is_check_code(code) -> bool:
    """Code of the check's own, not a helper marked with __tracebackhide__. (Callers read a frame's
    f_code once and pass it: on 3.11 each read raises an audit event.)"""
    return _is_user(code.co_filename) and "__tracebackhide__" not in code.co_varnames


def student_site(frame) -> tuple[str, int] | None:
    """(file, line) of the innermost frame in the submission, else in the check, else None; within the
    scenario when a run is active (the frames outside it are the harness's)."""
    fallback = None
    stop = runtime.active.root_frame if runtime.active is not None else None
    while frame is not None and frame is not stop:
        code = frame.f_code
        name = code.co_filename
        if name in tracked_files:
            return name, frame.f_lineno
        if fallback is None and _is_check_code(code):
            fallback = name, frame.f_lineno
        frame = frame.f_back
    return fallback


def _blocked_frames(st: ThreadState):
    """(site, operation) for a thread parked by the scheduler."""
    frame = sys._current_frames().get(st.ident)
    inner = None
    while frame is not None:
        code = frame.f_code
        name = code.co_filename
        if name in tracked_files or _is_check_code(code):
            op = _OPERATIONS.get(inner.f_code.co_qualname, inner.f_code.co_qualname + "()") if inner else None
            return (name, frame.f_lineno), op
        if not name.startswith(os.path.dirname(__file__)):
            inner = frame
        frame = frame.f_back
    return None, None


def lock_cycle(waiting: list[ThreadState]) -> list[tuple[ThreadState, ControlledLock]] | None:
    """A cycle of threads each waiting for a lock the next one holds, or None."""
    edges = {}
    for t in waiting:
        obj = t.waiting_on
        if isinstance(obj, ControlledLock) and obj.holder is not None and obj.holder is not t:
            edges[t] = obj
    for start in edges:
        seen, t = [], start
        while t in edges and t not in seen:
            seen.append(t)
            t = edges[t].holder
        if t in seen:
            cycle = seen[seen.index(t):]
            return [(c, edges[c]) for c in cycle]
    return None


def describe_cycle(cycle) -> list[str]:
    lines = []
    for t, lock in cycle:
        site, _ = _blocked_frames(t)
        at = f"waits at {where(*site)}" if site else "waits"
        took = f" took at {where(*lock.taken_at)}" if lock.taken_at else " holds"
        lines.append(f"{t.name} {at} for the lock {lock.holder.name}{took}")
    return lines


def reacquired(waiting: list[ThreadState]) -> list[str]:
    """Lines for the threads blocked in acquiring a lock they hold themselves (not Condition.wait's lock)."""
    lines = []
    for t in waiting:
        obj = t.waiting_on
        if isinstance(obj, ControlledLock) and obj.holder is t and not obj.waiter:
            site, _ = _blocked_frames(t)
            if site is not None:
                took = f" (took it at {where(*obj.taken_at)})" if obj.taken_at else ""
                lines.append(f"{t.name} waits at {where(*site)} for a lock it already holds{took}")
    return lines


def describe_waits(waiting: list[ThreadState]) -> list[str]:
    lines = []
    for t in waiting:
        site, op = _blocked_frames(t)
        obj = t.waiting_on
        if isinstance(obj, ControlledLock) and obj.holder is not None and obj.holder is not t:
            op = f"for the lock {obj.holder.name} holds"
        elif isinstance(obj, ThreadState):
            op = f"for {obj.name} to finish"
        elif op:
            op = f"in {op}"
        text = f"{t.name} waits {op or ''}".rstrip()
        lines.append(f"{text} at {where(*site)}" if site else text)
    return lines


def exception_failure(exc: BaseException, thread_name: str) -> Failure:
    """An exception that escaped a thread (or the scenario), placed in the student's file."""
    tb, site = exc.__traceback__, None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name in tracked_files or (site is None and _is_user(name)):
            site = name, tb.tb_lineno
        tb = tb.tb_next
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    place = f" at {where(*site)}" if site else ""
    return Failure("exception", f"{text}", (f"raised in {thread_name}{place}",))


_lines_cache: dict = {}


def _line_of(code, offset) -> int:
    lines = _lines_cache.get(code)
    if lines is None:
        lines = _lines_cache[code] = [pos[0] for pos in code.co_positions()]
    index = offset // 2
    return (lines[index] if index < len(lines) else None) or code.co_firstlineno


def _event_text(event, tid) -> str:
    what, obj, holder = event
    if what == "starts":
        return f"starts {obj.name}"
    if what == "timed out":
        return "wait times out" if obj is not SLEEP else "wakes up"
    if obj is SLEEP:
        return "sleeps"
    if isinstance(obj, ThreadState):
        return f"waits for {obj.name} to finish"
    if holder is not None and holder.tid != tid:
        return f"waits for the lock {holder.name} holds"
    if holder is not None:
        return "waits to be notified" if getattr(obj, "waiter", True) else "waits for a lock it holds"
    return "waits"


def interleaving(run: runtime.Run) -> list[str]:
    """The run's steps in the submission's code, one column per thread, like Lincheck prints them."""
    rows: list[tuple[int, str]] = []
    last = {}
    for tid, code, info in run.trace:
        if code is None:
            rows.append((tid, _event_text(info, tid)))
            last[tid] = None
            continue
        key = (code.co_filename, _line_of(code, info))
        if rows and rows[-1][0] == tid and last.get(tid) == key:
            continue
        last[tid] = key
        rows.append((tid, key))
    files = {cell[0] for _, cell in rows if isinstance(cell, tuple)}
    short = len(files) == 1     # one file: show `line code`, and name the file once in the header
    rows = [(tid, where(*cell, short=short) if isinstance(cell, tuple) else cell) for tid, cell in rows]
    names = {t.tid: t.name for t in run.threads}
    tids = sorted({tid for tid, _ in rows})
    if not rows:
        return []
    shown = _rows_to_show([tid for tid, _ in rows])
    cell_max = max(28, min(_MAX_CELL, _MAX_WIDTH // len(tids) - 2))
    width = {tid: min(cell_max, max([len(names[tid])] + [len(rows[i][1]) for i in shown if rows[i][0] == tid]))
             for tid in tids}

    def line(cells: dict) -> str:
        parts = []
        for tid in tids:
            cell = cells.get(tid, "")
            if len(cell) > width[tid]:
                cell = cell[:width[tid] - 3] + "..."
            parts.append(cell.ljust(width[tid]))
        return "  ".join(parts).rstrip()

    out = [f"(lines of {os.path.basename(files.pop())})"] if short else []
    out.append(line(names))
    previous = -1
    for i in shown:
        if i > previous + 1:
            gap = i - previous - 1
            out.append(f"(... {gap} step{'s' if gap > 1 else ''})")
        out.append(line({rows[i][0]: rows[i][1]}))
        previous = i
    return out


def _rows_to_show(tids: list[int]) -> list[int]:
    """Indexes of the rows worth printing: all of a short trace; of a long one, the rows around each
    switch between threads (where the interleaving matters) and the last rows, within _MAX_ROWS."""
    if len(tids) <= _MAX_ROWS:
        return list(range(len(tids)))
    keep = set(range(len(tids) - _CONTEXT * 2, len(tids)))
    for i in range(len(tids) - 1, 0, -1):   # the latest switches first: they are nearest the failure
        if tids[i] != tids[i - 1]:
            around = set(range(max(0, i - _CONTEXT), min(len(tids), i + _CONTEXT)))
            if len(keep | around) > _MAX_ROWS:
                break
            keep |= around
    # a gap of one row takes as much room as its "(... 1 step)" marker: show the row instead
    single = {i for i in range(len(tids)) if i not in keep and i + 1 in keep and (i == 0 or i - 1 in keep)}
    return sorted(keep | single)
