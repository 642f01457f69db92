"""The dining philosophers' table. See README.md for what dine() guarantees."""
import threading  # noqa: F401  (you will need it)
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
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def dine(self, seat: int, eat: Callable[[], None]) -> None:
        """Pick up both forks of seat, call eat() once while holding them, then put both back.

        Waits while a neighbour holds a fork that seat needs. If eat() raises, the forks are put back
        and the exception propagates to the caller.
        """
        raise NotImplementedError("dine() is yours to write; see README.md")
