"""Checks for dining_philosophers. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import threading
import time

import pytest

from grader.checking import attempt, describe_error, raised, run_threads, said
from grader.sched import explore

# Virtual seconds, under the scheduler: eating or thinking costs no real time.
MEAL = 1.0       # how long a philosopher eats
THINK = 1.0      # how long a philosopher thinks between meals
PATIENCE = 10.0  # how long a check waits for something that needs no waiting at all

MEALS_EACH = 3   # meals per philosopher in the deadlock check: each one is another chance to deadlock


def alone(scenario):
    """Run a one-thread scenario once under the scheduler: virtual time, and a hang is reported at once."""
    __tracebackhide__ = True
    explore(scenario, schedules=1)


def neighbours(seats, a, b):
    return (a - b) % seats in (1, seats - 1)


# Sequential checks: one philosopher at a time.


@pytest.mark.points(1)
@pytest.mark.hint("a table needs at least 2 seats: refuse seats < 2 with ValueError (with 1, left and right fork are one fork)")
def test_seats_and_meals(impl):
    """Table(seats) refuses fewer than 2 seats with ValueError, and dine(seat, eat) calls eat() exactly once, at every seat, meal after meal."""
    for bad in (1, 0):
        outcome = attempt(lambda: impl.Table(bad))
        assert raised(outcome, ValueError), (
            f"Table({bad}) " + ("was accepted" if outcome[0] == "returned" else said(impl, outcome))
            + "; expected ValueError: a table needs at least 2 seats"
        )

    def scenario():
        for seats in (2, 5):
            table = impl.Table(seats)
            for meal in (1, 2):
                for seat in range(seats):
                    calls = []
                    outcome = attempt(lambda: table.dine(seat, lambda: calls.append(seat)))
                    assert outcome == ("returned", None) and len(calls) == 1, (
                        f"on Table({seats}), meal {meal} at seat {seat}: dine({seat}, eat) {said(impl, outcome)} "
                        f"after calling eat() {len(calls)} time(s); expected it to call eat() once and return None"
                    )
    alone(scenario)


@pytest.mark.points(1)
@pytest.mark.hint("put the forks back in a `finally:` (or use `with` on each fork), so that they go back even when eat() raises")
def test_forks_put_back_when_eat_raises(impl):
    """If eat() raises, dine() lets the exception through and puts both forks back on the table."""
    class Spilled(Exception):
        pass

    def spill():
        raise Spilled("the soup went everywhere")

    def scenario():
        table = impl.Table(3)
        outcome = attempt(lambda: table.dine(0, spill))
        assert raised(outcome, Spilled), (
            f"on Table(3), dine(0, eat) where eat() raises Spilled: dine() {said(impl, outcome)}; "
            "expected the Spilled exception to come through"
        )
        for seat in (1, 2, 0):  # seat 1 needs fork 1, seat 2 fork 0: the forks seat 0 had
            meals = []
            name = f"philosopher-{seat}"
            philosopher = threading.Thread(target=table.dine, args=(seat, lambda: meals.append(seat)), name=name)
            philosopher.start()
            philosopher.join(PATIENCE)
            assert meals == [seat], (
                f"on Table(3), eat() raised inside dine(0, eat); afterwards {name} called dine({seat}, eat) "
                + (f"and was still waiting for a fork {PATIENCE:g} s later" if philosopher.is_alive()
                   else "and it returned without eating")
                + ": the forks of seat 0 must go back on the table even when eat() raises"
            )
    alone(scenario)


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(3)
@pytest.mark.hint("hold both forks for the whole of eat(): put them down only after eat() returns")
def test_neighbours_never_eat_at_once(impl):
    """Two neighbours are never inside eat() at the same time."""
    def scenario():
        table = impl.Table(3)
        eating = {}   # seat -> who is eating there now
        clashes = []  # (who started eating, which neighbour was eating already)

        def eat(name, seat):
            clashes.extend((name, other) for s, other in eating.items() if neighbours(3, s, seat))
            eating[seat] = name
            time.sleep(MEAL)
            del eating[seat]

        run_threads(impl, {
            "philosopher-0": lambda: table.dine(0, lambda: eat("philosopher-0", 0)),
            "philosopher-1": lambda: table.dine(1, lambda: eat("philosopher-1", 1)),
        })
        assert not clashes, (
            f"on Table(3), {clashes[0][0]} started eating while its neighbour {clashes[0][1]} was still eating; "
            "seats 0 and 1 share fork 1, so one of them must wait until the other has finished eating"
        )
    explore(scenario)


@pytest.mark.points(4)
@pytest.mark.hint("if every philosopher takes the left fork first, all can hold one and wait forever: pick up the lower-numbered fork first")
def test_no_deadlock(impl):
    """However three philosophers around a table of three interleave, each of them gets to eat: the table never deadlocks."""
    def scenario():
        table = impl.Table(3)
        meals = []

        def philosopher(seat):
            for _ in range(MEALS_EACH):
                table.dine(seat, lambda: meals.append(seat))

        run_threads(impl, {f"philosopher-{seat}": (lambda seat=seat: philosopher(seat)) for seat in range(3)})
        expected = sorted([0, 1, 2] * MEALS_EACH)
        assert sorted(meals) == expected, (
            f"on Table(3), philosophers 0, 1 and 2 each called dine() {MEALS_EACH} times; eat() was called for seats "
            f"{sorted(meals)}; expected {expected}"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("a lock around the whole table lets only one philosopher eat at a time: give each fork its own lock")
def test_non_neighbours_eat_at_the_same_time(impl):
    """Two philosophers who share no fork can both be inside eat() at the same time."""
    def scenario():
        table = impl.Table(4)
        together = threading.Barrier(2)  # each eater waits here for the other to start eating too
        alone_at_table = []

        def eat(name):
            try:
                together.wait(PATIENCE)
            except threading.BrokenBarrierError:
                alone_at_table.append(name)

        run_threads(impl, {
            "philosopher-0": lambda: table.dine(0, lambda: eat("philosopher-0")),
            "philosopher-2": lambda: table.dine(2, lambda: eat("philosopher-2")),
        })
        assert not alone_at_table, (
            f"on Table(4), philosopher-0 (forks 0 and 1) and philosopher-2 (forks 2 and 3) share no fork, so they "
            f"can eat at the same time; but {alone_at_table[0]} waited inside eat() for {PATIENCE:g} s and the other "
            "never started eating in that time"
        )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("a philosopher who takes forks only when both are free at once can starve: take a free fork and keep it while waiting for the other")
def test_waiting_philosopher_gets_to_eat(impl):
    """A hungry philosopher eats before either neighbour starts a third meal, even while the neighbours take turns so that one of them is always eating."""
    rounds = 4
    overlap = 0.1  # philosopher-2 starts eating this long before philosopher-0 stops, and stops this long after

    def scenario():
        table = impl.Table(4)
        meals = []  # (who, virtual time the meal started, from the start)
        hungry_since = []
        start = time.monotonic()   # the clocks do not start at 0

        def eat(name, seconds):
            meals.append((name, time.monotonic() - start))
            time.sleep(seconds)

        def keep_eating(name, seat, first_think, meal, think):
            time.sleep(first_think)
            for _ in range(rounds):
                table.dine(seat, lambda: eat(name, meal))
                time.sleep(think)

        def hungry():
            time.sleep(MEAL / 2)  # gets hungry while philosopher-0 eats
            hungry_since.append(time.monotonic() - start)
            table.dine(1, lambda: eat("philosopher-1", MEAL))

        # philosopher-0 eats from 0 s to 1 s, 2 s to 3 s, ...; philosopher-2 from 0.9 s to 2.1 s, 2.9 s to
        # 4.1 s, ...: at every moment one of philosopher-1's two forks is in use.
        run_threads(impl, {
            "philosopher-0": lambda: keep_eating("philosopher-0", 0, 0, MEAL, THINK),
            "philosopher-1": hungry,
            "philosopher-2": lambda: keep_eating("philosopher-2", 2, THINK - overlap, MEAL + 2 * overlap,
                                                 THINK - 2 * overlap),
        })
        ate_at = next(at for name, at in meals if name == "philosopher-1")
        overtaken = [name for name, at in meals if hungry_since[0] <= at < ate_at]
        counts = {name: overtaken.count(name) for name in ("philosopher-0", "philosopher-2")}
        assert max(counts.values()) <= 2, (
            f"on Table(4), philosopher-0 (forks 0 and 1) and philosopher-2 (forks 2 and 3) ate {rounds} times each, "
            "taking turns so that one of them was always eating. philosopher-1 (forks 1 and 2) called dine() at "
            f"{hungry_since[0]:g} s and did not eat until {ate_at:g} s: while it waited, philosopher-0 started "
            f"{counts['philosopher-0']} meals and philosopher-2 started {counts['philosopher-2']}. Expected "
            "philosopher-1 to eat before either of them started a third meal"
        )
    # Who waits here is decided by virtual time (the neighbours' turns), hardly by the interleaving:
    # 100 schedules, 25 per strategy, are plenty, and the scenario is the longest of these checks.
    explore(scenario, schedules=100)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_SEATS, STRESS_MEALS, STRESS_TIMEOUT = 5, 100, 10


@pytest.mark.points(1)
@pytest.mark.hint("hold both forks for the whole of eat(), and put them back after every meal")
def test_stress_real_threads(impl):
    """5 real philosophers around a table of 5, each dining 100 times, all finish, and neighbours never eat at once."""
    table = impl.Table(STRESS_SEATS)
    meals = [0] * STRESS_SEATS
    eating = set()
    clashes = []
    errors = {}
    bookkeeping = threading.Lock()

    def eat(seat):
        with bookkeeping:
            busy = [s for s in eating if neighbours(STRESS_SEATS, s, seat)]
            if busy:
                clashes.append((seat, busy[0]))
            eating.add(seat)
        time.sleep(0.0001)
        with bookkeeping:
            eating.discard(seat)
            meals[seat] += 1

    def philosopher(seat):
        try:
            for _ in range(STRESS_MEALS):
                table.dine(seat, lambda: eat(seat))
        except Exception as exc:
            errors[f"philosopher-{seat}"] = exc

    threads = [
        threading.Thread(target=philosopher, args=(seat,), name=f"philosopher-{seat}", daemon=True)
        for seat in range(STRESS_SEATS)
    ]
    deadline = time.monotonic() + STRESS_TIMEOUT
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    running = [t.name for t in threads if t.is_alive()]
    assert not running, (
        f"philosophers still dining after {STRESS_TIMEOUT} s (a deadlock?): {', '.join(running)}; "
        f"meals so far: {meals}"
    )
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    assert not clashes, (
        f"philosopher-{clashes[0][0]} started eating while its neighbour philosopher-{clashes[0][1]} was eating "
        f"({len(clashes)} such clashes in {STRESS_SEATS * STRESS_MEALS} meals)"
    )
    assert meals == [STRESS_MEALS] * STRESS_SEATS, f"meals eaten per seat: {meals}; expected {STRESS_MEALS} each"
