"""Every call makes a new lock and takes that.

A lock only excludes threads that take the same lock. Each call holds a lock nobody else can
see, so nothing is excluded: increments are lost and two compare_and_set() calls can both win.

Caught by: no_lost_update, increment_returns_unique_values, compare_and_set_is_atomic
"""
import threading


class Counter:
    def __init__(self, start: int = 0):
        self._value = start

    def increment(self, by: int = 1) -> int:
        with threading.Lock():  # BUG: a fresh lock per call guards nothing
            self._value += by
            return self._value

    @property
    def value(self) -> int:
        with threading.Lock():
            return self._value

    def compare_and_set(self, expected: int, new: int) -> bool:
        with threading.Lock():
            if self._value != expected:
                return False
            self._value = new
            return True
