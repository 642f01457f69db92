"""Reference solution for counter: one lock around every read-modify-write of the value."""
import threading


class Counter:
    """An integer counter that any number of threads can use at once without losing an update."""

    def __init__(self, start: int = 0):
        """Create a counter whose value is start."""
        # _lock guards _value: every read, change and compare of _value happens while holding it.
        # Nobody waits for the value to change, so there is no condition and nobody notifies.
        self._lock = threading.Lock()
        self._value = start

    def increment(self, by: int = 1) -> int:
        """Add by to the value, and return the value this call produced."""
        with self._lock:
            self._value += by
            return self._value  # read while still holding the lock: this call's own result

    @property
    def value(self) -> int:
        """The current value (read-only)."""
        with self._lock:
            return self._value

    def compare_and_set(self, expected: int, new: int) -> bool:
        """If the value equals expected, set it to new and return True; otherwise change nothing and return False."""
        with self._lock:  # compare and set in one critical section
            if self._value != expected:
                return False
            self._value = new
            return True
