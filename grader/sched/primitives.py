"""The stdlib's threading, time and queue, made known to the scheduler.

`install()` patches the modules in place, once per process. Only two primitives are new: a lock
that blocks through the scheduler when a controlled thread uses it, and a Thread whose start and
join go through the scheduler. Everything else in `threading` (Condition, Semaphore, Event,
Barrier, the Python RLock), `queue` and `concurrent.futures` is the stdlib's own Python code built
on those two, so it inherits the control. Outside a controlled run everything behaves as usual:
objects made by pytest or the grader are the plain C locks, and a controlled lock used by an
ordinary thread is an ordinary lock.
"""
from __future__ import annotations

import _thread
import contextlib
import queue
import sys
import threading
import time

from grader.sched import runtime
from grader.sched.runtime import Abort, controlled_state

_real_allocate_lock = _thread.allocate_lock
_RealThread = threading.Thread
_real_rlock = threading.RLock
_real_sleep = time.sleep
_real_monotonic = time.monotonic
_real_time = time.time
_real_perf_counter = time.perf_counter

#: Files whose code is the submission: instruction-level scheduling points, and their locks are controlled.
tracked_files: set[str] = set()
tracked_globals: set[int] = set()   # id() of the namespaces of modules loaded by load_module (3.11's tracer)

_tls = threading.local()
_loading = 0          # > 0 while a submission module executes its top level
_installed = False

_CONDITION_WAIT = threading.Condition.wait.__code__
_EPOCH = 1_700_000_000.0    # what time.time() reads at virtual time 0
stress_origin: float | None = None   # set by explore.stress: real threads see time from their run's start


# -- deciding which objects the scheduler controls --------------------------------------------
def _want_controlled() -> bool:
    if getattr(_tls, "real", False):
        return False
    if _loading:
        return True
    run = runtime.active
    if run is not None and _thread.get_ident() in run.by_ident:
        return True
    frame = sys._getframe(2)
    for _ in range(6):
        if frame is None:
            return False
        if frame.f_code.co_filename in tracked_files:
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def real_primitives():
    """Within this block, new locks are plain ones (for the stdlib's own bookkeeping)."""
    before = getattr(_tls, "real", False)
    _tls.real = True
    try:
        yield
    finally:
        _tls.real = before


@contextlib.contextmanager
def loading_submission():
    """While a submission's top level runs, every lock it makes is a controlled one."""
    global _loading
    _loading += 1
    try:
        yield
    finally:
        _loading -= 1


# -- the lock ---------------------------------------------------------------------------------
class ControlledLock:
    """A lock whose blocking goes through the scheduler when a controlled thread uses it."""

    __slots__ = ("_real", "holder", "taken_at", "made_at", "waiter", "__weakref__")

    def __init__(self):
        self._real = _real_allocate_lock()
        self.holder = None        # ThreadState that took it under control
        self.taken_at = None      # (file, line) where the holder took it
        caller = sys._getframe(1)
        self.made_at = trace.student_site(caller)
        # Condition.wait's own lock, which its thread takes twice to wait until notify releases it
        self.waiter = caller.f_back is not None and caller.f_back.f_code is _CONDITION_WAIT

    def acquire(self, blocking=True, timeout=-1):
        run, st = controlled_state()
        if run is None:
            return self._real.acquire(blocking, timeout)
        run.point(st)
        if not blocking or timeout == 0:
            got = self._real.acquire(False)
        else:
            deadline = None if timeout is None or timeout < 0 else run.clock + timeout
            got = True
            while not self._real.acquire(False):
                if run.block(st, self, deadline):
                    got = False
                    break
        if got:
            self.holder = st
            self.taken_at = trace.student_site(sys._getframe(1))
        return got

    def release(self):
        self._real.release()
        self.holder = None
        run, st = controlled_state()
        if run is not None and run.wake(self):
            run.point(st)

    def locked(self):
        return self._real.locked()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()

    def _at_fork_reinit(self):
        self._real._at_fork_reinit()
        self.holder = None

    def __repr__(self):
        state = "locked" if self._real.locked() else "unlocked"
        return f"<lock {state}>"


def Lock():
    """threading.Lock / _allocate_lock: controlled where the scheduler needs it, plain elsewhere."""
    return ControlledLock() if _want_controlled() else _real_allocate_lock()


def RLock(*args, **kwargs):
    """threading.RLock: the stdlib's Python RLock (built on Lock) where controlled."""
    if _want_controlled():
        return threading._PyRLock(*args, **kwargs)
    return _real_rlock(*args, **kwargs)


