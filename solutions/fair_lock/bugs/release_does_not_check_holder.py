"""release() does not check that the calling thread holds the lock.

Any thread can release a lock that another thread holds, letting a waiter in while the holder is
still working; and a release() of a free lock serves a ticket nobody has taken, so the next
acquire() waits for ever for its turn.

Caught by: release_by_non_holder_raises
"""
import threading


class FairLock:
    def __init__(self):
        # _lock guards _next_ticket and _now_serving.
        self._lock = threading.Lock()
        # Waiters wait on _turn_changed until _now_serving reaches their ticket; release() notifies all.
        self._turn_changed = threading.Condition(self._lock)
        self._next_ticket = 0
        self._now_serving = 0

    def acquire(self) -> None:
        with self._lock:
            ticket = self._next_ticket
            self._next_ticket += 1
            while self._now_serving != ticket:
                self._turn_changed.wait()

    def release(self) -> None:
        with self._lock:  # BUG: no check that this thread is the holder
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
