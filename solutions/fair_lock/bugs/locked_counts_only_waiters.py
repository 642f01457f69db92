"""locked() reports whether threads are waiting, not whether the lock is held.

This lock queues its waiters and hands the lock to the one at the front; the holder is no longer in
the queue. So locked() is False while a thread holds the lock and nobody else waits for it.

Caught by: locked_and_with, stress_real_threads
"""
import collections
import threading


class FairLock:
    def __init__(self):
        # _guard guards _owner and _queue; it is never held while a thread waits for its turn.
        self._guard = threading.Lock()
        self._owner = None
        # (ident, event) of each waiting thread, oldest first. release() hands the lock to the first
        # one and sets its event.
        self._queue = collections.deque()

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._guard:
            if self._owner is None:
                self._owner = me
                return
            turn = threading.Event()
            self._queue.append((me, turn))
        turn.wait()

    def release(self) -> None:
        with self._guard:
            if self._owner != threading.get_ident():
                raise RuntimeError("release() of a FairLock that this thread does not hold")
            if self._queue:
                self._owner, turn = self._queue.popleft()
                turn.set()
            else:
                self._owner = None

    def locked(self) -> bool:
        with self._guard:
            return len(self._queue) > 0  # BUG: counts the waiters; the holder is not one of them

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()
