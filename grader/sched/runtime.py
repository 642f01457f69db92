"""One controlled run: threads take turns holding a baton; a strategy picks who runs at each point.

Only the thread holding the baton runs. At a scheduling point it asks the strategy for the next
thread and, if that is another one, hands the baton over and parks on its own. A thread that must
block (a held lock, a wait, a join, a sleep) is marked waiting and is not runnable until the object
it waits on is released or its virtual deadline comes. When nothing can run, the virtual clock jumps
to the earliest deadline; with no deadline left, the run has deadlocked.
"""
from __future__ import annotations

import _thread

_get_ident = _thread.get_ident

#: The run in progress, or None. One run at a time per process.
active: Run | None = None


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

    __slots__ = ("tid", "name", "thread", "ident", "baton", "waiting_on", "deadline",
                 "timed_out", "finished", "daemon", "started")

    def __init__(self, tid: int, name: str, thread, daemon: bool):
        self.tid = tid
        self.name = name
        self.thread = thread
        self.ident = None
        self.baton = _thread.allocate_lock()
        self.baton.acquire()          # held until the scheduler hands this thread the baton
        self.waiting_on = None        # the object this thread waits for, or None if runnable
        self.deadline = None          # virtual time at which the wait times out
        self.timed_out = False
        self.finished = False
        self.daemon = daemon
        self.started = False

    @property
    def runnable(self) -> bool:
        return self.started and not self.finished and self.waiting_on is None

    def __repr__(self):
        return f"<{self.name}>"


class Sleep:
    """What a sleeping thread waits on: nothing but its deadline."""

    def __repr__(self):
        return "sleep"


SLEEP = Sleep()


