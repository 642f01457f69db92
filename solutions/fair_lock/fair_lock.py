"""Reference solution for fair_lock: a ticket lock. Each acquire() takes the next number and waits
until that number is served; release() serves the next number. Numbers are handed out under a lock,
so two callers never share one, and the order of the numbers is the order of the calls."""
import threading


class FairLock:
    """A mutual-exclusion lock granted in the order acquire() was called. Not reentrant."""

    def __init__(self):
        """Create an unlocked lock."""
        # _lock guards _next_ticket, _now_serving and _owner.
        self._lock = threading.Lock()
        # Waiters wait on _turn_changed until _now_serving reaches their ticket; release() notifies all
        # of them (their tickets differ, so only the one whose turn it is goes on).
        self._turn_changed = threading.Condition(self._lock)
        self._next_ticket = 0   # the number the next acquire() takes
        self._now_serving = 0   # the number whose turn it is
        self._owner = None      # thread ident of the holder, once it has taken its turn

    def acquire(self) -> None:
        """Wait until every thread that called acquire() earlier has had the lock and released it; then take it."""
        with self._lock:
            ticket = self._next_ticket
            self._next_ticket += 1  # taking a number and moving on are one step: nobody shares a ticket
            while self._now_serving != ticket:
                self._turn_changed.wait()
            self._owner = threading.get_ident()

    def release(self) -> None:
        """Give up the lock: the thread that has waited longest gets it next.

        Raises:
            RuntimeError: the calling thread does not hold the lock.
        """
        with self._lock:
            if self._owner != threading.get_ident():
                raise RuntimeError("release() of a FairLock that this thread does not hold")
            self._owner = None
            self._now_serving += 1
            self._turn_changed.notify_all()

    def locked(self) -> bool:
        """True while some thread holds the lock (or it is being handed to the next waiter)."""
        with self._lock:
            return self._now_serving != self._next_ticket  # a ticket is out that has not been released

    def __enter__(self):
        """`with lock:` acquires the lock."""
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        """Leaving the `with` block releases the lock, also when the block raised."""
        self.release()
