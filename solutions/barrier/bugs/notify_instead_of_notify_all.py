"""The last arrival wakes the waiting threads with notify(), which wakes only one of them.

With two parties that is enough. With three, one thread is still asleep after the round is over,
and stays asleep.

Caught by: last_arrival_releases_everyone
"""
import threading


class Barrier:
    def __init__(self, parties: int):
        self._parties = parties
        self._arrived = 0
        self._round = 0
        # _lock guards _arrived and _round. The last thread to arrive notifies _round_over.
        self._lock = threading.Lock()
        self._round_over = threading.Condition(self._lock)

    def wait(self) -> int:
        with self._lock:
            index = self._arrived
            self._arrived += 1
            if self._arrived == self._parties:
                self._arrived = 0
                self._round += 1
                self._round_over.notify()  # BUG: wakes one waiter; the round has parties - 1 of them
                return index
            my_round = self._round
            while self._round == my_round:
                self._round_over.wait()
            return index
