"""Waiting threads wait for the count of arrivals to go back to 0, instead of for their round to end.

The last arrival resets the count and wakes everyone; but before a woken thread gets the lock
back, a fast thread may already have arrived in the next round, and the count is 1 again. The
woken thread goes back to sleep in a round that is over, and the next round never fills up.

Caught by: no_thread_laps_the_others
"""
import threading


class Barrier:
    def __init__(self, parties: int):
        self._parties = parties
        self._arrived = 0
        # _lock guards _arrived. The last thread to arrive resets it and notifies _round_over (all of it).
        self._lock = threading.Lock()
        self._round_over = threading.Condition(self._lock)

    def wait(self) -> int:
        with self._lock:
            index = self._arrived
            self._arrived += 1
            if self._arrived == self._parties:
                self._arrived = 0
                self._round_over.notify_all()
                return index
            while self._arrived != 0:  # BUG: the next round can make it non-zero again before we look
                self._round_over.wait()
            return index
