"""One lock around the whole table: a philosopher holds it while picking up forks and eating.

Nobody clashes and nothing deadlocks, but only one philosopher eats at a time, even when the others
share no fork with them: four philosophers of eight could be eating.

Caught by: non_neighbours_eat_at_the_same_time
"""
import threading
from typing import Callable


class Table:
    def __init__(self, seats: int):
        if seats < 2:
            raise ValueError(f"a table needs at least 2 seats, not {seats}")
        self._seats = seats
        # BUG: _table guards every fork at once, and is held during eat().
        self._table = threading.Lock()

    def dine(self, seat: int, eat: Callable[[], None]) -> None:
        with self._table:
            eat()
