"""One controlled run: threads take turns holding a baton; a strategy picks who runs at each point.

Only the thread holding the baton runs. At a scheduling point it asks the strategy for the next
thread and, if that is another one, hands the baton over and parks on its own. A thread that must
block (a held lock, a wait, a join, a sleep) is marked waiting and is not runnable until the object
it waits on is released or its virtual deadline comes. When nothing can run, the virtual clock jumps
to the earliest deadline; with no deadline left, the run has deadlocked.

Time is honest about sleeps: while the next timer is a `time.sleep` of the submission, the strategy
may let the clock run ahead to it although other threads could still run (they were slow), so a
sleep is a minimum delay, never an order. A timed wait still times out exactly at its deadline.
"""
from __future__ import annotations

import bisect
import heapq
import random

from grader.sched import places, state

JUMP = -2   # in a run's decisions: the clock ran ahead to the next timer


def clock_origin(seed: int) -> tuple[float, float]:
    """(time.monotonic(), time.time()) at a run's start: plausible readings, a function of the seed.

    monotonic reads like a machine up between 3 hours and 12 days; time like a day in 2026-2027. Both
    are multiples of 1/64 s, so that adding whole seconds of virtual time to them is exact."""
    rng = random.Random(seed * 7919 + 104729)
    return rng.randrange(10_000 * 64, 1_000_000 * 64) / 64, rng.randrange(1_767_225_600 * 64, 1_830_297_600 * 64) / 64


class Abort(BaseException):
    """Unwinds a controlled thread once its run is over. Student code must not swallow it."""


class Failure(Exception):
    """Why a run failed: a kind (assertion, exception, deadlock, ...), a message, and details."""

    def __init__(self, kind: str, message: str, details: tuple[str, ...] = ()):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details


class ThreadState:
    """The scheduler's view of one controlled thread."""

    __slots__ = ("tid", "name", "thread", "ident", "baton", "waiting_on", "deadline", "timer",
                 "timed_out", "finished", "daemon", "started", "parent", "steps", "at", "launch")

    def __init__(self, tid: int, name: str, thread, daemon: bool, parent: int | None):
        self.tid = tid
        self.name = name
        self.thread = thread
        self.ident = None
        self.baton = state.allocate_lock()
        self.baton.acquire()          # held until the scheduler hands this thread the baton
        self.waiting_on = None        # the object this thread waits for, or None if runnable
        self.deadline = None          # virtual time at which the wait times out
        self.timer = None             # its entry in the run's timers, while it has a deadline
        self.timed_out = False
        self.finished = False
        self.daemon = daemon
        self.started = False
        self.parent = parent          # tid of the thread that made it
        self.steps = 0                # scheduling points it has passed
        self.at = None                # (code, offset) of the instruction it stands before, at a point there
        self.launch = None            # starts its OS thread, the first time it is handed the baton

    @property
    def runnable(self) -> bool:
        return self.started and not self.finished and self.waiting_on is None

    def __repr__(self):
        return f"<{self.name}>"


class Held:
    """Something a thread holds while others wait for it (the controlled lock's scheduling state)."""

    __slots__ = ("holder", "taken_at", "waiter")


class Sleep:
    """What a sleeping thread waits on: nothing but its deadline."""

    def __repr__(self):
        return "sleep"


SLEEP = Sleep()


def _tid(t: ThreadState) -> int:
    return t.tid


