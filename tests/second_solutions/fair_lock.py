"""A second correct fair lock, written differently from the reference: no tickets and no condition,
but a queue of waiting threads, each with its own Event, and release() hands the lock directly to the
thread at the front. It must get full marks, so the checks cannot demand one design."""
import collections
import threading


class FairLock:
    def __init__(self):
        # _guard guards _owner and _waiting; it is never held while a thread waits for its turn.
        self._guard = threading.Lock()
        self._owner = None  # ident of the thread holding the lock (or being handed it), None if free
        # (ident, event) of each waiting thread, oldest first. release() makes the first one the owner,
        # then sets its event: that thread wakes up already holding the lock.
        self._waiting = collections.deque()

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._guard:
            if self._owner is None:  # free means no waiters either: release() hands over directly
                self._owner = me
                return
            my_turn = threading.Event()
            self._waiting.append((me, my_turn))
        my_turn.wait()

    def release(self) -> None:
        with self._guard:
            if self._owner != threading.get_ident():
                raise RuntimeError("release() of a FairLock that this thread does not hold")
            if self._waiting:
                self._owner, their_turn = self._waiting.popleft()
                their_turn.set()
            else:
                self._owner = None

    def locked(self) -> bool:
        with self._guard:
            return self._owner is not None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()
