"""The clock and event queue of a discrete-event simulation. See README.md for the guarantees."""
from __future__ import annotations

import heapq  # noqa: F401  (you may want it)
import math  # noqa: F401  (math.isfinite)
import threading  # noqa: F401  (you will need it)
from typing import Callable


class Event:
    """A scheduled action: the handle that schedule() returns and cancel() takes. Its contents are yours."""


class Simulator:
    """A simulated clock and the events due on it. schedule() may be called from any thread."""

    def __init__(self):
        """Start at now == 0.0 with no events."""
        raise NotImplementedError("__init__() is yours to write; see README.md")

    @property
    def now(self) -> float:
        """The simulated time (read-only). It never decreases."""
        raise NotImplementedError("now is yours to write; see README.md")

    def schedule(self, delay: float, action: Callable[[], None]) -> Event:
        """Make action due at now + delay and return its event. Safe to call from any thread, also while run() is active.

        Raises:
            ValueError: delay is below 0, or not finite (nan, inf).
        """
        raise NotImplementedError("schedule() is yours to write; see README.md")

    def cancel(self, event: Event) -> bool:
        """Make sure a pending event never runs and return True; return False if it already ran or was cancelled."""
        raise NotImplementedError("cancel() is yours to write; see README.md")

    def run(self, until: float | None = None) -> int:
        """Run the pending events in time order (ties in scheduling order) and return how many ran.

        With until, run only the events due at or before until, then move now to until if it is later.
        Actions run with no lock held; they may schedule and cancel events.
        """
        raise NotImplementedError("run() is yours to write; see README.md")
