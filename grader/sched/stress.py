"""The baseline a user would write without the scheduler: the scenario on real threads, again and again."""
from __future__ import annotations

import sys

from grader.sched import state
from grader.sched.report import ScheduleFailure

stats = {"longest": 0.0}   # real seconds of the longest stress run so far (benchmarks reset it)


def stress(scenario, seconds: float, switch_interval: float | None = None, hang_after: float = state.HANG_AFTER) -> int:
    """Run scenario() on real threads, again and again, for `seconds` of wall time, on the real clocks
    (which, like the scheduler's virtual ones, do not start at 0). Returns the number of runs; raises
    ScheduleFailure on the first failure. A run still going `hang_after` seconds after it started
    counts as a hang (one started near the end of the budget may finish past it).
    """
    old_interval = sys.getswitchinterval()
    if switch_interval:
        sys.setswitchinterval(switch_interval)
    try:
        end = state.real_monotonic() + seconds
        runs = 0
        while state.real_monotonic() < end:
            outcome = []

            def body():
                try:
                    scenario()
                    outcome.append(None)
                except BaseException as exc:
                    outcome.append(exc)
            started = state.real_monotonic()
            worker = state.RealThread(target=body, daemon=True, name="stress")
            worker.start()
            worker.join(hang_after)
            runs += 1
            stats["longest"] = max(stats["longest"], state.real_monotonic() - started)
            if not outcome:
                raise ScheduleFailure(f"hung: run {runs} on real threads did not finish within {hang_after:g} s",
                                      seed=None, kind="hang", strategy="stress", schedules=runs)
            if outcome[0] is not None:
                raise ScheduleFailure(f"{type(outcome[0]).__name__}: {outcome[0]}", seed=None, kind="stress",
                                      strategy="stress", schedules=runs)
        return runs
    finally:
        sys.setswitchinterval(old_interval)
