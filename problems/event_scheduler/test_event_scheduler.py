"""Checks for event_scheduler. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import collections
import math
import threading
import time

import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from grader.checking import attempt, describe_error, raised, run_threads, said
from grader.sched import explore

# Reproducible verdicts; no "explain" phase (its notes name the harness's files, not the student's).
EXAMPLES = settings(deadline=None, derandomize=True, database=None, max_examples=60,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink])


def recorder(sim, log, name):
    """An action that appends (name, sim.now) to log when it runs."""
    return lambda: log.append((name, sim.now))


def names(log):
    return [name for name, _ in log]


# Sequential checks: one thread, random event lists.


@pytest.mark.points(2)
@pytest.mark.hint("key the queue by absolute time (now + delay), and set now to an event's time before calling its action")
def test_time_order(impl):
    """Events run in the order of their times, and while an action runs, now is its event's time."""
    sim = impl.Simulator()
    assert sim.now == 0.0, f"Simulator().now is {sim.now!r}; expected 0.0"

    @EXAMPLES
    @given(st.lists(st.integers(0, 40).map(lambda n: n / 4), min_size=1, max_size=8, unique=True))
    @example([2.0, 0.5, 1.25])
    def check(delays):
        sim = impl.Simulator()
        log = []
        for delay in delays:
            sim.schedule(delay, recorder(sim, log, delay))
        ran = sim.run()
        expected = [(delay, delay) for delay in sorted(delays)]
        assert log == expected, (
            f"on a new Simulator, events were scheduled at delays {delays}; run() ran them as "
            f"{', '.join(f'{due} (now {now})' for due, now in log)}; expected "
            f"{', '.join(f'{due} (now {now})' for due, now in expected)}: earliest first, now equal to each event's time"
        )
        assert ran == len(delays), f"run() ran {len(delays)} actions and returned {ran!r}; expected {len(delays)}"
        assert sim.now == max(delays), f"after run(), now is {sim.now!r}; expected {max(delays)}, the last event's time"
        again = sim.run()
        assert again == 0 and sim.now == max(delays), (
            f"a second run() with nothing pending returned {again!r} and left now at {sim.now!r}; "
            f"expected 0 and {max(delays)}"
        )

    check()


@pytest.mark.points(2)
@pytest.mark.hint("heapq is not stable: push (time, sequence number, event), the sequence number counting schedule() calls")
def test_equal_times_run_in_scheduling_order(impl):
    """Events due at the same time run in the order they were scheduled."""
    @EXAMPLES
    @given(st.lists(st.sampled_from([1.0, 2.0]), min_size=2, max_size=10))
    @example([1.0] * 5)
    def check(delays):
        sim = impl.Simulator()
        log = []
        for i, delay in enumerate(delays):
            sim.schedule(delay, recorder(sim, log, f"e{i}"))
        sim.run()
        expected = [f"e{i}" for i, _ in sorted(enumerate(delays), key=lambda pair: (pair[1], pair[0]))]
        scheduled = ", ".join(f"e{i} at {delay}" for i, delay in enumerate(delays))
        assert names(log) == expected, (
            f"events were scheduled in this order: {scheduled}; run() ran them as {names(log)}; "
            f"expected {expected}: by time, and events due at the same time in the order they were scheduled"
        )

    check()


@pytest.mark.points(1)
@pytest.mark.hint("`delay < 0` is False for nan: test math.isfinite(delay) as well")
def test_schedule_rejects_bad_delays(impl):
    """schedule() refuses a delay below 0 or not finite with ValueError, and schedules nothing then."""
    sim = impl.Simulator()
    for bad in (-1.0, -0.25, math.nan, math.inf, -math.inf):
        outcome = attempt(lambda: sim.schedule(bad, lambda: None))
        assert raised(outcome, ValueError), (
            f"schedule({bad!r}, action) " + ("was accepted" if outcome[0] == "returned" else said(impl, outcome))
            + "; expected ValueError: a delay must be a finite number >= 0"
        )
    log = []
    sim.schedule(0.0, recorder(sim, log, "zero"))
    ran = attempt(sim.run)
    assert ran == ("returned", 1) and log == [("zero", 0.0)], (
        f"after the refused schedule() calls and one schedule(0.0, action), run() {said(impl, ran)} and ran {log}; "
        "expected 1 and [('zero', 0.0)]: nothing else should have been scheduled"
    )


