"""A second correct barrier, written differently from the reference: two turnstile semaphores (Downey,
The Little Book of Semaphores, 3.7) and no condition. Every thread passes the first turnstile once all
have arrived, and the second once all have left the first, so a fast thread cannot lap a slow one.
It must get full marks, so the checks cannot demand one design."""
import threading


class Barrier:
    def __init__(self, parties: int):
        self._parties = parties
        self._count = 0
        # _mutex guards _count. The last thread in opens _arrive for everyone (parties permits); the
        # last thread out of that phase opens _depart for everyone.
        self._mutex = threading.Lock()
        self._arrive = threading.Semaphore(0)
        self._depart = threading.Semaphore(0)

    def wait(self) -> int:
        with self._mutex:
            index = self._count
            self._count += 1
            if self._count == self._parties:
                self._arrive.release(self._parties)
        self._arrive.acquire()
        with self._mutex:
            self._count -= 1
            if self._count == 0:
                self._depart.release(self._parties)
        self._depart.acquire()
        return index