class Run:
    """The state of one controlled execution of a scenario under one strategy.

    `describe_deadlock(run)` makes the Failure reported when no thread can run and none waits with a
    deadline; it is called while every thread is still parked where it waits.
    """

    def __init__(self, strategy, max_steps: int, describe_deadlock):
        self.strategy = strategy
        self.max_steps = max_steps
        self.describe_deadlock = describe_deadlock
        self.threads: list[ThreadState] = []
        self.by_ident: dict[int, ThreadState] = {}
        self.current: ThreadState | None = None
        self.runnable: list[ThreadState] = []     # started, not finished, not waiting; by tid
        self._waiters: dict[object, list[ThreadState]] = {}   # object -> the threads waiting on it
        self._timers: list[tuple] = []            # heap of (deadline, order, thread, a submission's sleep)
        self._timer_order = 0
        self.clock = 0.0                    # virtual seconds since the run started
        self.monotonic_origin, self.epoch_origin = clock_origin(0)
        self.steps = 0
        self.trace: list[tuple] = []        # (tid, code, offset) or (tid, None, event)
        # (chosen tid or JUMP, preempted tid or None, (tid, steps) of the thread at the point, or of the one
        # that blocked or ended, whether it could have run on)
        self.decisions: list[tuple] = []
        self.failure: Failure | None = None
        self.aborting = False
        self.threads_made = 0               # Thread objects made in this run, for their default names
        self.root_frame = None              # the frame that runs the scenario: stack walks stop there

    # -- threads -------------------------------------------------------------------------------
    def add_thread(self, name: str, thread, daemon: bool, parent: ThreadState | None = None) -> ThreadState:
        st = ThreadState(len(self.threads), name, thread, daemon, parent.tid if parent else None)
        self.threads.append(st)
        return st

    def adopt_current(self, name: str) -> ThreadState:
        """Make the calling OS thread the first controlled thread, already running."""
        st = self.add_thread(name, None, False)
        st.ident = state.get_ident()
        self.by_ident[st.ident] = st
        self.mark_started(st)
        self.current = st
        return st

    def mark_started(self, st: ThreadState) -> None:
        st.started = True
        bisect.insort(self.runnable, st, key=_tid)

    def controlled(self) -> ThreadState | None:
        """The calling thread's state if it is controlled by this run."""
        return self.by_ident.get(state.get_ident())

    def enter_thread(self, st: ThreadState) -> None:
        """Called first thing in a new controlled OS thread: register it and wait for the baton."""
        st.ident = state.get_ident()
        self.by_ident[st.ident] = st
        self._park(st)

    def exit_thread(self, st: ThreadState) -> None:
        """Called last in a controlled thread: wake its joiners and pass the baton on for good."""
        st.finished = True
        if st in self.runnable:
            self.runnable.remove(st)
        self.wake(st)
        if self.aborting:
            return
        try:
            nxt = self._next_after_block(st)
        except Abort:
            return
        self._hand_over(nxt)

    # -- scheduling ----------------------------------------------------------------------------
    def point(self, st: ThreadState) -> None:
        """A scheduling point in the running thread st: maybe let another thread run."""
        if self.aborting:
            raise Abort
        self.steps += 1
        st.steps += 1
        if self.steps > self.max_steps:
            self.fail(Failure(
                "step limit",
                f"The threads took more than {self.max_steps} steps without finishing: "
                "a busy wait or a livelock (threads that keep retrying without making progress)."))
        current = st
        if self._timers and self._sleep_is_next() and self.strategy.jump(self):
            self.decisions.append((JUMP, None, (st.tid, st.steps), True))
            self._fire_timers(self._timers[0][0])
            current = None              # the thread ran slowly: the ones that woke meanwhile may go first
        runnable = self.runnable
        if len(runnable) < 2:
            return
        nxt = self.strategy.choose(self, runnable, current)
        self.decisions.append((nxt.tid, st.tid if nxt is not st else None, (st.tid, st.steps), current is not None))
        if nxt is not st:
            self._switch(st, nxt)

    def block(self, st: ThreadState, obj, deadline: float | None, submission_sleep: bool = False) -> bool:
        """Make st wait for obj (until a virtual deadline); return True if the wait timed out.

        `submission_sleep`: a time.sleep called by the submission, whose end the clock may run ahead to."""
        if self.aborting:
            raise Abort
        st.waiting_on = obj
        st.deadline = deadline
        st.timed_out = False
        self.runnable.remove(st)
        self._waiters.setdefault(obj, []).append(st)
        if deadline is not None:
            self._timer_order += 1
            st.timer = entry = (deadline, self._timer_order, st, submission_sleep)
            heapq.heappush(self._timers, entry)
        self.trace.append((st.tid, None, ("waits", obj, getattr(obj, "holder", None))))
        nxt = self._next_after_block(st)
        if nxt is not st:
            self._switch(st, nxt)
        timed_out, st.timed_out = st.timed_out, False
        return timed_out

    def wake(self, obj) -> bool:
        """Make every thread waiting on obj runnable again; they re-check what they wait for."""
        waiters = self._waiters.pop(obj, None)
        if not waiters:
            return False
        for t in waiters:
            self._resume(t)
        return True

    def sleep(self, st: ThreadState, seconds: float, in_submission: bool) -> None:
        self.point(st)
        if seconds > 0:
            self.block(st, SLEEP, self.clock + seconds, in_submission)

    def _resume(self, t: ThreadState) -> None:
        t.waiting_on = None
        t.deadline = None
        t.timer = None
        bisect.insort(self.runnable, t, key=_tid)

    def _next_after_block(self, st: ThreadState) -> ThreadState:
        runnable = self.runnable
        if not runnable:
            self._advance_clock()
        if len(runnable) == 1:
            return runnable[0]
        nxt = self.strategy.choose(self, runnable, None)
        self.decisions.append((nxt.tid, None, (st.tid, st.steps), False))
        return nxt

    def _top_timer(self):
        """The earliest live timer, dropping those whose wait ended before its deadline."""
        timers = self._timers
        while timers and timers[0][2].timer is not timers[0]:
            heapq.heappop(timers)
        return timers[0] if timers else None

    def _sleep_is_next(self) -> bool:
        top = self._top_timer()
        return top is not None and top[3]

    def _advance_clock(self) -> None:
        """Jump virtual time to the earliest deadline and time out those waits; else deadlock."""
        top = self._top_timer()
        if top is None:
            self.fail(self.describe_deadlock(self))
        self._fire_timers(top[0])

    def _fire_timers(self, deadline: float) -> None:
        """Move the clock to `deadline`; every wait that ends by then times out."""
        self.clock = max(self.clock, deadline)
        while (top := self._top_timer()) is not None and top[0] <= self.clock:
            heapq.heappop(self._timers)
            t = top[2]
            self.trace.append((t.tid, None, ("timed out", t.waiting_on, None)))
            self._waiters[t.waiting_on].remove(t)
            t.timed_out = True
            self._resume(t)

    def _switch(self, st: ThreadState, nxt: ThreadState) -> None:
        self._hand_over(nxt)
        self._park(st)

    def _hand_over(self, nxt: ThreadState) -> None:
        """Let nxt run. A thread's OS thread starts only now, the first time: it then runs at once, with no
        start handshake followed by a park and a wake-up (two fewer trips through the OS per thread)."""
        self.current = nxt
        nxt.baton.release()
        launch = nxt.launch
        if launch is not None:
            nxt.launch = None
            launch()

    def _park(self, st: ThreadState) -> None:
        st.baton.acquire()
        if self.aborting:
            raise Abort

    # -- ending --------------------------------------------------------------------------------
    def fail(self, failure: Failure) -> None:
        """Record the first failure, stop every thread, and unwind the calling one."""
        if self.failure is None:
            self.failure = failure
        self.abort()
        raise Abort

    def uncontrolled(self, code) -> None:
        """A thread the scheduler does not control ran the submission's code: fail the run."""
        place = places.where(code.co_filename, code.co_firstlineno)
        self.fail(Failure("uncontrolled thread",
                          f"A thread the scheduler does not control ran {place}. "
                          "Start threads with threading.Thread (not _thread or an executor of your own)."))

    def abort(self) -> None:
        """Release every parked thread; each raises Abort where it stands and unwinds."""
        self.aborting = True
        me = state.get_ident()
        for t in self.threads:
            if t.started and not t.finished and t.ident != me and t.launch is None:
                try:
                    t.baton.release()
                except RuntimeError:
                    pass


def controlled_state() -> tuple[Run, ThreadState] | tuple[None, None]:
    """(run, thread state) if the calling thread is controlled by the active run."""
    run = state.active
    if run is None:
        return None, None
    st = run.by_ident.get(state.get_ident())
    if st is None:
        return None, None
    return run, st
