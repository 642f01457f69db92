"""wait() reads its arrival index before taking the lock.

Two threads that arrive together can both read the same count, so both get the same index (and
no one gets the last one), although the count itself is updated correctly under the lock.

Caught by: last_arrival_releases_everyone
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
        index = self._arrived  # BUG: read without the lock; another thread may arrive in between
        with self._lock:
            self._arrived += 1
            if self._arrived == self._parties:
                self._arrived = 0
                self._round += 1
                self._round_over.notify_all()
                return index
            my_round = self._round
            while self._round == my_round:
                self._round_over.wait()
            return index
