"""increment() reads the value under the lock, then writes it back under a second acquisition.

Each step is locked, but the lock is released between them: another thread can increment in
between, and its update is then overwritten.

Caught by: no_lost_update, increment_returns_unique_values
"""
import threading


class Counter:
    def __init__(self, start: int = 0):
        # _lock guards _value.
        self._lock = threading.Lock()
        self._value = start

    def increment(self, by: int = 1) -> int:
        with self._lock:
            current = self._value
        # BUG: the lock is free here; another increment can run and be overwritten
        with self._lock:
            self._value = current + by
        return current + by

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
