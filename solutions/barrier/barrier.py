"""Reference solution for barrier: one lock, one condition, and a round number that tells rounds apart."""
import threading


class Barrier:
    """A meeting point for parties threads: each wait() returns once all parties have arrived, round after round."""

    def __init__(self, parties: int):
        """Create a barrier for parties threads (parties >= 1)."""
        self._parties = parties
        self._arrived = 0   # threads that have arrived in the current round
        self._round = 0     # rounds completed so far
        # _lock guards _arrived and _round. The last thread to arrive in a round advances _round and
        # notifies _round_over (all of it); the others wait on _round_over until _round has moved on.
        self._lock = threading.Lock()
        self._round_over = threading.Condition(self._lock)

    def wait(self) -> int:
        """Wait until parties threads have called wait() in this round, and return this call's arrival index."""
        with self._lock:
            index = self._arrived
            self._arrived += 1
            if self._arrived == self._parties:  # the last to arrive: end the round and let everyone go
                self._arrived = 0               # the next round starts from scratch
                self._round += 1
                self._round_over.notify_all()
                return index
            my_round = self._round
            # Wait for *this* round to end, not for a count: a fast thread may already have arrived in the
            # next round (so _arrived is no longer 0) by the time we get the lock back.
            while self._round == my_round:
                self._round_over.wait()
            return index
