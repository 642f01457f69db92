"""A second correct event scheduler, written differently from the reference: a list kept sorted with
bisect instead of a heap, events as frozen (time, sequence) keys, eager removal on cancel, an RLock,
and run() as a loop of one-event steps. It must get full marks, so the checks cannot demand one design."""
import bisect
import itertools
import math
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Event:
    time: float
    sequence: int                                     # breaks ties: schedule() calls are numbered
    action: object = field(compare=False, repr=False)


class Simulator:
    def __init__(self):
        # _lock guards _clock, _pending (sorted by (time, sequence)) and _numbers. It is reentrant so
        # that _step() can call the public now. Nobody waits for a change, so nobody notifies.
        self._lock = threading.RLock()
        self._clock = 0.0
        self._pending = []
        self._numbers = itertools.count()

    @property
    def now(self):
        with self._lock:
            return self._clock

    def schedule(self, delay, action):
        if not (isinstance(delay, (int, float)) and math.isfinite(delay) and delay >= 0):
            raise ValueError(f"delay must be a finite number >= 0, not {delay!r}")
        with self._lock:
            event = Event(self.now + delay, next(self._numbers), action)
            bisect.insort(self._pending, event)
            return event

    def cancel(self, event):
        with self._lock:
            i = bisect.bisect_left(self._pending, event)
            if i < len(self._pending) and self._pending[i] is event:
                del self._pending[i]
                return True
            return False

    def _step(self, until):
        """Take the first event due by until and move the clock to it; None if there is none."""
        with self._lock:
            if not self._pending or (until is not None and self._pending[0].time > until):
                if until is not None:
                    self._clock = max(self._clock, until)
                return None
            event = self._pending.pop(0)
            self._clock = event.time
            return event

    def run(self, until=None):
        for count in itertools.count():
            event = self._step(until)
            if event is None:
                return count
            event.action()   # outside the lock
