"""increment() updates under the lock but reads the value to return after releasing it.

The value is never wrong, but what a caller gets back may include another thread's increment:
two callers can both get 2.

Caught by: increment_returns_unique_values
"""
import threading


class Counter:
    def __init__(self, start: int = 0):
        # _lock guards _value.
        self._lock = threading.Lock()
        self._value = start

    def increment(self, by: int = 1) -> int:
        with self._lock:
            self._value += by
        return self._value  # BUG: read after the lock is released

    @property
    def value(self) -> int:
        with self._lock:
            return self._value

    def compare_and_set(self, expected: int, new: int) -> bool:
        with self._lock:
            if self._value != expected:
                return False
            self._value = new
            return True
