"""A second correct table, written differently from the reference: no lock per fork, but one monitor
(a Condition) that hands a philosopher both forks at once, and a ticket per hungry philosopher so
that nobody starves: a philosopher may not start eating while a hungry neighbour has waited longer.
It must get full marks, so the checks cannot demand one design."""
import itertools
import threading


class Table:
    def __init__(self, seats: int):
        if seats < 2:
            raise ValueError(f"a table needs at least 2 seats, not {seats}")
        self._seats = seats
        self._in_use = [False] * seats  # fork i is in a philosopher's hands
        self._hungry = {}               # seat -> ticket, for the philosophers waiting to eat
        self._tickets = itertools.count()
        # _changed's lock guards _in_use, _hungry and _tickets. Waiters wait on it for their forks to
        # be free and no longer-waiting neighbour to be hungry; whoever puts forks down notifies all
        # (the two neighbours who may now eat wait on the same condition as everyone else).
        self._changed = threading.Condition()

    def _may_eat(self, seat: int) -> bool:
        left, right = seat, (seat + 1) % self._seats
        if self._in_use[left] or self._in_use[right]:
            return False
        mine = self._hungry[seat]
        neighbours = ((seat - 1) % self._seats, (seat + 1) % self._seats)
        return all(self._hungry.get(other, mine) >= mine for other in neighbours)

    def dine(self, seat: int, eat) -> None:
        left, right = seat, (seat + 1) % self._seats
        with self._changed:
            self._hungry[seat] = next(self._tickets)
            self._changed.wait_for(lambda: self._may_eat(seat))
            del self._hungry[seat]
            self._in_use[left] = self._in_use[right] = True
        try:
            eat()  # outside the monitor: non-neighbours eat at the same time
        finally:
            with self._changed:
                self._in_use[left] = self._in_use[right] = False
                self._changed.notify_all()
