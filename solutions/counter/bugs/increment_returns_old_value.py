"""increment() returns the value before the addition instead of after it.

Thread safe, but it answers the wrong question (get-and-add rather than add-and-get):
Counter(10).increment() returns 10, not 11.

Caught by: increment_returns_new_value, increment_returns_unique_values, compare_and_set_atomic_with_increment, stress_real_threads
"""
import threading


class Counter:
    def __init__(self, start: int = 0):
        # _lock guards _value.
        self._lock = threading.Lock()
        self._value = start

    def increment(self, by: int = 1) -> int:
        with self._lock:
            old = self._value
            self._value = old + by
            return old  # BUG: the value before this call's addition

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
