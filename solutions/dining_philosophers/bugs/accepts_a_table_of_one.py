"""Table() accepts a table of one seat.

With one seat, the left and the right fork of that seat are the same fork: the philosopher picks it
up, then waits for it forever. A table needs at least 2 seats.

Caught by: seats_and_meals
"""
import threading
from typing import Callable


class Table:
    def __init__(self, seats: int):
        if seats < 1:  # BUG: should be seats < 2
            raise ValueError(f"a table needs at least 1 seat, not {seats}")
        self._seats = seats
        # _forks[i] guards fork i: whoever holds the lock holds the fork.
        self._forks = [threading.Lock() for _ in range(seats)]

    def dine(self, seat: int, eat: Callable[[], None]) -> None:
        first, second = sorted((seat, (seat + 1) % self._seats))
        with self._forks[first]:
            with self._forks[second]:
                eat()
