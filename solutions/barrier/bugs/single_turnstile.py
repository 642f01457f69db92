"""One turnstile semaphore: the last arrival releases parties permits, and each thread takes one to leave.

Nothing says which round a permit belongs to. A fast thread leaves, calls wait() again, and takes
the permit meant for a slower thread still leaving the previous round: it laps the others and
passes the next round alone, and the slow thread waits forever.

Caught by: no_thread_laps_the_others
"""
import threading


class Barrier:
    def __init__(self, parties: int):
        self._parties = parties
        self._arrived = 0
        # _mutex guards _arrived. The last thread to arrive releases parties permits on _turnstile.
        self._mutex = threading.Lock()
        self._turnstile = threading.Semaphore(0)

    def wait(self) -> int:
        with self._mutex:
            index = self._arrived
            self._arrived += 1
            if self._arrived == self._parties:
                self._arrived = 0
                self._turnstile.release(self._parties)  # BUG: any thread may take these, even one from the next round
        self._turnstile.acquire()
        return index
