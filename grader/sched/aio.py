"""asyncio under control: a loop on virtual time that runs ready callbacks in a seeded order.

Datagram endpoints (loop.create_datagram_endpoint) work on it, on loopback, in memory (grader.sched.net).

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

from grader.sched import explain, net, places, primitives, state
from grader.sched.report import author_message, loop_failure
from grader.sched.runtime import Failure, clock_origin
from grader.sched.stress import stress

DEFAULT_SCHEDULES = 200
DEFAULT_MAX_CALLBACKS = 200_000
_running = {"seed": None}  # the seed of the run in progress, for run_seed()


def run_seed() -> int | None:
    """The seed of the run explore_async is making (None outside one). A check that draws a plan of its own
    inside the run (a lossy relay's) seeds it with this: one seed then decides the plan and the order of
    callbacks, and `--seed` replays both."""
    return _running["seed"]


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
    """An event loop with no IO but UDP on loopback in memory (grader.sched.net), a virtual clock, and a seeded
    order for ready callbacks."""

    def __init__(self, rng: random.Random | None, max_callbacks: int, origin: float):
        super().__init__()
        self.clock = origin           # loop.time() reads like time.monotonic() on a machine that is up
        self._ready = _Shuffled(rng)
        self._selector = _NoIO(self)
        self.callbacks = 0
        self.max_callbacks = max_callbacks
        self.failure: Failure | None = None     # set where raising alone might be swallowed
        self.network = net.Network(self)        # its datagram endpoints

    async def create_datagram_endpoint(self, protocol_factory, local_addr=None, remote_addr=None, **options):
        """A UDP endpoint on this loop's network (reuse_port, family, sock and the like do not apply there)."""
        if options.get("sock") is not None:
            raise ValueError("a socket cannot be given here: the grader's loop has its own network (use local_addr)")
        protocol = protocol_factory()
        transport = net.DatagramTransport(self.network, protocol, local_addr, remote_addr)
        transport.start()  # connection_made() before the call returns, as asyncio does
        await asyncio.sleep(0)
        return transport, protocol

    def time(self):
        return self.clock

    def _process_events(self, event_list):
        self.callbacks += 1
        if self.callbacks > self.max_callbacks:
            raise _Stop(Failure("step limit", f"The event loop ran more than {self.max_callbacks} steps "
                                "without finishing: a task that never awaits anything that blocks, or a livelock."))

    def _write_to_self(self):
        pass

    def blocking_sleep(self, seconds: float) -> None:
        """Called by the patched time.sleep: inside this loop's coroutine, a sleep blocks the loop."""
        if asyncio._get_running_loop() is not self:
            return
        site = places.student_site(sys._getframe(2))
        place = f" at {places.where(*site)}" if site else ""
        self.failure = self.failure or Failure(
            "blocking call", f"time.sleep({seconds}){place} blocks the whole event loop: every other task stops "
            "too. Use `await asyncio.sleep(...)` in a coroutine.")
        raise _Stop(self.failure)


def _deadlock(loop: VirtualLoop) -> Failure:
    details = []
    for task in sorted(asyncio.all_tasks(loop), key=lambda t: t.get_name()):
        site = _await_point(task)
        details.append(f"{task.get_name()} waits at {places.where(*site)}" if site else f"{task.get_name()} waits")
    return Failure("deadlock", "Deadlock: every task is waiting and nothing is scheduled to wake any of them.",
                   tuple(details))


def _await_point(task):
    """(file, line) of the innermost frame of the task in the submission (else the check)."""
    best = None
    for frame in task.get_stack():
        name = frame.f_code.co_filename
        if name in state.tracked_files:
            best = name, frame.f_lineno
        elif best is None and places.is_user(name):
            best = name, frame.f_lineno
    return best


def run_once_async(main, rng, max_callbacks: int, seed: int = 0) -> Failure | None:
    """One run of `await main()` on a virtual loop that pops ready callbacks as `rng` says (in order if None)."""
    loop = VirtualLoop(rng, max_callbacks, clock_origin(seed)[0])
    state.set_active_loop(loop)
    _running["seed"] = seed
    # Default task names (Task-N) count per process; restart them so a replay prints the same names.
    asyncio.tasks._task_name_counter = itertools.count(1)
    failure = None
    try:
        task = loop.create_task(main(), name="main")
        loop.run_until_complete(task)
        loop.run_until_complete(asyncio.sleep(0))       # let cancellations in flight settle
        left = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if left:
            details = [f"{t.get_name()} waits at {places.where(*site)}" if (site := _await_point(t)) else t.get_name()
                       for t in sorted(left, key=lambda t: t.get_name())]
            failure = Failure("task left behind", f"{len(left)} task(s) still running after the call returned; "
                              "cancel them (and await them) before returning.", tuple(details))
    except _Stop as stop:
        failure = stop.failure
    except AssertionError as exc:
        failure = Failure("assertion", author_message(exc))
    except Exception as exc:
        failure = explain.exception_failure(exc, "main")
    finally:
        failure = loop.failure or failure
        state.set_active_loop(None)
        _running["seed"] = None
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
    settings = state.settings
    if settings.stress_seconds is not None:   # the benchmarks' baseline: plain asyncio.run, again and again
        return stress(lambda: asyncio.run(main()), settings.stress_seconds, settings.switch_interval,
                      settings.hang_after)
    max_callbacks = max_callbacks or DEFAULT_MAX_CALLBACKS
    base = settings.base_seed
    failure = run_once_async(main, None, max_callbacks, base)
    if failure:
        raise loop_failure(failure, base, "callbacks in order", 1)
    seeds = [settings.seed] if settings.seed is not None else range(base, base + (schedules or DEFAULT_SCHEDULES))
    for count, seed in enumerate(seeds, start=1):
        failure = run_once_async(main, random.Random(seed), max_callbacks, seed)
        if failure:
            raise loop_failure(failure, seed, "shuffled callbacks", count)