@pytest.mark.points(1)
@pytest.mark.hint("cancel() returns True only when it changes a pending event into a cancelled one; remember which events ran")
def test_cancel_reports_whether_it_cancelled(impl):
    """cancel() returns True for a pending event, which then never runs, and False once it ran, runs or was cancelled."""
    sim = impl.Simulator()
    log = []
    first = sim.schedule(1.0, recorder(sim, log, "first"))
    second = sim.schedule(2.0, recorder(sim, log, "second"))
    results = {}
    third = None

    def cancels_itself():
        results["cancel(third) inside its own action"] = sim.cancel(third)
        log.append(("third", sim.now))

    third = sim.schedule(3.0, cancels_itself)
    results["cancel(first)"] = sim.cancel(first)
    results["cancel(first) again"] = sim.cancel(first)
    ran = sim.run()
    results["cancel(second) after it ran"] = sim.cancel(second)
    expected = {
        "cancel(first)": True,
        "cancel(first) again": False,
        "cancel(third) inside its own action": False,
        "cancel(second) after it ran": False,
    }
    assert results == expected, (
        "events first at 1.0, second at 2.0 and third at 3.0 (whose action cancels itself); "
        f"the cancel() calls returned {results}; expected {expected}"
    )
    assert names(log) == ["second", "third"] and ran == 2, (
        f"after cancel(first), run() returned {ran!r} and ran {names(log)}; expected 2 and ['second', 'third']"
    )


@pytest.mark.points(2)
@pytest.mark.hint("list.remove() on a heap breaks the heap property: mark the event cancelled and skip it when it reaches the top, or heapify() again")
def test_cancelling_leaves_the_rest_in_order(impl):
    """Cancelling events never changes when or in which order the other events run."""
    @EXAMPLES
    @given(st.lists(st.tuples(st.integers(0, 40).map(lambda n: n / 4), st.booleans()),
                    min_size=1, max_size=10, unique_by=lambda t: t[0]))
    @example([(0.0, False), (5.0, True), (1.0, False), (6.0, False), (7.0, False), (2.0, False), (3.0, False)])
    def check(plan):
        sim = impl.Simulator()
        log = []
        events = [(delay, sim.schedule(delay, recorder(sim, log, delay)), cancelled) for delay, cancelled in plan]
        for _, event, cancelled in events:
            if cancelled:
                sim.cancel(event)
        sim.run()
        kept = sorted(delay for delay, _, cancelled in events if not cancelled)
        cancelled = [delay for delay, _, c in events if c]
        expected = [(delay, delay) for delay in kept]
        assert log == expected, (
            f"events were scheduled at {[delay for delay, _, _ in events]}, then those at {cancelled} were cancelled; "
            f"run() ran {', '.join(f'{due} (now {now})' for due, now in log) or 'nothing'}; expected "
            f"{', '.join(f'{due} (now {now})' for due, now in expected) or 'nothing'}"
        )

    check()


