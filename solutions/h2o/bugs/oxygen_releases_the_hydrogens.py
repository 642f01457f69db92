"""The oxygen bonds the molecule by calling the hydrogens' release() for them, in the oxygen's thread.

Molecules come out whole and in order, but a hydrogen's release() is its own thread's job: the
caller's code may rely on running in that thread.

Caught by: each_atom_released_once_by_its_own_thread, stress_real_threads
"""
import collections
import threading
from collections.abc import Callable


class H2O:
    def __init__(self):
        self._hydrogens = collections.deque()  # (release, done) of each waiting hydrogen
        # _lock guards _hydrogens. hydrogen() notifies _hydrogen_arrived; the oxygen waits on it for two.
        self._lock = threading.Lock()
        self._hydrogen_arrived = threading.Condition(self._lock)
        self._oxygen_turn = threading.Lock()  # one oxygen makes a molecule at a time

    def hydrogen(self, release: Callable[[], None]) -> None:
        done = threading.Event()
        with self._lock:
            self._hydrogens.append((release, done))
            self._hydrogen_arrived.notify_all()
        done.wait()  # the oxygen releases us

    def oxygen(self, release: Callable[[], None]) -> None:
        with self._oxygen_turn:
            with self._lock:
                while len(self._hydrogens) < 2:
                    self._hydrogen_arrived.wait()
                pair = [self._hydrogens.popleft(), self._hydrogens.popleft()]
            for hydrogen_release, _ in pair:
                hydrogen_release()  # BUG: runs in the oxygen's thread, not the hydrogen's
            release()
            for _, done in pair:
                done.set()
