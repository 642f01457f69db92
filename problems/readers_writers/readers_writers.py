"""A readers-writer lock: readers share, a writer is alone, nobody starves. See README.md for the guarantees."""
import contextlib  # noqa: F401  (you may want it for the context managers)
import threading  # noqa: F401  (you will need it)


class RWLock:
    """A lock that any number of readers can hold together, or one writer alone.

    A waiting writer lets no reader that arrives after it overtake it; after a writer, the readers
    waiting at that moment go before the next writer.
    """

    def __init__(self):
        """Create a lock that nobody holds."""
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def acquire_read(self) -> None:
        """Wait until this thread may read, then take a read hold."""
        raise NotImplementedError("acquire_read() is yours to write; see README.md")

    def release_read(self) -> None:
        """Give back a read hold.

        Raises:
            RuntimeError: no thread holds a read hold. Nothing changes.
        """
        raise NotImplementedError("release_read() is yours to write; see README.md")

    def acquire_write(self) -> None:
        """Wait until this thread may write (no reader, no other writer), then take the write hold."""
        raise NotImplementedError("acquire_write() is yours to write; see README.md")

    def release_write(self) -> None:
        """Give back the write hold.

        Raises:
            RuntimeError: no thread holds the write hold. Nothing changes.
        """
        raise NotImplementedError("release_write() is yours to write; see README.md")

    def read_locked(self):
        """A context manager: `with lock.read_locked():` holds a read hold for the block, released even if it raises."""
        raise NotImplementedError("read_locked() is yours to write; see README.md")

    def write_locked(self):
        """A context manager: `with lock.write_locked():` holds the write hold for the block, released even if it raises."""
        raise NotImplementedError("write_locked() is yours to write; see README.md")
