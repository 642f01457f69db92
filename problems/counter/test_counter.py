"""Checks for counter. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import functools

import pytest

from grader.checking import plain, run_threads
from grader.sched import explore


# Sequential checks: what each call returns, one thread at a time.


@pytest.mark.points(1)
def test_increment_returns_new_value(impl):
    """increment(by) adds by and returns the value right after its own addition."""
    value = plain(impl.Counter().value, "Counter().value")
    assert value == 0, f"Counter().value is {value!r}; expected 0"
    counter = impl.Counter(10)
    value = plain(counter.value, "Counter(10).value")
    assert value == 10, f"Counter(10).value is {value!r}; expected 10"
    seen = plain([counter.increment(), counter.increment(5), counter.increment(by=-3)], "what increment() returned")
    assert seen == [11, 16, 13], (
        f"on Counter(10), increment(), increment(5), increment(by=-3) returned {seen}; expected [11, 16, 13]"
    )
    value = plain(counter.value, "value")
    assert value == 13, f"after those increments value is {value!r}; expected 13"


@pytest.mark.points(1)
@pytest.mark.hint("compare numbers with ==; `is` asks whether two ints are the same object, which large ints often are not")
def test_compare_and_set_semantics(impl):
    """compare_and_set(expected, new) sets new and returns True exactly when the value equals expected."""
    counter = impl.Counter(1000)
    counter.increment(500)
    ok = plain(counter.compare_and_set(1500, 7), "what compare_and_set() returned")
    value = plain(counter.value, "value")
    assert ok is True and value == 7, (
        f"on a counter at 1500, compare_and_set(1500, 7) returned {ok!r} and left the value at {value!r}; "
        "expected True and 7"
    )
    ok = plain(counter.compare_and_set(1500, 9), "what compare_and_set() returned")
    value = plain(counter.value, "value")
    assert ok is False and value == 7, (
        f"on a counter at 7, compare_and_set(1500, 9) returned {ok!r} and left the value at {value!r}; "
        "expected False and 7 (unchanged)"
    )


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(3)
@pytest.mark.hint("`self._value += by` is a read, an add and a write: hold one lock, made once in __init__, across all three")
def test_no_lost_update(impl):
    """Increments from concurrent threads are never lost."""
    def scenario():
        counter = impl.Counter()
        run_threads(impl, {
            "incrementer-0": lambda: counter.increment(1),
            "incrementer-1": lambda: counter.increment(10),
        })
        value = plain(counter.value, "value")
        assert value == 11, (
            f"on Counter(0), incrementer-0 called increment(1) and incrementer-1 called increment(10); "
            f"value is {value}, expected 11"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("return the value you computed while holding the lock, not one you read again after releasing it")
def test_increment_returns_unique_values(impl):
    """Concurrent increment() calls each return the value their own addition produced: all different, consecutive."""
    def scenario():
        counter = impl.Counter()
        returned = {}
        run_threads(impl, {
            "incrementer-0": lambda: returned.update({"incrementer-0": counter.increment()}),
            "incrementer-1": lambda: returned.update({"incrementer-1": counter.increment()}),
        })
        got = sorted(plain(list(returned.values()), "what increment() returned"))
        assert got == [1, 2], (
            f"on Counter(0), 2 threads each called increment() once and got back {returned}; "
            "expected 1 and 2, one each"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("compare and set inside one critical section: another thread must not change the value in between")
def test_compare_and_set_is_atomic(impl):
    """Of two concurrent compare_and_set() calls expecting the same value, exactly one succeeds."""
    def scenario():
        counter = impl.Counter()
        results = {}
        run_threads(impl, {
            "cas-0": lambda: results.update({"cas-0": counter.compare_and_set(0, 1)}),
            "cas-1": lambda: results.update({"cas-1": counter.compare_and_set(0, 2)}),
        })
        plain(results, "what compare_and_set() returned")
        value = plain(counter.value, "value")
        winners = [name for name, ok in results.items() if ok is True]
        assert len(winners) == 1, (
            f"on Counter(0), cas-0 called compare_and_set(0, 1) and cas-1 called compare_and_set(0, 2); "
            f"they returned {results} and the value is {value}; expected exactly one to return True"
        )
        expected = {"cas-0": 1, "cas-1": 2}[winners[0]]
        assert value == expected, (
            f"{winners[0]} won compare_and_set, so the value should be {expected}; it is {value}"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("increment() and compare_and_set() change the same value: they must hold the same lock")
def test_compare_and_set_atomic_with_increment(impl):
    """compare_and_set() and increment() never interleave: the result is as if one ran entirely before the other."""
    def scenario():
        counter = impl.Counter()
        results = {}
        run_threads(impl, {
            "incrementer": lambda: results.update({"increment": counter.increment()}),
            "cas": lambda: results.update({"compare_and_set": counter.compare_and_set(0, 10)}),
        })
        seen = plain((results["increment"], results["compare_and_set"], counter.value),
                     "what increment() and compare_and_set() returned, and value")
        assert seen in [(1, False, 1), (11, True, 11)], (
            f"on Counter(0), incrementer called increment() and got {seen[0]}, cas called compare_and_set(0, 10) "
            f"and got {seen[1]}; the value is {seen[2]}. Expected increment first (1, False, value 1) "
            "or compare_and_set first (11, True, value 11)"
        )
    explore(scenario)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_THREADS, STRESS_INCREMENTS, STRESS_TIMEOUT = 4, 2000, 20


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """4 real threads each incrementing 2000 times end at 8000, having been handed 1..8000 once each."""
    counter = impl.Counter()
    returned = {f"incrementer-{i}": [] for i in range(STRESS_THREADS)}

    def work(mine):
        for _ in range(STRESS_INCREMENTS):
            mine.append(counter.increment())

    run_threads(impl, {name: functools.partial(work, mine) for name, mine in returned.items()}, timeout=STRESS_TIMEOUT)
    total = STRESS_THREADS * STRESS_INCREMENTS
    value = plain(counter.value, "value")
    assert value == total, (
        f"{STRESS_THREADS} threads each called increment() {STRESS_INCREMENTS} times; "
        f"value is {value}, expected {total}"
    )
    got = sorted(plain([v for mine in returned.values() for v in mine], "what increment() returned"))
    expected = list(range(1, total + 1))
    if got != expected:
        problems = {
            "returned twice": sorted({v for v, w in zip(got, got[1:]) if v == w}),
            "never returned": sorted(set(expected) - set(got)),
            f"outside 1..{total}": sorted(set(got) - set(expected)),
        }
        raise AssertionError(
            f"increment() should have returned each of 1..{total} exactly once; "
            + "; ".join(f"{what}: {values[:10]}" for what, values in problems.items() if values)
        )
