"""What a student reads about a run: deadlock text, an exception's place, the interleaving as columns."""
from __future__ import annotations

import os

from grader.sched import places, state
from grader.sched.runtime import SLEEP, Failure, Held, Run, ThreadState

_MAX_ROWS = 30
_CONTEXT = 3        # rows shown on each side of a thread switch in a long interleaving
_MAX_CELL = 46
_MAX_WIDTH = 160      # of a whole row: columns get narrower as threads get more

# What a blocked thread is doing, by the stdlib function it is blocked in.
_OPERATIONS = {
    "Condition.wait": "Condition.wait()", "Condition.wait_for": "Condition.wait_for()",
    "Semaphore.acquire": "Semaphore.acquire()", "Event.wait": "Event.wait()",
    "Barrier.wait": "Barrier.wait()", "Queue.get": "Queue.get()", "Queue.put": "Queue.put()",
    "Queue.join": "Queue.join()", "Thread.join": "Thread.join()", "_RLock.acquire": "acquiring an RLock",
    "_RLock.__enter__": "acquiring an RLock", "sleep": "time.sleep()", "Future.result": "Future.result()",
}


def deadlock_failure(run: Run) -> Failure:
    """Describe why no thread can run: a wait-for cycle among lock holders, or waits nobody ends."""
    waiting = [t for t in run.threads if t.started and not t.finished]
    cycle = lock_cycle(waiting)
    if cycle:
        return Failure("deadlock", "Deadlock: each of these threads holds a lock the next one waits for.",
                       tuple(describe_cycle(cycle)))
    again = reacquired(waiting)
    if again:
        return Failure("deadlock", "Deadlock: a thread waits for a lock it already holds. A Lock is not re-entrant: "
                       "release it first, or use an RLock.", tuple(again))
    if any(getattr(t.waiting_on, "holder", None) is t for t in waiting):   # in a Condition/Event/Semaphore wait
        return Failure("lost wakeup", "Lost wakeup: a thread waits to be notified, but no running thread "
                       "will ever notify it.", tuple(describe_waits(waiting)))
    return Failure("blocked forever", "Blocked forever: every thread waits and none can wake the others.",
                   tuple(describe_waits(waiting)))


def _blocked_frames(st: ThreadState):
    """(site, operation) for a thread parked by the scheduler."""
    site, inner = places.blocked_site(st.ident)
    op = _OPERATIONS.get(inner, inner + "()") if inner else None
    return site, op


def lock_cycle(waiting: list[ThreadState]) -> list[tuple[ThreadState, Held]] | None:
    """A cycle of threads each waiting for a lock the next one holds, or None."""
    edges = {}
    for t in waiting:
        obj = t.waiting_on
        if isinstance(obj, Held) and obj.holder is not None and obj.holder is not t:
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
        at = f"waits at {places.where(*site)}" if site else "waits"
        took = f" took at {places.where(*lock.taken_at)}" if lock.taken_at else " holds"
        lines.append(f"{t.name} {at} for the lock {lock.holder.name}{took}")
    return lines


def reacquired(waiting: list[ThreadState]) -> list[str]:
    """Lines for the threads blocked in acquiring a lock they hold themselves (not Condition.wait's lock)."""
    lines = []
    for t in waiting:
        obj = t.waiting_on
        if isinstance(obj, Held) and obj.holder is t and not obj.waiter:
            site, _ = _blocked_frames(t)
            if site is not None:
                took = f" (took it at {places.where(*obj.taken_at)})" if obj.taken_at else ""
                lines.append(f"{t.name} waits at {places.where(*site)} for a lock it already holds{took}")
    return lines


def describe_waits(waiting: list[ThreadState]) -> list[str]:
    lines = []
    for t in waiting:
        site, op = _blocked_frames(t)
        obj = t.waiting_on
        if isinstance(obj, Held) and obj.holder is not None and obj.holder is not t:
            op = f"for the lock {obj.holder.name} holds"
        elif isinstance(obj, ThreadState):
            op = f"for {obj.name} to finish"
        elif op:
            op = f"in {op}"
        text = f"{t.name} waits {op or ''}".rstrip()
        lines.append(f"{text} at {places.where(*site)}" if site else text)
    return lines


def exception_failure(exc: BaseException, thread_name: str) -> Failure:
    """An exception that escaped a thread (or the scenario), placed in the student's file."""
    tb, site = exc.__traceback__, None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name in state.tracked_files or (site is None and places.is_user(name)):
            site = name, tb.tb_lineno
        tb = tb.tb_next
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    place = f" at {places.where(*site)}" if site else ""
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


def interleaving(run: Run) -> list[str]:
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
    rows = [(tid, places.where(*cell, short=short) if isinstance(cell, tuple) else cell) for tid, cell in rows]
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
