"""A second correct H2O, written differently from the reference: two semaphores that admit two hydrogens
and one oxygen at a time, and a threading.Barrier(3) where the admitted atoms meet before releasing. An
atom gives its semaphore permit back only after its release() has returned, so the next molecule cannot
gather at the barrier before this one is done. It must get full marks, so the checks cannot demand one design."""
import threading


class H2O:
    def __init__(self):
        self._hydrogen_places = threading.Semaphore(2)  # places for the hydrogens of the next molecule
        self._oxygen_place = threading.Semaphore(1)     # the place for its oxygen
        self._molecule = threading.Barrier(3)           # the three admitted atoms meet here

    def hydrogen(self, release) -> None:
        with self._hydrogen_places:
            self._molecule.wait()
            release()

    def oxygen(self, release) -> None:
        with self._oxygen_place:
            self._molecule.wait()
            release()
