"""The count of arrivals is never reset when a round ends.

The first round works. In the second, the count is already parties: the first thread to arrive
finds "enough" threads there and walks through alone, with an arrival index past parties - 1.

Caught by: reusable_for_many_rounds, no_thread_laps_the_others
"""
import threading


class Barrier:
    def __init__(self, parties: int):
        self._parties = parties
        self._arrived = 0
        # _lock guards _arrived. The last thread to arrive notifies _everyone_here (all of it).
        self._lock = threading.Lock()
        self._everyone_here = threading.Condition(self._lock)

    def wait(self) -> int:
        with self._lock:
            index = self._arrived
            self._arrived += 1  # BUG: never set back to 0, so every later round counts on from parties
            if self._arrived == self._parties:
                self._everyone_here.notify_all()
                return index
            while self._arrived < self._parties:
                self._everyone_here.wait()
            return index
