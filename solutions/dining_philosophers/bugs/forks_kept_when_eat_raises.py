"""dine() puts the forks back after eat() returns, but not when eat() raises.

One philosopher's failed meal leaves both of its forks held for ever: its neighbours wait for them
forever.

Caught by: forks_put_back_when_eat_raises
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
        self._forks[first].acquire()
        self._forks[second].acquire()
        eat()  # BUG: if this raises, the two releases below never run
        self._forks[second].release()
        self._forks[first].release()