@pytest.mark.points(2)
@pytest.mark.hint("take the next event from the live queue on every turn of the loop, not from a list made when run() began")
def test_actions_may_schedule_and_cancel(impl):
    """An event scheduled by an action runs in the same run(), and an event cancelled by an action never runs."""
    sim = impl.Simulator()
    log = []
    cancelled = {}
    victim = sim.schedule(4.0, recorder(sim, log, "victim"))

    def parent():
        log.append(("parent", sim.now))
        sim.schedule(1.0, recorder(sim, log, "child"))
        cancelled["victim"] = sim.cancel(victim)

    sim.schedule(1.0, parent)
    sim.schedule(3.0, recorder(sim, log, "last"))
    ran = sim.run()
    expected = [("parent", 1.0), ("child", 2.0), ("last", 3.0)]
    assert log == expected and ran == 3, (
        "parent at 1.0 schedules child with delay 1.0 and cancels victim (due at 4.0); last is due at 3.0. "
        f"run() returned {ran!r} and ran {log}; expected 3 and {expected}"
    )
    assert cancelled == {"victim": True}, f"cancel(victim) inside parent returned {cancelled['victim']!r}; expected True"


@pytest.mark.points(2)
@pytest.mark.hint("look at the earliest event before you remove it: one due after until must stay in the queue")
def test_run_until(impl):
    """run(until) runs the events due by until, keeps later ones pending, and moves now to until, never back."""
    sim = impl.Simulator()
    log = []
    for due in (1.0, 2.0, 3.0):
        sim.schedule(due, recorder(sim, log, due))
    steps = [
        ("run(until=2.0)", lambda: sim.run(until=2.0), 2, [1.0, 2.0], 2.0),
        ("run(until=2.5)", lambda: sim.run(until=2.5), 0, [], 2.5),
        ("run(until=1.0)", lambda: sim.run(until=1.0), 0, [], 2.5),
        ("run()", sim.run, 1, [3.0], 3.0),
    ]
    done = "events at 1.0, 2.0 and 3.0"
    for call, step, count, ran, now in steps:
        log.clear()
        outcome = attempt(step)
        seen = (outcome, names(log), sim.now)
        assert seen == (("returned", count), ran, now), (
            f"{done}; then {call} {said(impl, outcome)}, ran the events at {names(log)} and left now at {sim.now!r}; "
            f"expected it to return {count}, run {ran} and leave now at {now}"
        )
        done += f", {call}"


@pytest.mark.points(3)
@pytest.mark.hint("Little's law fails only when the simulation is off: events out of time order (how do cancel() and run() keep the heap?), a stale now in an action, or events scheduled by actions left unrun")
def test_single_server_queue(impl):
    """A single-server queue driven on the simulator obeys Little's law exactly: mean response time T_r = T_p + L_q / C."""
    # Times are multiples of 0.5, exact in binary, so the law holds to the last bit.
    arrival, service = st.integers(0, 16).map(lambda n: n / 2), st.integers(1, 6).map(lambda n: n / 2)
    customer = st.tuples(arrival, service, st.booleans())   # the last: booking cancelled before the run

    @EXAMPLES
    @given(st.lists(customer, min_size=1, max_size=10).filter(lambda cs: not all(c for _, _, c in cs)))
    @example([(0.0, 0.5, True), (0.5, 0.5, False), (0.0, 0.5, False)])
    def check(customers):
        problems = SingleServerQueue(impl, customers).problems()
        assert not problems, (
            f"a single-server queue, first come first served, with customers (arrival, service) "
            f"{[(a, s) for a, s, _ in customers]}; bookings cancelled before the run: "
            f"{[i for i, (_, _, c) in enumerate(customers) if c]}.\n" + "\n".join(problems)
        )

    check()


