"""A ticket lock whose acquire() takes its ticket without holding the internal lock.

`ticket = self._next_ticket` then `self._next_ticket += 1` is a read and a write: two threads can
both read the same number, both get the same ticket, and both hold the lock at once.

Caught by: one_holder_at_a_time
"""
import threading


class FairLock:
    def __init__(self):
        # _lock guards _now_serving and _owner ... and should guard _next_ticket too.
        self._lock = threading.Lock()
        # Waiters wait on _turn_changed until _now_serving reaches their ticket; release() notifies all.
        self._turn_changed = threading.Condition(self._lock)
        self._next_ticket = 0
        self._now_serving = 0
        self._owner = None

    def acquire(self) -> None:
        ticket = self._next_ticket  # BUG: read and increment outside the lock: two threads can share a ticket
        self._next_ticket += 1
        with self._lock:
            while self._now_serving != ticket:
                self._turn_changed.wait()
            self._owner = threading.get_ident()

    def release(self) -> None:
        with self._lock:
            if self._owner != threading.get_ident():
                raise RuntimeError("release() of a FairLock that this thread does not hold")
            self._owner = None
            self._now_serving += 1
            self._turn_changed.notify_all()

    def locked(self) -> bool:
        with self._lock:
            return self._now_serving != self._next_ticket

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()
