"""A threading.Lock with an owner check: one holder at a time, but no order at all.

When the lock is released, every waiter may take it next, whichever the scheduler runs first; and
the thread that released it can take it straight back before a waiter wakes up (barging). A waiter
can be overtaken again and again.

Caught by: waiters_served_in_arrival_order, no_barging
"""
import threading


class FairLock:
    def __init__(self):
        # _lock is the lock itself; _owner is the ident of the thread holding it.
        self._lock = threading.Lock()  # BUG: threading.Lock promises no order among waiters
        self._owner = None

    def acquire(self) -> None:
        self._lock.acquire()
        self._owner = threading.get_ident()

    def release(self) -> None:
        if self._owner != threading.get_ident():
            raise RuntimeError("release() of a FairLock that this thread does not hold")
        self._owner = None
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()
