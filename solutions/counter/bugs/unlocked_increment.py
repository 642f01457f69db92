"""increment() updates the value without taking the lock.

`self._value += by` is three steps (read, add, write). Two threads can both read 0 and both
write 1: one update is lost, and both callers get back the same value.

Caught by: no_lost_update, increment_returns_unique_values
"""
import threading


class Counter:
    def __init__(self, start: int = 0):
        # _lock guards _value ... except in increment(), which is the mistake.
        self._lock = threading.Lock()
        self._value = start

    def increment(self, by: int = 1) -> int:
        self._value += by  # BUG: read, add and write with no lock held
        return self._value

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
