"""Wraps threading.Barrier, which this problem asks you to write.

It behaves correctly, which is why only the check that reads the file catches it.

Caught by: builds_its_own_barrier
"""
import threading


class Barrier:
    def __init__(self, parties: int):
        self._barrier = threading.Barrier(parties)  # BUG: not allowed

    def wait(self) -> int:
        return self._barrier.wait()
