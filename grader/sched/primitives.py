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
import concurrent.futures.thread as cft
import contextlib
import queue
import sys
import threading
import time

from grader.sched import explain, instrument, places, state
from grader.sched.runtime import Abort, Failure, Held, controlled_state
from grader.sched.state import tracked_files

_real_allocate_lock = state.allocate_lock
_RealThread = state.RealThread

_tls = threading.local()
_loading = 0          # > 0 while a submission module executes its top level
_installed = False

_CONDITION_WAIT = threading.Condition.wait.__code__
_limbo, _active_limbo_lock = threading._limbo, threading._active_limbo_lock   # started, not yet running


# -- deciding which objects the scheduler controls --------------------------------------------
def _want_controlled() -> bool:
    if getattr(_tls, "real", False):
        return False
    if _loading:
        return True
    run = state.active
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
class ControlledLock(Held):
    """A lock whose blocking goes through the scheduler when a controlled thread uses it.

    To ordinary code it looks like the real one: its type is `_thread.lock`, and so is its repr.
    """

    __slots__ = ("_real", "__weakref__")

    def __init__(self):
        self._real = _real_allocate_lock()
        self.holder = None        # ThreadState that took it under control
        self.taken_at = None      # (file, line) where the holder took it
        caller = sys._getframe(1)
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
            self.taken_at = places.student_site(sys._getframe(1))
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
        status = "locked" if self._real.locked() else "unlocked"
        return f"<{status} _thread.lock object at {id(self):#x}>"


ControlledLock.__name__ = ControlledLock.__qualname__ = "lock"
ControlledLock.__module__ = "_thread"


class ControlledRLock(state.PyRLock):
    """threading.RLock under control: the stdlib's Python RLock (built on Lock), named and shown as the C one."""

    def __repr__(self):
        owner = self._owner
        status = "locked" if self._block.locked() else "unlocked"
        return f"<{status} _thread.RLock object owner={owner or 0} count={self._count} at {id(self):#x}>"


ControlledRLock.__name__ = ControlledRLock.__qualname__ = "RLock"
ControlledRLock.__module__ = "_thread"


def Lock():
    """threading.Lock / _allocate_lock: controlled where the scheduler needs it, plain elsewhere."""
    return ControlledLock() if _want_controlled() else _real_allocate_lock()


def RLock(*args, **kwargs):
    """threading.RLock: the stdlib's Python RLock (built on Lock) where controlled."""
    if _want_controlled():
        return ControlledRLock(*args, **kwargs)
    return state.RealRLock(*args, **kwargs)


# -- threads ----------------------------------------------------------------------------------
class _ThreadType(type):
    """Makes the controlled Thread stand for threading.Thread in isinstance and issubclass: the main
    thread and threads made before install() are instances of it too."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, _RealThread) if cls is Thread else type.__instancecheck__(cls, obj)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, _RealThread) if cls is Thread else type.__subclasscheck__(cls, sub)


class Thread(_RealThread, metaclass=_ThreadType):
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
        child = run.add_thread(self.name, self, self.daemon, st)
        self._sched_run, self._sched_state = run, child
        self.run = _controlled_body(run, child, self.run)
        child.launch = self._launch
        with _active_limbo_lock:    # listed by threading.enumerate() from now on, as a started thread is
            _limbo[self] = self
        run.mark_started(child)
        run.trace.append((st.tid, None, ("starts", child, None)))
        run.point(st)

    def _launch(self):
        """Start the OS thread, when the scheduler first lets this thread run."""
        with real_primitives():
            _RealThread.start(self)

    def unlaunch(self):
        """The run ended before this thread ever ran: it no longer counts as started."""
        with _active_limbo_lock:
            _limbo.pop(self, None)

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


Thread.__module__ = "threading"


def _controlled_body(run, child, body):
    def controlled_run():
        try:
            run.enter_thread(child)
            instrument.thread_started()
            body()
        except Abort:
            pass
        except BaseException as exc:  # an exception in a thread fails the run, with its place
            if run.failure is None and not run.aborting:   # unwinding after the run ended is not a failure
                run.failure = explain.exception_failure(exc, child.name)
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


Timer.__module__ = "threading"


# -- virtual time ------------------------------------------------------------------------------
def sleep(seconds):
    run, st = controlled_state()
    if run is None:
        loop = state.active_loop
        if loop is not None:
            loop.blocking_sleep(seconds)
        return state.real_sleep(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    run.sleep(st, seconds, places.in_submission(sys._getframe(1)))


def monotonic():
    run, st = controlled_state()
    if run is not None:
        return run.monotonic_origin + run.clock
    return state.real_monotonic()


def perf_counter():
    run, st = controlled_state()
    if run is not None:
        return run.monotonic_origin + run.clock
    return state.real_perf_counter()


def time_():
    run, st = controlled_state()
    if run is not None:
        return run.epoch_origin + run.clock
    return state.real_time()


def monotonic_ns():
    return int(monotonic() * 1e9)


def time_ns():
    return int(time_() * 1e9)


def start_new_thread(function, args, kwargs={}):
    """_thread.start_new_thread: a thread the scheduler cannot control fails the run."""
    run, st = controlled_state()
    if run is not None:
        site = places.student_site(sys._getframe(1))
        place = f" at {places.where(*site)}" if site else ""
        run.fail(Failure(
            "uncontrolled thread",
            f"A thread was started with _thread.start_new_thread{place}; the scheduler cannot "
            "control it. Use threading.Thread."))
    return state.start_new_thread(function, args, kwargs)


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

