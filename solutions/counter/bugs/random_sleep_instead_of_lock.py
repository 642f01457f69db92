"""increment() sleeps a random moment instead of taking a lock, hoping the threads then take turns.

A sleep is a minimum delay, not a schedule: a thread that wakes first can still be slow in the middle
of `self._value += by` when the next one wakes, and one update is lost. On real threads this loses
updates now and then; the grader's clock may run ahead to the next sleeper's wake-up at any point.

Caught by: no_lost_update, increment_returns_unique_values
"""
import random
import threading
import time


class Counter:
    def __init__(self, start: int = 0):
        # _lock guards _value for compare_and_set only.
        self._lock = threading.Lock()
        self._value = start

    def increment(self, by: int = 1) -> int:
        # BUG: a random pause does not keep another thread out of the read-add-write below
        time.sleep(random.random() / 1000)
        self._value += by
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
