"""put() and get() check their condition with `if` instead of `while` before waiting.

A woken thread does not get the lock back at once. Another producer can fill the freed slot (the
woken put() then appends anyway: over capacity), or another consumer can take the new item (the
woken get() then pops from an empty deque: IndexError).

Caught by: no_item_lost_or_duplicated, capacity_never_exceeded
"""
import collections
import threading


class Closed(Exception):
    """Raised by put() after close(), and by get() once a closed buffer is empty."""


class BoundedBuffer:
    """A first-in, first-out buffer holding at most capacity items."""

    def __init__(self, capacity: int):
        """Create an empty, open buffer that holds at most capacity items.

        Raises:
            ValueError: capacity is less than 1.
        """
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self._capacity = capacity
        self._items = collections.deque()
        self._closed = False
        # _lock guards _items and _closed. Both conditions share it, so a waiter that wakes holds the
        # lock and sees a consistent buffer.
        self._lock = threading.Lock()
        # Consumers wait on _not_empty; put() notifies one of them per item, close() notifies all.
        self._not_empty = threading.Condition(self._lock)
        # Producers wait on _not_full; get() notifies one of them per item taken, close() notifies all.
        self._not_full = threading.Condition(self._lock)

    def put(self, item, timeout: float | None = None) -> None:
        """Add item at the back, waiting while the buffer is full.

        Raises:
            TimeoutError: the buffer stayed full for timeout seconds (None: wait as long as it takes).
            Closed: the buffer is closed, or was closed while this call waited.
        """
        with self._not_full:
            if len(self._items) >= self._capacity and not self._closed:  # BUG: `if`, not `while`
                if not self._not_full.wait(timeout):
                    raise TimeoutError(f"put() waited {timeout} s and the buffer stayed full")
            if self._closed:
                raise Closed("put() on a closed buffer")
            self._items.append(item)
            self._not_empty.notify()

    def get(self, timeout: float | None = None):
        """Remove and return the item at the front, waiting while the buffer is empty.

        After close(), returns the items still in the buffer, then raises Closed.

        Raises:
            TimeoutError: the buffer stayed empty for timeout seconds (None: wait as long as it takes).
            Closed: the buffer is closed and empty.
        """
        with self._not_empty:
            if not self._items and not self._closed:  # BUG: `if`, not `while`
                if not self._not_empty.wait(timeout):
                    raise TimeoutError(f"get() waited {timeout} s and the buffer stayed empty")
            if self._closed and not self._items:
                raise Closed("get() on a closed, empty buffer")
            item = self._items.popleft()
            self._not_full.notify()
            return item

    def close(self) -> None:
        """Close the buffer: no more puts, and every put() or get() waiting now wakes up. Closing twice is harmless."""
        with self._lock:
            self._closed = True
            # Every waiter must see _closed: wake all of them, on both conditions.
            self._not_empty.notify_all()
            self._not_full.notify_all()

    def __len__(self) -> int:
        """The number of items in the buffer now."""
        with self._lock:
            return len(self._items)
