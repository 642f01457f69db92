"""The oxygen calls release() as soon as it is its molecule's oxygen, before any hydrogen has arrived.

One oxygen at a time takes the turn, releases itself, and then opens two places for hydrogens and
waits for them. The groups of three still come out right, but a lone oxygen is released with no
hydrogen there to bond with.

Caught by: no_release_before_the_molecule_is_complete
"""
import threading
from collections.abc import Callable


class H2O:
    def __init__(self):
        self._oxygen_turn = threading.Semaphore(1)       # the oxygen of the molecule being made holds it
        self._hydrogen_places = threading.Semaphore(0)   # that oxygen opens two places for hydrogens
        self._hydrogens_done = threading.Semaphore(0)    # each of its hydrogens releases this when done

    def hydrogen(self, release: Callable[[], None]) -> None:
        self._hydrogen_places.acquire()
        release()
        self._hydrogens_done.release()

    def oxygen(self, release: Callable[[], None]) -> None:
        self._oxygen_turn.acquire()
        release()  # BUG: before two hydrogens are there to complete the molecule
        self._hydrogen_places.release(2)
        self._hydrogens_done.acquire()
        self._hydrogens_done.acquire()
        self._oxygen_turn.release()
