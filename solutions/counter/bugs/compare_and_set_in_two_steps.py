"""compare_and_set() compares under the lock, then sets under a second acquisition.

Between the two, another thread can change the value: two compare_and_set(0, ...) calls can both
see 0 and both return True, and an increment in between is overwritten.

Caught by: compare_and_set_is_atomic, compare_and_set_atomic_with_increment
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
            return self._value

    @property
    def value(self) -> int:
        with self._lock:
            return self._value

    def compare_and_set(self, expected: int, new: int) -> bool:
        with self._lock:
            matches = self._value == expected
        if not matches:
            return False
        # BUG: the lock is free here; the value may no longer be `expected`
        with self._lock:
            self._value = new
        return True
