"""A philosopher takes the left fork, only tries the right one, and if it is taken puts the left one
back and tries again a little later.

Nothing deadlocks, because nobody holds a fork while waiting. But the waiting philosopher never
holds anything either: when both neighbours keep eating and thinking in turn, one of its forks is
always taken when it looks, and it starves while they eat again and again.

Caught by: waiting_philosopher_gets_to_eat
"""
import threading
import time
from typing import Callable

BACK_OFF = 0.05  # seconds to wait before trying again


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
        while True:
            left.acquire()
            if right.acquire(blocking=False):
                break
            left.release()  # BUG: gives up its place; a neighbour can take both forks again and again
            time.sleep(BACK_OFF)
        try:
            eat()
        finally:
            right.release()
            left.release()
