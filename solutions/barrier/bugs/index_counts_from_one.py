"""wait() returns the count after its own arrival, 1 to parties, instead of the arrival index 0 to parties - 1.

Caught by: wait_returns_arrival_index, last_arrival_releases_everyone, stress_real_threads
"""
import threading


class Barrier:
    def __init__(self, parties: int):
        self._parties = parties
        self._arrived = 0
        self._round = 0
        # _lock guards _arrived and _round. The last thread to arrive notifies _round_over (all of it).
        self._lock = threading.Lock()
        self._round_over = threading.Condition(self._lock)

    def wait(self) -> int:
        with self._lock:
            self._arrived += 1
            index = self._arrived  # BUG: one more than the number of threads that arrived before this one
            if self._arrived == self._parties:
                self._arrived = 0
                self._round += 1
                self._round_over.notify_all()
                return index
            my_round = self._round
            while self._round == my_round:
                self._round_over.wait()
            return index
