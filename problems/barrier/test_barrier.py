"""Checks for barrier. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import ast
import linecache
import os
import threading
import time

import pytest

from grader.checking import describe_error, run_threads
from grader.sched import explore


def ordinal(n):
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


WAIT = 10.0  # seconds of virtual time the checks wait for the threads before looking at what went wrong


def times(n):
    return {0: "never", 1: "only once"}.get(n, f"only {n} times")


def run_rounds(impl, parties, rounds, pause):
    """parties threads (worker-0, ...) each call wait() `rounds` times; fail if one passes a round early.

    A thread that returns from its r-th wait() checks that every thread has called wait() at least r
    times; if not, it reports that and stops. With `pause`, each thread sleeps that long (virtual time)
    after each round, so that every thread has left a round before any enters the next.
    """
    __tracebackhide__ = True
    barrier = impl.Barrier(parties)
    names = [f"worker-{i}" for i in range(parties)]
    calls = dict.fromkeys(names, 0)
    indices = [{} for _ in range(rounds)]
    early = []

    def party(name):
        for r in range(1, rounds + 1):
            calls[name] += 1
            index = barrier.wait()
            behind = [other for other in names if calls[other] < r]
            if behind:
                early.append(
                    f"on a Barrier({parties}) used for {rounds} rounds, {name} returned from its {ordinal(r)} wait() "
                    f"while {' and '.join(behind)} had called wait() {times(calls[behind[0]])}: "
                    f"{name} got through round {r} before every thread had arrived in round {r}"
                    + (f", while {behind[0]} was still leaving round {r - 1}" if r > 1 else "")
                )
                return
            indices[r - 1][name] = index
            if pause:
                time.sleep(pause)

    threads = [threading.Thread(target=party, args=(name,), name=name) for name in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)  # virtual time: costs nothing, and lets a thread that lapped the others be reported
    assert not early, early[0]
    for t in threads:
        t.join()  # a thread still waiting now waits forever: the scheduler reports where
    for r, got in enumerate(indices, start=1):
        assert sorted(got.values()) == list(range(parties)), (
            f"on a Barrier({parties}), round {r}: wait() returned {got}; expected {list(range(parties))} "
            "in some order, one index per thread"
        )


# Reading the file: the one primitive this problem is about writing.


def barrier_uses(path):
    """(line number, text) of every use of a ready-made Barrier in the file at path."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(alias.name == "Barrier" for alias in node.names):
            found.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "Barrier":
            found.append(node.lineno)
    return [(line, linecache.getline(path, line).strip()) for line in sorted(set(found))]


@pytest.mark.points(1)
@pytest.mark.hint("build the barrier from a Lock and a Condition (or from Semaphores), not from threading.Barrier")
def test_builds_its_own_barrier(impl):
    """barrier.py makes its own barrier, without threading.Barrier or asyncio.Barrier, and one round of it works."""
    uses = barrier_uses(impl.__file__)
    name = os.path.basename(impl.__file__)
    assert not uses, (
        "\n".join(f"{name}:{line} `{text}` uses a ready-made Barrier" for line, text in uses)
        + "\nthis problem is writing the barrier yourself: threading.Barrier and asyncio.Barrier are not allowed"
    )

    def scenario():
        barrier = impl.Barrier(2)
        returned = {}
        run_threads(impl, {f"worker-{i}": (lambda i=i: returned.update({f"worker-{i}": barrier.wait()}))
                           for i in range(2)})
        assert sorted(returned.values()) == [0, 1], (
            f"on a Barrier(2), two workers each called wait() once and got {returned}; expected 0 and 1, one each"
        )
    explore(scenario, schedules=5)


# Interleaving checks: the scheduler runs each scenario under many interleavings, on virtual time.


@pytest.mark.points(1)
@pytest.mark.hint("the arrival index is the number of threads that arrived before this one in the same round: read it under the lock")
def test_wait_returns_arrival_index(impl):
    """wait() returns 0 to the first thread to arrive in a round, 1 to the next, ..., parties - 1 to the last."""
    def scenario():
        barrier = impl.Barrier(2)
        returned = {}

        def arrive(name, delay):
            time.sleep(delay)  # virtual time: worker-1 arrives once worker-0 is waiting
            returned[name] = barrier.wait()

        run_threads(impl, {f"worker-{i}": (lambda i=i: arrive(f"worker-{i}", i)) for i in range(2)})
        expected = {"worker-0": 0, "worker-1": 1}
        assert returned == expected, (
            f"on a Barrier(2), worker-0 called wait() first and worker-1 second (once worker-0 was waiting); "
            f"wait() returned {returned}; expected {expected}"
        )
    explore(scenario, schedules=20)


