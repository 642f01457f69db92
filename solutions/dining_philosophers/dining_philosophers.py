"""Reference solution for dining_philosophers: one lock per fork, always picked up lower number first.

Every philosopher takes its two forks in the same global order (the lower-numbered fork first), so a
cycle of philosophers each holding one fork and waiting for the next can never form: whoever holds
the highest fork of a would-be cycle already holds its lower one too, and can eat.
"""
import threading
from typing import Callable


class Table:
    """A round table with seats philosophers and one fork between each pair of neighbours.

    Seat i sits between fork i (on its left) and fork (i + 1) % seats (on its right).
    """

    def __init__(self, seats: int):
        """Lay a table for seats philosophers, with seats forks, all of them on the table.

        Raises:
            ValueError: seats is less than 2.
        """
        if seats < 2:
            raise ValueError(f"a table needs at least 2 seats, not {seats}")
        self._seats = seats
        # _forks[i] guards fork i: whoever holds the lock holds the fork. Its two neighbours, seats
        # i - 1 and i, are the only ones who take it. Nobody waits for a condition, so nobody
        # notifies: releasing a fork's lock is what lets a waiting neighbour pick it up.
        self._forks = [threading.Lock() for _ in range(seats)]

    def dine(self, seat: int, eat: Callable[[], None]) -> None:
        """Pick up both forks of seat, call eat() once while holding them, then put both back."""
        left, right = seat, (seat + 1) % self._seats
        first, second = sorted((left, right))  # the global order: lower-numbered fork first
        with self._forks[first]:
            with self._forks[second]:
                eat()  # both forks held; `with` puts them back even if eat() raises
