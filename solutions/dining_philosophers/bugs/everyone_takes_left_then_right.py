"""Every philosopher picks up the left fork, then the right one.

If all of them pick up their left fork before anyone reaches for a right one, each holds one fork
and waits for the fork its neighbour holds: a cycle, and nobody ever eats (deadlock).

Caught by: no_deadlock
"""
import threading
from typing import Callable


class Table:
    def __init__(self, seats: int):
        if seats < 2:
            raise ValueError(f"a table needs at least 2 seats, not {seats}")
        self._seats = seats
        # _forks[i] guards fork i: whoever holds the lock holds the fork.
        self._forks = [threading.Lock() for _ in range(seats)]

    def dine(self, seat: int, eat: Callable[[], None]) -> None:
        left = self._forks[seat]
        right = self._forks[(seat + 1) % self._seats]
        with left:  # BUG: the same hand first for everyone; all can hold a left fork at once
            with right:
                eat()
