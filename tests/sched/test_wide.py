"""Wide bugs: a race among many threads whose critical thread is started last is found, at every size,
and shown with the one preemption it needs (tests/sched/wide.py is the code under test)."""
import os
import threading

import pytest

from grader.sched import ScheduleFailure, configure, explore, load_module

WIDE = os.path.join(os.path.dirname(__file__), "wide.py")


@pytest.fixture(scope="module")
def w():
    return load_module(WIDE, "wide")


def reorder(w, n):
    """n-1 writers set a then b; a checker, started last, must see them equal."""
    def scenario():
        pair = w.Pair()
        seen = []
        threads = [threading.Thread(target=pair.write, args=(i + 1,), name=f"writer-{i}") for i in range(n - 1)]
        threads.append(threading.Thread(target=lambda: seen.append(pair.in_step()), name="checker"))
        w.start_all(threads)
        for t in threads:
            t.join()
        assert seen == [True], "the checker saw a and b out of step"
    return scenario


def twostage(w, n):
    """n-1 producers publish a slot flag first, item second; a consumer, started last, must find every item."""
    def scenario():
        board = w.Board(n - 1)
        got = []
        threads = [threading.Thread(target=board.publish, args=(i, f"item-{i}"), name=f"producer-{i}")
                   for i in range(n - 1)]
        threads.append(threading.Thread(target=lambda: got.append(board.published()), name="consumer"))
        w.start_all(threads)
        for t in threads:
            t.join()
        missing = [slot for slot, item in got[0] if item is None]
        assert not missing, f"slots {missing} were ready without their items"
    return scenario


def found(scenario) -> ScheduleFailure:
    with pytest.raises(ScheduleFailure) as info:
        explore(scenario)
    return info.value


@pytest.mark.parametrize("shape", [reorder, twostage], ids=["reorder", "twostage"])
@pytest.mark.parametrize("n", [3, 4, 10, 20, 50, 100])
def test_a_wide_race_is_found_and_shown_with_one_preemption(w, shape, n):
    failure = found(shape(w, n))
    assert failure.kind == "assertion"
    assert failure.preemptions == 1, str(failure)


@pytest.mark.parametrize("shape", [reorder, twostage], ids=["reorder", "twostage"])
def test_wide_races_are_found_from_every_base_seed(w, shape):
    for base in (1000, 2000, 3000, 4000):
        configure(base_seed=base)
        assert found(shape(w, 20)).kind == "assertion"


def test_with_few_threads_the_count_is_the_true_minimum(s):
    """Every schedule without a preemption passes here, so the exhaustive search reports 1, never more."""
    def scenario():
        c = s.RacyCounter()
        ts = [threading.Thread(target=c.increment, name=f"incrementer-{i}") for i in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert c.value == 3, f"3 increments, value is {c.value}"
    for base in range(0, 400, 40):       # uniform random and PCT seeds among them preempt many times
        configure(base_seed=base)
        assert found(scenario).preemptions == 1
