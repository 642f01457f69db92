"""asyncio under control: a loop on virtual time that runs ready callbacks in a seeded order.

`explore_async(main)` runs `await main()` once per seed. Sleeps and timeouts advance a virtual clock
the moment nothing else is ready, so a check with timeouts runs instantly and identically every
time. When every task waits and no timer is pending, the run has deadlocked, and each task's await
point is reported. A blocking `time.sleep` inside a coroutine fails the check: it stalls the loop.
Tasks still pending when `main` returns fail the check too (a task left behind).
"""
from __future__ import annotations

import asyncio
import collections
import itertools
import random
import sys

from grader.sched import primitives, trace
from grader.sched.explore import DEFAULT_SCHEDULES, ScheduleFailure, config, replay_line, stress
from grader.sched.runtime import Failure

DEFAULT_MAX_CALLBACKS = 200_000

#: The virtual loop running in this process, if any (time.sleep consults it).
active_loop: VirtualLoop | None = None


class _Stop(Exception):
    """Ends a run from inside the loop with a Failure."""

    def __init__(self, failure: Failure):
        super().__init__(failure.message)
        self.failure = failure


class _Shuffled(collections.deque):
    """The ready queue: popleft takes a seeded random element instead of the first."""

    def __init__(self, rng: random.Random | None):
        super().__init__()
        self.rng = rng

    def popleft(self):
        if self.rng is None or len(self) < 2:
            return super().popleft()
        i = self.rng.randrange(len(self))
        item = self[i]
        del self[i]
        return item


class _NoIO:
    """Stands in for the selector: 'waiting' for IO just advances the virtual clock."""

    def __init__(self, loop: VirtualLoop):
        self.loop = loop

    def select(self, timeout):
        if timeout is None:
            raise _Stop(_deadlock(self.loop))
        self.loop.clock += max(timeout, 0.0)
        return []

    def close(self):
        pass


class VirtualLoop(asyncio.BaseEventLoop):
    """An event loop with no IO, a virtual clock, and a seeded order for ready callbacks."""

    def __init__(self, rng: random.Random | None, max_callbacks: int):
        super().__init__()
        self.clock = 0.0
        self._ready = _Shuffled(rng)
        self._selector = _NoIO(self)
        self.callbacks = 0
        self.max_callbacks = max_callbacks
        self.failure: Failure | None = None     # set where raising alone might be swallowed

    def time(self):
        return self.clock

    def _process_events(self, event_list):
        self.callbacks += 1
        if self.callbacks > self.max_callbacks:
            raise _Stop(Failure("step limit", f"The event loop ran more than {self.max_callbacks} steps "
                                "without finishing: a task that never awaits anything that blocks, or a livelock."))

    def _write_to_self(self):
        pass


def _deadlock(loop: VirtualLoop) -> Failure:
    details = []
    for task in sorted(asyncio.all_tasks(loop), key=lambda t: t.get_name()):
        site = _await_point(task)
        details.append(f"{task.get_name()} waits at {trace.where(*site)}" if site else f"{task.get_name()} waits")
    return Failure("deadlock", "Deadlock: every task is waiting and nothing is scheduled to wake any of them.",
                   tuple(details))


def _await_point(task):
    """(file, line) of the innermost frame of the task in the submission (else the check)."""
    best = None
    for frame in task.get_stack():
        name = frame.f_code.co_filename
        if name in primitives.tracked_files:
            best = name, frame.f_lineno
        elif best is None and trace._is_user(name):
            best = name, frame.f_lineno
    return best


def blocking_sleep(seconds: float) -> bool:
    """Called by the patched time.sleep: inside a virtual loop's coroutine, a sleep blocks the loop."""
    loop = active_loop
    if loop is None or asyncio._get_running_loop() is not loop:
        return False
    site = trace.student_site(sys._getframe(2))
    place = f" at {trace.where(*site)}" if site else ""
    loop.failure = loop.failure or Failure(
        "blocking call", f"time.sleep({seconds}){place} blocks the whole event loop: every other task stops "
        "too. Use `await asyncio.sleep(...)` in a coroutine.")
    raise _Stop(loop.failure)


def run_once_async(main, rng, max_callbacks: int) -> Failure | None:
    global active_loop
    loop = VirtualLoop(rng, max_callbacks)
    active_loop = loop
    # Default task names (Task-N) count per process; restart them so a replay prints the same names.
    asyncio.tasks._task_name_counter = itertools.count(1)
    failure = None
    try:
        task = loop.create_task(main(), name="main")
        loop.run_until_complete(task)
        loop.run_until_complete(asyncio.sleep(0))       # let cancellations in flight settle
        left = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if left:
            details = [f"{t.get_name()} waits at {trace.where(*site)}" if (site := _await_point(t)) else t.get_name()
                       for t in sorted(left, key=lambda t: t.get_name())]
            failure = Failure("task left behind", f"{len(left)} task(s) still running after the call returned; "
                              "cancel them (and await them) before returning.", tuple(details))
    except _Stop as stop:
        failure = stop.failure
    except AssertionError as exc:
        from grader.sched.explore import _author_message
        failure = Failure("assertion", _author_message(exc))
    except Exception as exc:
        failure = trace.exception_failure(exc, "main")
    finally:
        failure = loop.failure or failure
        active_loop = None
        for t in asyncio.all_tasks(loop):
            t.cancel()
        try:
            loop.run_until_complete(asyncio.sleep(0))
        except BaseException:
            pass
        loop.close()
    return failure


def explore_async(main, *, schedules: int | None = None, max_callbacks: int | None = None) -> None:
    """Run `await main()` under `schedules` seeded orders of ready callbacks, on virtual time.

    Raises ScheduleFailure with the student-facing report on the first failure.
    """
    __tracebackhide__ = True
    primitives.install()
    if config["stress_seconds"] is not None:   # the benchmarks' baseline: plain asyncio.run, again and again
        return stress(lambda: asyncio.run(main()), config["stress_seconds"], config["switch_interval"],
                      config["hang_after"])
    max_callbacks = max_callbacks or DEFAULT_MAX_CALLBACKS
    base = config["base_seed"]
    failure = run_once_async(main, None, max_callbacks)
    if failure:
        raise _report(failure, base, "callbacks in order", 1)
    seeds = [config["seed"]] if config["seed"] is not None else range(base, base + (schedules or DEFAULT_SCHEDULES))
    for count, seed in enumerate(seeds, start=1):
        failure = run_once_async(main, random.Random(seed), max_callbacks)
        if failure:
            raise _report(failure, seed, "shuffled callbacks", count)


def _report(failure: Failure, seed: int, strategy: str, count: int) -> ScheduleFailure:
    lines = [failure.message] + [f"  {d}" for d in failure.details] + [replay_line(seed)]
    return ScheduleFailure("\n".join(lines), seed=seed, kind=failure.kind, strategy=strategy, schedules=count)
