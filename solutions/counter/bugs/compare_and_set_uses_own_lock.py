"""compare_and_set() takes a different lock from increment().

Each method excludes itself, but not the other: increment() can read 0, compare_and_set(0, 10)
can then set 10, and increment() writes 1 over it.

Caught by: compare_and_set_atomic_with_increment
"""
import threading


class Counter:
    def __init__(self, start: int = 0):
        # BUG: two locks for one value. _lock guards _value in increment() and value;
        # _cas_lock guards it in compare_and_set(). Neither excludes the other.
        self._lock = threading.Lock()
        self._cas_lock = threading.Lock()
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
        with self._cas_lock:
            if self._value != expected:
                return False
            self._value = new
            return True
