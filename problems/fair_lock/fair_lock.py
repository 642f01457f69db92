"""A first-come, first-served lock. See README.md for what each method guarantees."""
import threading  # noqa: F401  (you will need it)


class FairLock:
    """A mutual-exclusion lock granted in the order acquire() was called. Not reentrant."""

    def __init__(self):
        """Create an unlocked lock."""
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def acquire(self) -> None:
        """Wait until every thread that called acquire() earlier has had the lock and released it; then take it."""
        raise NotImplementedError("acquire() is yours to write; see README.md")

    def release(self) -> None:
        """Give up the lock: the thread that has waited longest gets it next.

        Raises:
            RuntimeError: the calling thread does not hold the lock.
        """
        raise NotImplementedError("release() is yours to write; see README.md")

    def locked(self) -> bool:
        """True while some thread holds the lock (or it is being handed to the next waiter)."""
        raise NotImplementedError("locked() is yours to write; see README.md")

    def __enter__(self):
        """`with lock:` acquires the lock."""
        raise NotImplementedError("__enter__() is yours to write; see README.md")

    def __exit__(self, *exc_info):
        """Leaving the `with` block releases the lock, also when the block raised."""
        raise NotImplementedError("__exit__() is yours to write; see README.md")
