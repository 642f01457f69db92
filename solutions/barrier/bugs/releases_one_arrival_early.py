"""The round ends when parties - 1 threads have arrived, one too early.

Caught by: no_thread_passes_early
"""
import threading


class Barrier:
    def __init__(self, parties: int):
        self._parties = parties
        self._arrived = 0
        self._round = 0
        # _lock guards _arrived and _round. The thread that ends a round notifies _round_over (all of it).
        self._lock = threading.Lock()
        self._round_over = threading.Condition(self._lock)

    def wait(self) -> int:
        with self._lock:
            index = self._arrived
            self._arrived += 1
            if self._arrived >= self._parties - 1:  # BUG: should be == self._parties
                self._arrived = 0
                self._round += 1
                self._round_over.notify_all()
                return index
            my_round = self._round
            while self._round == my_round:
                self._round_over.wait()
            return index