class SingleServerQueue:
    """Drive a single-server FIFO queue on the student's simulator and keep the trace's statistics."""

    def __init__(self, impl, customers):
        self.customers = customers
        self.sim = sim = impl.Simulator()
        self.waiting = collections.deque()
        self.busy = False
        self.area = 0.0          # integral of the number waiting (not in service) over time
        self.last = 0.0
        self.backwards = None    # (from, to) the first time the clock went back
        self.arrived, self.departed = {}, {}
        bookings = [sim.schedule(arrival, lambda i=i: self.arrive(i)) for i, (arrival, _, _) in enumerate(customers)]
        for booking, (_, _, cancelled) in zip(bookings, customers):
            if cancelled:
                sim.cancel(booking)
        sim.run()
        self.end = sim.now

    def advance(self):
        now = self.sim.now
        if now < self.last and self.backwards is None:
            self.backwards = (self.last, now)
        self.area += len(self.waiting) * (now - self.last)
        self.last = now

    def arrive(self, i):
        self.advance()
        self.arrived[i] = self.sim.now
        if self.busy:
            self.waiting.append(i)
        else:
            self.start(i)

    def start(self, i):
        self.busy = True
        self.sim.schedule(self.customers[i][1], lambda: self.depart(i))

    def depart(self, i):
        self.advance()
        self.departed[i] = self.sim.now
        self.busy = False
        if self.waiting:
            self.start(self.waiting.popleft())

    def problems(self):
        expected = [i for i, (_, _, cancelled) in enumerate(self.customers) if not cancelled]
        served = sorted(self.departed)
        problems, little = [], None
        if served != expected:
            problems.append(f"customers served: {served}; expected {expected} (every booking not cancelled)")
        if served and self.end > 0:
            n = len(served)
            t_r = sum(self.departed[i] - self.arrived[i] for i in served) / n
            t_p = sum(self.customers[i][1] for i in served) / n
            l_q = self.area / self.end
            c = n / self.end
            predicted = t_p + l_q / c
            equal = math.isclose(t_r, predicted, rel_tol=1e-9, abs_tol=1e-9)
            little = (
                f"measured mean response time T_r = {t_r:.4g}; from the same run, T_p + L_q / C = {t_p:.4g} + "
                f"{l_q:.4g} / {c:.4g} = {predicted:.4g} (T_p: mean service time, L_q: mean number waiting, "
                f"C: customers served per time unit). "
                + ("Equal here." if equal else "They must be equal: they are whenever events run in time order.")
            )
            if not equal:
                problems.append(little)
        if self.backwards:
            problems.append(f"the clock went backwards: an action saw now == {self.backwards[1]} after one saw {self.backwards[0]}")
        if problems and little and little not in problems:
            problems.append(little)
        return problems


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(3)
@pytest.mark.hint("schedule() and run() both touch the queue: look at the next event and remove it in one critical section")
def test_events_from_other_threads_run_once(impl):
    """An event scheduled from another thread while run() is active runs exactly once, and so does every other event."""
    def scenario():
        sim = impl.Simulator()
        log = []
        sim.schedule(1.0, recorder(sim, log, "sim-1"))
        sim.schedule(2.0, recorder(sim, log, "sim-2"))
        counts = {}
        run_threads(impl, {
            "simulation": lambda: counts.update({"run() in simulation": sim.run()}),
            "feeder": lambda: sim.schedule(0.5, recorder(sim, log, "fed")),
        })
        counts["run() afterwards"] = sim.run()
        ran = collections.Counter(names(log))
        problems = [f"{name} ran {ran[name]} times" for name in ("sim-1", "sim-2", "fed") if ran[name] != 1]
        assert not problems and sum(counts.values()) == 3, (
            "events sim-1 at 1.0 and sim-2 at 2.0; simulation called run() while feeder called schedule(0.5, fed); "
            f"then run() again. Ran {names(log)}, the run() calls returned {counts}. "
            + "; ".join(problems) + ("; " if problems else "") + "expected each event to run exactly once, 3 in all"
        )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("read now and insert the event in one critical section, the one run() moves the clock in")
