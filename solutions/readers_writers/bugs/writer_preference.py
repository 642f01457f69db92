"""Waiting writers always go first: readers wait while any writer writes or waits.

A writer never starves, but readers do: when a writer releases, the readers waiting since before
the next writer arrived find that writer waiting and wait again, and with writers arriving often
enough, no reader ever gets in (the "second readers-writers problem"). After a writer, the readers
waiting at that moment must go before the next writer.

Caught by: readers_not_starved
"""
import contextlib
import threading


class RWLock:
    """A lock that any number of readers can hold together, or one writer alone."""

    def __init__(self):
        """Create a lock that nobody holds."""
        # _lock guards every field below. Both conditions share it.
        self._lock = threading.Lock()
        # Readers wait on _no_writer until no writer writes or waits; release_write() notifies all.
        self._no_writer = threading.Condition(self._lock)
        # Writers wait on _lock_free until no reader holds and no writer writes; the last reader's
        # release_read() and release_write() notify one.
        self._lock_free = threading.Condition(self._lock)
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    def acquire_read(self) -> None:
        """Wait until this thread may read, then take a read hold."""
        with self._lock:
            while self._writing or self._writers_waiting:  # BUG: every waiting writer goes first, always
                self._no_writer.wait()
            self._readers += 1

    def release_read(self) -> None:
        """Give back a read hold.

        Raises:
            RuntimeError: no thread holds a read hold. Nothing changes.
        """
        with self._lock:
            if self._readers == 0:
                raise RuntimeError("release_read() but no thread holds a read hold")
            self._readers -= 1
            if self._readers == 0:
                self._lock_free.notify()

    def acquire_write(self) -> None:
        """Wait until this thread may write (no reader, no other writer), then take the write hold."""
        with self._lock:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._lock_free.wait()
            self._writers_waiting -= 1
            self._writing = True

    def release_write(self) -> None:
        """Give back the write hold.

        Raises:
            RuntimeError: no thread holds the write hold. Nothing changes.
        """
        with self._lock:
            if not self._writing:
                raise RuntimeError("release_write() but no thread holds the write hold")
            self._writing = False
            self._lock_free.notify()
            self._no_writer.notify_all()

    @contextlib.contextmanager
    def read_locked(self):
        """A context manager: `with lock.read_locked():` holds a read hold for the block, released even if it raises."""
        self.acquire_read()
        try:
            yield self
        finally:
            self.release_read()

    @contextlib.contextmanager
    def write_locked(self):
        """A context manager: `with lock.write_locked():` holds the write hold for the block, released even if it raises."""
        self.acquire_write()
        try:
            yield self
        finally:
            self.release_write()
