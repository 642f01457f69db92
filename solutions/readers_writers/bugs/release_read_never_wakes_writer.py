"""release_read() does not notify when the last reader leaves.

A writer waiting for the readers to finish sleeps on in Condition.wait(): nothing tells it that the
lock is now free (a lost wakeup), and it waits forever; the readers that arrived behind it wait
with it.

Caught by: last_reader_wakes_writer, waiting_writer_not_starved
"""
import contextlib
import threading


class RWLock:
    """A lock that any number of readers can hold together, or one writer alone.

    A waiting writer lets no reader that arrives after it overtake it; after a writer, the readers
    waiting at that moment go before the next writer.
    """

    def __init__(self):
        """Create a lock that nobody holds."""
        # _lock guards every field below. Both conditions share it.
        self._lock = threading.Lock()
        # Readers that must wait wait on _writer_done, for a release_write() after they arrived;
        # release_write() notifies all of them.
        self._writer_done = threading.Condition(self._lock)
        # Writers wait on _lock_free, until no reader holds, is let in, or writes; the last reader's
        # release_read() and a release_write() that lets no reader in notify one of them.
        self._lock_free = threading.Condition(self._lock)
        self._readers = 0             # threads holding a read hold
        self._writing = False         # a thread holds the write hold
        self._writers_waiting = 0     # writers in acquire_write(), not yet in
        self._readers_waiting = 0     # readers in acquire_read() waiting for the next release_write()
        self._readers_let_in = 0      # readers that a release_write() let in and that have not woken yet
        self._writes_done = 0         # release_write() calls so far: a waiting reader waits for it to change

    def acquire_read(self) -> None:
        """Wait until this thread may read, then take a read hold."""
        with self._lock:
            if self._writing or self._writers_waiting:
                # A writer is in or waiting: we come after it. Its release lets us (and every reader
                # waiting with us) in, before any other writer.
                arrived_after = self._writes_done
                self._readers_waiting += 1
                while self._writes_done == arrived_after:
                    self._writer_done.wait()
                self._readers_let_in -= 1
            self._readers += 1

    def release_read(self) -> None:
        """Give back a read hold.

        Raises:
            RuntimeError: no thread holds a read hold. Nothing changes.
        """
        with self._lock:
            if self._readers == 0:
                raise RuntimeError("release_read() but no thread holds a read hold")
            self._readers -= 1  # BUG: the last reader out does not wake a waiting writer

    def acquire_write(self) -> None:
        """Wait until this thread may write (no reader, no other writer), then take the write hold."""
        with self._lock:
            self._writers_waiting += 1  # from now on, arriving readers wait for us
            while self._writing or self._readers or self._readers_let_in:
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
            self._writes_done += 1
            # Every reader waiting now goes in before the next writer.
            self._readers_let_in += self._readers_waiting
            self._readers_waiting = 0
            if self._readers_let_in:
                self._writer_done.notify_all()
            else:
                self._lock_free.notify()

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
