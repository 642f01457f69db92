"""compare_and_set() compares with `is` instead of `==`.

`is` asks whether two ints are the same object. CPython shares small ints (-5..256), so small
tests pass; a counter at 1500 computed as 1000 + 500 is not the same object as the 1500 the caller
passes, and compare_and_set(1500, 7) wrongly returns False.

Caught by: compare_and_set_semantics
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
            if self._value is not expected:  # BUG: identity, not equality
                return False
            self._value = new
            return True
