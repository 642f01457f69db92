"""Waiters queue up in order, but acquire() takes a free lock without looking at the queue.

release() frees the lock and wakes the waiters with notify_all(); before the first of them gets to
run, a thread arriving just then (often the one that released it) finds the lock free and takes it.
The waiter at the front of the queue is overtaken by a later arrival.

Caught by: no_barging
"""
import collections
import threading


class FairLock:
    def __init__(self):
        # _changed's lock guards _held, _owner and _queue. Waiters wait on _changed for the lock to be
        # free with them at the front of _queue; release() notifies all of them.
        self._changed = threading.Condition()
        self._held = False
        self._owner = None
        self._queue = collections.deque()  # idents of the waiting threads, oldest first

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._changed:
            if not self._held:  # BUG: free is not enough; waiters in _queue came first
                self._held, self._owner = True, me
                return
            self._queue.append(me)
            while self._held or self._queue[0] != me:
                self._changed.wait()
            self._queue.popleft()
            self._held, self._owner = True, me

    def release(self) -> None:
        with self._changed:
            if not self._held or self._owner != threading.get_ident():
                raise RuntimeError("release() of a FairLock that this thread does not hold")
            self._held, self._owner = False, None
            self._changed.notify_all()

    def locked(self) -> bool:
        with self._changed:
            return self._held

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()