@pytest.mark.points(3)
@pytest.mark.hint("let the threads go only once the count of arrivals reaches parties")
def test_no_thread_passes_early(impl):
    """No wait() returns before parties threads have called wait() in its round."""
    def scenario():
        barrier = impl.Barrier(2)
        arrived, early = [], []

        def party(name):
            arrived.append(name)
            barrier.wait()
            if len(arrived) < 2:
                early.append(name)

        run_threads(impl, {f"worker-{i}": (lambda i=i: party(f"worker-{i}")) for i in range(2)})
        assert not early, (
            f"on a Barrier(2), {early[0]} returned from wait() before the other worker had called wait(); "
            "expected it to wait until both had arrived"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("the last thread to arrive must wake every waiting thread: notify_all(), or one release() per waiter")
def test_last_arrival_releases_everyone(impl):
    """When the last of parties threads arrives, every waiting thread returns, each with a different arrival index."""
    def scenario():
        barrier = impl.Barrier(3)
        returned = {}

        def party(name):
            returned[name] = barrier.wait()

        run_threads(impl, {f"worker-{i}": (lambda i=i: party(f"worker-{i}")) for i in range(3)})
        assert sorted(returned.values()) == [0, 1, 2], (
            f"on a Barrier(3), three workers each called wait() once and got {returned}; "
            "expected 0, 1 and 2, one each"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("when a round is over, start the next one from scratch: reset the count of arrivals")
def test_reusable_for_many_rounds(impl):
    """The same barrier works round after round: each round holds its threads until all arrive and hands out 0..parties-1."""
    def scenario():
        alone = impl.Barrier(1)
        got = [alone.wait() for _ in range(3)]
        assert got == [0, 0, 0], (
            f"three wait() calls on a Barrier(1) returned {got}; expected [0, 0, 0]: "
            "its only party is the first and the last to arrive, every round"
        )
        run_rounds(impl, parties=2, rounds=3, pause=1.0)
    explore(scenario, schedules=50)


@pytest.mark.points(3)
@pytest.mark.hint("tell rounds apart (a round number that the last arrival advances), and wait until it changes, not for a count that the next round reuses")
def test_no_thread_laps_the_others(impl):
    """A thread that calls wait() again at once waits in the next round until every thread has left this one and arrived there."""
    def scenario():
        run_rounds(impl, parties=2, rounds=3, pause=0)
    explore(scenario)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_THREADS, STRESS_ROUNDS, STRESS_TIMEOUT = 4, 200, 10


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """4 real threads meeting at one barrier 200 times: every round hands out 0..3, and nobody gets a round ahead."""
    barrier = impl.Barrier(STRESS_THREADS)
    names = [f"worker-{i}" for i in range(STRESS_THREADS)]
    calls = dict.fromkeys(names, 0)
    indices = [{} for _ in range(STRESS_ROUNDS)]
    problems, errors = [], {}

    def party(name):
        try:
            for r in range(1, STRESS_ROUNDS + 1):
                calls[name] += 1
                index = barrier.wait()
                behind = [other for other in names if calls[other] < r]
                if behind and not problems:
                    problems.append(f"{name} returned from its {ordinal(r)} wait() while {behind[0]} had called "
                                    f"wait() {times(calls[behind[0]])}: {name} got through round {r} before every "
                                    "thread had arrived")
                indices[r - 1][name] = index
        except Exception as exc:
            errors[name] = exc

    threads = [threading.Thread(target=party, args=(name,), name=name, daemon=True) for name in names]
    deadline = time.monotonic() + STRESS_TIMEOUT
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    running = [t.name for t in threads if t.is_alive()]
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    assert not problems, problems[0]
    assert not running, (
        f"threads still waiting after {STRESS_TIMEOUT} s: {', '.join(running)} "
        f"(each had called wait() {', '.join(str(calls[name]) for name in running)} time(s))"
    )
    for r, got in enumerate(indices, start=1):
        assert sorted(got.values()) == list(range(STRESS_THREADS)), (
            f"{STRESS_THREADS} threads meeting at a Barrier({STRESS_THREADS}), round {r}: wait() returned {got}; "
            f"expected {list(range(STRESS_THREADS))} in some order"
        )
