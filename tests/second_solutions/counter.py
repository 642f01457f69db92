"""A second correct counter, written differently from the reference: an RLock, and increment() as a
compare_and_set() retry loop. It must get full marks, so the checks cannot demand one design."""
import threading


class Counter:
    def __init__(self, start: int = 0):
        # _lock guards _value. It is reentrant because compare_and_set() reads the value property
        # while holding it. Nobody waits for a change, so nobody notifies.
        self._lock = threading.RLock()
        self._value = start

    def increment(self, by: int = 1) -> int:
        while True:  # optimistic: retry if another thread changed the value since we read it
            current = self.value
            if self.compare_and_set(current, current + by):
                return current + by

    @property
    def value(self) -> int:
        with self._lock:
            return self._value

    def compare_and_set(self, expected: int, new: int) -> bool:
        with self._lock:
            matches = self.value == expected
            if matches:
                self._value = new
            return matches
