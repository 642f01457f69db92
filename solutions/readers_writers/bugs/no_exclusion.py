"""acquire_read() and acquire_write() count the holders under a lock, but never wait.

The internal lock makes the counting safe, and the releases can tell what is held, but nothing
keeps anyone out: a writer writes while readers read and while another writer writes. Holding a
lock for a moment is not the same as waiting until it is your turn.

Caught by: writer_is_alone, stress_real_threads
"""
import contextlib
import threading


class RWLock:
    """A lock that any number of readers can hold together, or one writer alone."""

    def __init__(self):
        """Create a lock that nobody holds."""
        # _lock guards _readers and _writers. Nobody waits, so nobody notifies.
        self._lock = threading.Lock()
        self._readers = 0
        self._writers = 0

    def acquire_read(self) -> None:
        """Wait until this thread may read, then take a read hold."""
        with self._lock:
            self._readers += 1  # BUG: does not wait for a writer to leave

    def release_read(self) -> None:
        """Give back a read hold.

        Raises:
            RuntimeError: no thread holds a read hold. Nothing changes.
        """
        with self._lock:
            if self._readers == 0:
                raise RuntimeError("release_read() but no thread holds a read hold")
            self._readers -= 1

    def acquire_write(self) -> None:
        """Wait until this thread may write (no reader, no other writer), then take the write hold."""
        with self._lock:
            self._writers += 1  # BUG: does not wait for the readers and the other writer to leave

    def release_write(self) -> None:
        """Give back the write hold.

        Raises:
            RuntimeError: no thread holds the write hold. Nothing changes.
        """
        with self._lock:
            if self._writers == 0:
                raise RuntimeError("release_write() but no thread holds the write hold")
            self._writers -= 1

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
