"""An atom checks for a free place with `if` instead of `while` before waiting.

notify_all() wakes every waiting atom when a molecule forms. With three hydrogens waiting, all
three wake for two places, and the third one goes through anyway: three hydrogens in one molecule.

Caught by: molecules_do_not_mix
"""
import threading
from collections.abc import Callable


class H2O:
    """Lets atoms through two hydrogens and one oxygen at a time, one molecule after another."""

    def __init__(self):
        """Create a gate with no atoms waiting."""
        self._waiting = {"H": 0, "O": 0}  # atoms that have arrived and have no place in a molecule yet
        self._places = {"H": 0, "O": 0}   # places still free in the molecule being released
        self._releasing = 0               # atoms of that molecule whose release() has not returned yet
        # _lock guards the three counts. _form_molecule() notifies _molecule_formed (all of it) when it
        # opens places; atoms wait on it for a place of their kind. A molecule is formed by the atom whose
        # arrival completes one, or by the last atom of the previous molecule to finish its release().
        self._lock = threading.Lock()
        self._molecule_formed = threading.Condition(self._lock)

    def hydrogen(self, release: Callable[[], None]) -> None:
        """Wait until this hydrogen can join a whole molecule, call release() once in this thread, and return."""
        self._pass("H", release)

    def oxygen(self, release: Callable[[], None]) -> None:
        """Wait until this oxygen can join a whole molecule, call release() once in this thread, and return."""
        self._pass("O", release)

    def _pass(self, kind: str, release: Callable[[], None]) -> None:
        with self._lock:
            self._waiting[kind] += 1
            self._form_molecule()
            if self._places[kind] == 0:  # BUG: `if`, not `while`: woken, it goes even if the places are taken
                self._molecule_formed.wait()
            self._places[kind] -= 1
        release()  # outside the lock: it is the caller's code, and may take a while
        with self._lock:
            self._releasing -= 1
            if self._releasing == 0:  # this molecule is done: the next one may form now
                self._form_molecule()

    def _form_molecule(self) -> None:
        """With _lock held: if no molecule is being released and two hydrogens and an oxygen wait, form one."""
        if self._releasing == 0 and self._waiting["H"] >= 2 and self._waiting["O"] >= 1:
            self._waiting["H"] -= 2
            self._waiting["O"] -= 1
            self._places = {"H": 2, "O": 1}
            self._releasing = 3
            self._molecule_formed.notify_all()
