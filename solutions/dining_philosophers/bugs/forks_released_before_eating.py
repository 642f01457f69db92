"""dine() picks up both forks, puts them back, and only then calls eat().

Picking the forks up proves they were free a moment ago, nothing more: a neighbour can take them
while this philosopher is still eating, and two neighbours eat at once.

Caught by: neighbours_never_eat_at_once, stress_real_threads
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
        first, second = sorted((seat, (seat + 1) % self._seats))
        with self._forks[first]:
            with self._forks[second]:
                pass
        eat()  # BUG: both forks are back on the table while eating
