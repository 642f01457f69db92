"""schedule() only refuses a negative delay: nan, inf and -inf are accepted.

`nan < 0` is False, so a nan delay slips through and the event's time compares false with every
other time, scrambling the heap; an infinite delay makes an event that never comes due.

Caught by: schedule_rejects_bad_delays
"""
from __future__ import annotations

import heapq
import threading
from typing import Callable

_PENDING, _CANCELLED, _RUN = "pending", "cancelled", "run"


class Event:
    """A scheduled action: the handle that schedule() returns and cancel() takes."""

    __slots__ = ("time", "action", "state")

    def __init__(self, time: float, action: Callable[[], None]):
        self.time = time
        self.action = action
        self.state = _PENDING       # guarded by the simulator's _lock

    def __repr__(self):
        return f"<Event at {self.time} {self.state}>"


class Simulator:
    """A simulated clock and the events due on it. schedule() may be called from any thread."""

    def __init__(self):
        """Start at now == 0.0 with no events."""
        # _lock guards _now, _queue, _sequence and every event's state. run() takes the next event
        # and moves _now in one critical section, so a schedule() from another thread reads a _now
        # that no event in the queue is earlier than. run() releases it before calling an action: an
        # action may schedule (from this thread or by waiting for another one). Nobody waits on it
        # for a change, so nobody notifies.
        self._lock = threading.Lock()
        self._now = 0.0
        self._queue: list[tuple[float, int, Event]] = []   # a heap; the sequence number breaks ties
        self._sequence = 0

    @property
    def now(self) -> float:
        """The simulated time (read-only). It never decreases."""
        with self._lock:
            return self._now

    def schedule(self, delay: float, action: Callable[[], None]) -> Event:
        """Make action due at now + delay and return its event. Safe to call from any thread, also while run() is active.

        Raises:
            ValueError: delay is below 0, or not finite (nan, inf).
        """
        if delay < 0:
            raise ValueError(f"delay must be a finite number >= 0, not {delay!r}")
        with self._lock:
            # Read _now and insert in one step: run() cannot move the clock past this event in between.
            event = Event(self._now + delay, action)
            heapq.heappush(self._queue, (event.time, self._sequence, event))
            self._sequence += 1
        return event

    def cancel(self, event: Event) -> bool:
        """Make sure a pending event never runs and return True; return False if it already ran or was cancelled."""
        with self._lock:
            if event.state != _PENDING:
                return False
            event.state = _CANCELLED   # run() drops it when it reaches the top of the heap
            return True

    def run(self, until: float | None = None) -> int:
        """Run the pending events in time order (ties in scheduling order) and return how many ran.

        With until, run only the events due at or before until, then move now to until if it is later.
        Actions run with no lock held; they may schedule and cancel events.
        """
        ran = 0
        while True:
            with self._lock:
                event = self._pop_due(until)
                if event is None:
                    # In the same critical section as the decision to stop: a schedule() from another
                    # thread cannot slip an event in before until and then find the clock past it.
                    if until is not None and until > self._now:
                        self._now = until
                    return ran
                self._now = event.time
                event.state = _RUN
            event.action()   # no lock held: the action may call schedule() and cancel()
            ran += 1

    def _pop_due(self, until: float | None) -> Event | None:
        """Remove and return the earliest pending event due by until, or None. Call with _lock held."""
        while self._queue:
            time, _, event = self._queue[0]
            if event.state == _CANCELLED:
                heapq.heappop(self._queue)
            elif until is not None and time > until:
                return None
            else:
                heapq.heappop(self._queue)
                return event
        return None