# -- threads ----------------------------------------------------------------------------------
class Thread(_RealThread):
    """threading.Thread whose start, join and is_alive go through the scheduler in a run."""

    def __init__(self, group=None, target=None, name=None, args=(), kwargs=None, *, daemon=None):
        run, _ = controlled_state()
        if run is not None and name is None:
            # A name that depends on this run alone, so that replays print the same report.
            run.threads_made += 1
            name = f"Thread-{run.threads_made}"
            if getattr(target, "__name__", None):
                name += f" ({target.__name__})"
        with real_primitives():
            super().__init__(group, target, name, args, kwargs, daemon=daemon)
        self._sched_run = None
        self._sched_state = None

    def start(self):
        run, st = controlled_state()
        if run is None:
            return super().start()
        if getattr(self, "_sched_state", None) is not None:
            raise RuntimeError("threads can only be started once")
        run.point(st)
        child = run.add_thread(self.name, self, self.daemon)
        self._sched_run, self._sched_state = run, child
        self.run = _controlled_body(run, child, self.run)
        with real_primitives():
            super().start()
        child.started = True
        run.trace.append((st.tid, None, ("starts", child, None)))
        run.point(st)

    def join(self, timeout=None):
        run, st = controlled_state()
        child = getattr(self, "_sched_state", None)
        if run is None or child is None or self._sched_run is not run:
            return super().join(timeout)
        if child is st:
            raise RuntimeError("cannot join current thread")
        run.point(st)
        deadline = None if timeout is None else run.clock + max(timeout, 0)
        while not child.finished:
            if run.block(st, child, deadline):
                break

    def is_alive(self):
        run, _ = controlled_state()
        child = getattr(self, "_sched_state", None)
        if run is not None and child is not None and self._sched_run is run:
            return child.started and not child.finished
        return super().is_alive()


def _controlled_body(run, child, body):
    from grader.sched import instrument

    def controlled_run():
        try:
            run.enter_thread(child)
            instrument.thread_started()
            body()
        except Abort:
            pass
        except BaseException as exc:  # an exception in a thread fails the run, with its place
            if run.failure is None and not run.aborting:   # unwinding after the run ended is not a failure
                run.failure = trace.exception_failure(exc, child.name)
            run.abort()
        finally:
            instrument.thread_finished()
            run.exit_thread(child)
    return controlled_run


class Timer(Thread):
    """threading.Timer on the controlled Thread."""

    def __init__(self, interval, function, args=None, kwargs=None):
        super().__init__()
        self.interval = interval
        self.function = function
        self.args = args if args is not None else []
        self.kwargs = kwargs if kwargs is not None else {}
        self.finished = threading.Event()

    def cancel(self):
        self.finished.set()

    def run(self):
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


# -- virtual time ------------------------------------------------------------------------------
def sleep(seconds):
    run, st = controlled_state()
    if run is None:
        from grader.sched import aio
        if aio.active_loop is not None:
            aio.blocking_sleep(seconds)
        return _real_sleep(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    run.sleep(st, seconds)


def monotonic():
    run, st = controlled_state()
    if run is not None:
        return run.clock
    return _real_monotonic() if stress_origin is None else _real_monotonic() - stress_origin


def perf_counter():
    run, st = controlled_state()
    if run is not None:
        return run.clock
    return _real_perf_counter() if stress_origin is None else _real_monotonic() - stress_origin


def time_():
    run, st = controlled_state()
    if run is not None:
        return _EPOCH + run.clock
    return _real_time() if stress_origin is None else _EPOCH + _real_monotonic() - stress_origin


def monotonic_ns():
    return int(monotonic() * 1e9)


def time_ns():
    return int(time_() * 1e9)


_real_start_new_thread = _thread.start_new_thread


def start_new_thread(function, args, kwargs={}):
    """_thread.start_new_thread: a thread the scheduler cannot control fails the run."""
    run, st = controlled_state()
    if run is not None:
        site = trace.student_site(sys._getframe(1))
        place = f" at {trace.where(*site)}" if site else ""
        run.fail(runtime.Failure(
            "uncontrolled thread",
            f"A thread was started with _thread.start_new_thread{place}; the scheduler cannot "
            "control it. Use threading.Thread."))
    return _real_start_new_thread(function, args, kwargs)


# -- installing ----------------------------------------------------------------------------------
def install() -> None:
    """Patch threading, time, queue and concurrent.futures in this process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    threading.Lock = Lock
    threading._allocate_lock = Lock
    threading.RLock = RLock
    threading.Thread = Thread
    threading.Timer = Timer
    threading._time = monotonic
    time.sleep = sleep
    time.monotonic = monotonic
    time.perf_counter = perf_counter
    time.time = time_
    time.monotonic_ns = monotonic_ns
    time.time_ns = time_ns
    _thread.start_new_thread = _thread.start_new = start_new_thread
    queue.time = monotonic
    queue.SimpleQueue = queue._PySimpleQueue
    import concurrent.futures.thread as cft
    cft._global_shutdown_lock = ControlledLock()


# -- atomics for lock-free exercises --------------------------------------------------------------
class AtomicReference:
    """A reference with atomic get/set/compare_and_set; each call is a scheduling point.

    compare_and_set compares by identity (`is`), as hardware CAS compares addresses.
    """

    def __init__(self, value=None):
        self._value = value
        self._guard = _real_allocate_lock()    # atomicity on real threads; under control one thread runs

    def _point(self):
        run, st = controlled_state()
        if run is not None:
            run.point(st)

    def get(self):
        self._point()
        return self._value

    def set(self, value) -> None:
        self._point()
        with self._guard:
            self._value = value

    def compare_and_set(self, expected, new) -> bool:
        self._point()
        with self._guard:
            if self._value is expected:
                self._value = new
                return True
            return False

    def __repr__(self):
        return f"AtomicReference({self._value!r})"


from grader.sched import trace  # noqa: E402  (trace imports this module's classes: bound once they exist)