def test_time_never_goes_backwards(impl):
    """now never decreases, also when another thread schedules while run(until) is active."""
    def scenario():
        sim = impl.Simulator()
        log = []
        for due in (1.0, 2.0, 4.0):
            sim.schedule(due, recorder(sim, log, f"sim-{due:g}"))
        run_threads(impl, {
            "simulation": lambda: sim.run(until=3.0),
            "feeder": lambda: sim.schedule(0.5, recorder(sim, log, "fed")),
        })
        log.append(("(between the runs)", sim.now))
        sim.run()
        nows = [now for _, now in log]
        back = next((i for i in range(1, len(nows)) if nows[i] < nows[i - 1]), None)
        assert back is None, (
            "events at 1.0, 2.0 and 4.0; simulation called run(until=3.0) while feeder called schedule(0.5, fed); "
            f"then run() again. now went backwards: {log[back - 1][0]} saw {nows[back - 1]}, then {log[back][0]} "
            f"saw {nows[back]}. All: {log}"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("release the lock before calling an action: calling unknown code while holding a lock invites deadlock")
def test_actions_run_without_the_lock(impl):
    """An action may wait for another thread's schedule() call: run() holds no lock while an action runs."""
    def scenario():
        sim = impl.Simulator()
        log = []
        asked, answered = threading.Event(), threading.Event()

        def waits_for_feeder():
            asked.set()
            answered.wait()   # a deadlock here means feeder's schedule() is waiting for a lock run() holds
            log.append(("waiter", sim.now))

        def feeder():
            asked.wait()
            sim.schedule(1.0, recorder(sim, log, "fed"))
            answered.set()

        sim.schedule(1.0, waits_for_feeder)
        run_threads(impl, {"simulation": sim.run, "feeder": feeder})
        sim.run()
        assert names(log) == ["waiter", "fed"], (
            f"the action at 1.0 waited for feeder to schedule fed with delay 1.0; the runs ran {log}; "
            "expected the waiter at 1.0, then fed at 2.0"
        )
    explore(scenario)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_FEEDERS, STRESS_EVENTS, STRESS_TIMEOUT = 3, 300, 20


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """3 real threads scheduling 300 events each while the simulation runs: every event runs once, and now never goes back."""
    sim = impl.Simulator()
    log = []
    errors = {}
    fed = threading.Event()

    def guarded(name, body):
        def run():
            try:
                body()
            except Exception as exc:
                errors[name] = exc
        return run

    def feed(f):
        for n in range(STRESS_EVENTS):
            sim.schedule((n % 7) * 0.25, recorder(sim, log, (f, n)))

    def simulate():
        while not fed.is_set():
            sim.run()
            time.sleep(0)
        sim.run()

    feeders = [threading.Thread(target=guarded(f"feeder-{f}", lambda f=f: feed(f)), name=f"feeder-{f}", daemon=True)
               for f in range(STRESS_FEEDERS)]
    simulation = threading.Thread(target=guarded("simulation", simulate), name="simulation", daemon=True)
    deadline = time.monotonic() + STRESS_TIMEOUT
    simulation.start()
    for t in feeders:
        t.start()
    for t in feeders:
        t.join(max(0.0, deadline - time.monotonic()))
    fed.set()
    simulation.join(max(0.0, deadline - time.monotonic()))
    running = [t.name for t in feeders + [simulation] if t.is_alive()]
    assert not running, f"threads still running after {STRESS_TIMEOUT} s: {', '.join(running)}"
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    counts = collections.Counter(names(log))
    expected = [(f, n) for f in range(STRESS_FEEDERS) for n in range(STRESS_EVENTS)]
    problems = {
        "never ran": [e for e in expected if counts[e] == 0],
        "ran twice": [e for e in expected if counts[e] > 1],
    }
    assert not any(problems.values()), (
        f"{STRESS_FEEDERS} feeders scheduled {len(expected)} events (feeder, n) while the simulation ran; "
        + "; ".join(f"{what}: {xs[:10]}" for what, xs in problems.items() if xs)
    )
    nows = [now for _, now in log]
    back = next((i for i in range(1, len(nows)) if nows[i] < nows[i - 1]), None)
    assert back is None, f"now went backwards: event {log[back - 1][0]} saw {nows[back - 1]}, then {log[back][0]} saw {nows[back]}"
