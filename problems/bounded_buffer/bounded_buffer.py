"""A bounded FIFO buffer shared by producer and consumer threads. See README.md for the guarantees."""
import threading  # noqa: F401  (you will need it)
import time  # noqa: F401  (for timeouts, if you want it)


class Closed(Exception):
    """Raised by put() after close(), and by get() once a closed buffer is empty."""


class BoundedBuffer:
    """A first-in, first-out buffer holding at most capacity items."""

    def __init__(self, capacity: int):
        """Create an empty, open buffer that holds at most capacity items.

        Raises:
            ValueError: capacity is less than 1.
        """
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def put(self, item, timeout: float | None = None) -> None:
        """Add item at the back, waiting while the buffer is full.

        Raises:
            TimeoutError: the buffer stayed full for timeout seconds (None: wait as long as it takes).
            Closed: the buffer is closed, or was closed while this call waited.
        """
        raise NotImplementedError("put() is yours to write; see README.md")

    def get(self, timeout: float | None = None):
        """Remove and return the item at the front, waiting while the buffer is empty.

        After close(), returns the items still in the buffer, then raises Closed.

        Raises:
            TimeoutError: the buffer stayed empty for timeout seconds (None: wait as long as it takes).
            Closed: the buffer is closed and empty.
        """
        raise NotImplementedError("get() is yours to write; see README.md")

    def close(self) -> None:
        """Close the buffer: no more puts, and every put() or get() waiting now wakes up. Closing twice is harmless."""
        raise NotImplementedError("close() is yours to write; see README.md")

    def __len__(self) -> int:
        """The number of items in the buffer now."""
        raise NotImplementedError("__len__() is yours to write; see README.md")