class Run:
    """The state of one controlled execution of a scenario under one strategy."""

    def __init__(self, strategy, max_steps: int):
        self.strategy = strategy
        self.max_steps = max_steps
        self.threads: list[ThreadState] = []
        self.by_ident: dict[int, ThreadState] = {}
        self.current: ThreadState | None = None
        self.clock = 0.0
        self.steps = 0
        self.trace: list[tuple] = []        # (tid, code, offset) or (tid, None, text)
        self.decisions: list[tuple[int, int | None]] = []  # (chosen tid, preempted tid or None)
        self.failure: Failure | None = None
        self.aborting = False
        self.threads_made = 0               # Thread objects made in this run, for their default names
        self.root_frame = None              # the frame that runs the scenario: stack walks stop there

    # -- threads -------------------------------------------------------------------------------
    def add_thread(self, name: str, thread, daemon: bool) -> ThreadState:
        st = ThreadState(len(self.threads), name, thread, daemon)
        self.threads.append(st)
        return st

    def adopt_current(self, name: str) -> ThreadState:
        """Make the calling OS thread the first controlled thread, already running."""
        st = self.add_thread(name, None, False)
        st.ident = _get_ident()
        st.started = True
        self.by_ident[st.ident] = st
        self.current = st
        return st

    def controlled(self) -> ThreadState | None:
        """The calling thread's state if it is controlled by this run."""
        return self.by_ident.get(_get_ident())

    def enter_thread(self, st: ThreadState) -> None:
        """Called first thing in a new controlled OS thread: register it and wait for the baton."""
        st.ident = _get_ident()
        self.by_ident[st.ident] = st
        self._park(st)

    def exit_thread(self, st: ThreadState) -> None:
        """Called last in a controlled thread: wake its joiners and pass the baton on for good."""
        st.finished = True
        self.wake(st)
        if self.aborting:
            return
        try:
            nxt = self._next_after_block(st)
        except Abort:
            return
        self.current = nxt
        nxt.baton.release()

    # -- scheduling ----------------------------------------------------------------------------
    def point(self, st: ThreadState) -> None:
        """A scheduling point in the running thread st: maybe let another thread run."""
        if self.aborting:
            raise Abort
        self.steps += 1
        if self.steps > self.max_steps:
            self.fail(Failure(
                "step limit",
                f"The threads took more than {self.max_steps} steps without finishing: "
                "a busy wait or a livelock (threads that keep retrying without making progress)."))
        runnable = [t for t in self.threads if t.runnable]
        if len(runnable) < 2:
            return
        nxt = self.strategy.choose(runnable, st, len(self.decisions))
        self.decisions.append((nxt.tid, st.tid if nxt is not st else None))
        if nxt is not st:
            self._switch(st, nxt)

    def block(self, st: ThreadState, obj, deadline: float | None) -> bool:
        """Make st wait for obj (until a virtual deadline); return True if the wait timed out."""
        if self.aborting:
            raise Abort
        st.waiting_on = obj
        st.deadline = deadline
        st.timed_out = False
        self.trace.append((st.tid, None, ("waits", obj, getattr(obj, "holder", None))))
        nxt = self._next_after_block(st)
        if nxt is not st:
            self._switch(st, nxt)
        timed_out, st.timed_out = st.timed_out, False
        return timed_out

    def wake(self, obj) -> bool:
        """Make every thread waiting on obj runnable again; they re-check what they wait for."""
        woke = False
        for t in self.threads:
            if t.waiting_on is obj:
                t.waiting_on = None
                t.deadline = None
                woke = True
        return woke

    def sleep(self, st: ThreadState, seconds: float) -> None:
        self.point(st)
        if seconds > 0:
            self.block(st, SLEEP, self.clock + seconds)

    def _next_after_block(self, st: ThreadState) -> ThreadState:
        runnable = [t for t in self.threads if t.runnable]
        if not runnable:
            runnable = self._advance_clock()
        if len(runnable) == 1:
            return runnable[0]
        nxt = self.strategy.choose(runnable, None, len(self.decisions))
        self.decisions.append((nxt.tid, None))
        return nxt

    def _advance_clock(self) -> list[ThreadState]:
        """Jump virtual time to the earliest deadline and time out those waits; else deadlock."""
        timed = [t for t in self.threads if not t.finished and t.waiting_on is not None
                 and t.deadline is not None]
        if not timed:
            self.fail(deadlock_failure(self))
        self.clock = max(self.clock, min(t.deadline for t in timed))
        for t in timed:
            if t.deadline <= self.clock:
                self.trace.append((t.tid, None, ("timed out", t.waiting_on, None)))
                t.waiting_on = None
                t.deadline = None
                t.timed_out = True
        return [t for t in self.threads if t.runnable]

    def _switch(self, st: ThreadState, nxt: ThreadState) -> None:
        self.current = nxt
        nxt.baton.release()
        self._park(st)

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
        from grader.sched import trace
        place = trace.where(code.co_filename, code.co_firstlineno)
        self.fail(Failure("uncontrolled thread",
                          f"A thread the scheduler does not control ran {place}. "
                          "Start threads with threading.Thread (not _thread or an executor of your own)."))

    def abort(self) -> None:
        """Release every parked thread; each raises Abort where it stands and unwinds."""
        self.aborting = True
        for t in self.threads:
            if t.started and not t.finished and t.ident != _get_ident():
                try:
                    t.baton.release()
                except RuntimeError:
                    pass


def deadlock_failure(run: Run) -> Failure:
    """Describe why no thread can run: a wait-for cycle among lock holders, or waits nobody ends."""
    from grader.sched import trace  # late import: trace needs frames, only when reporting

    waiting = [t for t in run.threads if t.started and not t.finished]
    cycle = trace.lock_cycle(waiting)
    if cycle:
        return Failure("deadlock", "Deadlock: each of these threads holds a lock the next one waits for.",
                       tuple(trace.describe_cycle(cycle)))
    again = trace.reacquired(waiting)
    if again:
        return Failure("deadlock", "Deadlock: a thread waits for a lock it already holds. A Lock is not re-entrant: "
                       "release it first, or use an RLock.", tuple(again))
    if any(getattr(t.waiting_on, "holder", None) is t for t in waiting):   # in a Condition/Event/Semaphore wait
        return Failure("lost wakeup", "Lost wakeup: a thread waits to be notified, but no running thread "
                       "will ever notify it.", tuple(trace.describe_waits(waiting)))
    return Failure("blocked forever", "Blocked forever: every thread waits and none can wake the others.",
                   tuple(trace.describe_waits(waiting)))


def controlled_state() -> tuple[Run, ThreadState] | tuple[None, None]:
    """(run, thread state) if the calling thread is controlled by the active run."""
    run = active
    if run is None:
        return None, None
    st = run.by_ident.get(_get_ident())
    if st is None:
        return None, None
    return run, st

