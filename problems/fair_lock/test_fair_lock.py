"""Checks for fair_lock. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import threading
import time

import pytest

from grader.checking import Crew, attempt, describe_error, raised, said
from grader.sched import explore

# Virtual seconds, under the scheduler: waiting costs no real time.
MOMENT = 0.01    # "a moment later": every thread started before has done all it can and is waiting
HOLD = 0.01      # how long a thread keeps the lock in the interleaving checks
PATIENCE = 10.0  # how long a check waits for something that needs no waiting at all


def alone(scenario):
    """Run a scenario whose outcome does not depend on the interleaving once under the scheduler."""
    __tracebackhide__ = True
    explore(scenario, schedules=1)


# Sequential checks: one call at a time.


@pytest.mark.points(1)
@pytest.mark.hint("locked() is about the holder: it is True from acquire() until release(), waiters or not")
def test_locked_and_with(impl):
    """locked() is True exactly while the lock is held, and `with lock:` acquires and releases it, also when the block raises."""
    def scenario():
        lock = impl.FairLock()
        steps = []

        def expect(after, value):
            seen = lock.locked()
            steps.append(after)
            assert seen is value, (
                f"after {', '.join(steps)}: locked() returned {seen!r}; expected {value!r}"
            )

        expect("FairLock()", False)
        lock.acquire()
        expect("acquire()", True)
        lock.release()
        expect("release()", False)
        with lock:
            expect("entering `with lock:`", True)
        expect("leaving it", False)

        class Oops(Exception):
            pass

        def fail_inside():
            with lock:
                raise Oops("the block failed")

        outcome = attempt(fail_inside)
        assert raised(outcome, Oops), (
            f"a `with lock:` block raised Oops; the with statement {said(impl, outcome)}; expected Oops to come through"
        )
        expect("a `with lock:` block that raised", False)
        lock.acquire()
        expect("acquire()", True)
        lock.release()
    alone(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("remember which thread holds the lock (threading.get_ident()) and check it in release()")
def test_release_by_non_holder_raises(impl):
    """release() from a thread that does not hold the lock raises RuntimeError and leaves the holder holding it."""
    def scenario():
        lock = impl.FairLock()
        outcome = attempt(lock.release)
        assert raised(outcome, RuntimeError), (
            f"release() on a FairLock nobody holds {said(impl, outcome)}; expected RuntimeError"
        )
        outcome = attempt(lock.acquire)
        assert outcome[0] == "returned" and lock.locked() is True, (
            f"after a release() that should have failed, acquire() on the unlocked lock {said(impl, outcome)} "
            f"and locked() is {lock.locked()!r}; expected the lock to be taken at once"
        )
        lock.release()

        held, done = threading.Event(), threading.Event()
        outcomes = {}

        def hold():
            lock.acquire()
            held.set()
            done.wait()
            outcomes["holder"] = attempt(lock.release)

        crew = Crew(impl, {"holder": hold})
        held.wait()
        outcome = attempt(lock.release)
        assert raised(outcome, RuntimeError), (
            f"while the thread `holder` held the lock, main called release(); it {said(impl, outcome)}; "
            "expected RuntimeError: only the thread holding the lock may release it"
        )
        still_held = lock.locked()
        assert still_held is True, (
            "while the thread `holder` held the lock, main called release() and got RuntimeError, but then "
            f"locked() returned {still_held!r}; expected True: a failed release() changes nothing"
        )
        done.set()
        crew.join().check()
        assert outcomes["holder"][0] == "returned", (
            f"after that, the holder's own release() {said(impl, outcomes['holder'])}; expected it to succeed"
        )
    explore(scenario, schedules=10)


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(3)
@pytest.mark.hint("taking a ticket is a read and a write: do both while holding an internal lock, or two threads get the same ticket")
def test_one_holder_at_a_time(impl):
    """Two threads never hold the lock at the same time."""
    def scenario():
        lock = impl.FairLock()
        holding = []   # who holds the lock now, as seen by the threads themselves
        overlaps = []  # (who got the lock, who was holding it already)

        def work(name):
            lock.acquire()
            overlaps.extend((name, other) for other in holding)
            holding.append(name)
            time.sleep(HOLD)
            holding.remove(name)
            lock.release()

        crew = Crew(impl, {
            "worker-0": lambda: work("worker-0"),
            "worker-1": lambda: work("worker-1"),
        }).join()
        assert not overlaps, (
            f"worker-0 and worker-1 each called acquire() once; {overlaps[0][0]}'s acquire() returned while "
            f"{overlaps[0][1]} still held the lock; expected it to wait until {overlaps[0][1]} released it"
        )
        crew.check()
        assert lock.locked() is False, (
            f"after both workers had acquired and released the lock, locked() returned {lock.locked()!r}; expected False"
        )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("threads must be served in the order they called acquire(): give each a ticket, or queue them, and wake the first")
def test_waiters_served_in_arrival_order(impl):
    """Threads waiting for the lock get it in the order they called acquire()."""
    def scenario():
        lock = impl.FairLock()
        served = []

        def customer(name):
            lock.acquire()
            served.append(name)
            lock.release()

        lock.acquire()
        crew = {}
        for name in ["waiter-0", "waiter-1"]:
            crew[name] = threading.Thread(target=customer, args=(name,), name=name)
            crew[name].start()
            time.sleep(MOMENT)  # the new waiter is now waiting in acquire()
        lock.release()
        for t in crew.values():
            t.join()
        assert served == ["waiter-0", "waiter-1"], (
            "main held the lock; waiter-0 called acquire(), then a moment later waiter-1 did, and then main "
            f"released the lock. They got it in the order {served}; expected ['waiter-0', 'waiter-1']: "
            "first come, first served"
        )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("a free lock is not up for grabs while others wait: release() must hand it to the first waiter, and acquire() must queue behind them")
def test_no_barging(impl):
    """A thread that releases the lock and at once calls acquire() again gets it only after the thread that was already waiting."""
    def scenario():
        lock = impl.FairLock()
        served = []

        def customer():
            lock.acquire()
            served.append("waiter-0")
            lock.release()

        lock.acquire()
        waiter = threading.Thread(target=customer, name="waiter-0")
        waiter.start()
        time.sleep(MOMENT)  # waiter-0 is now waiting in acquire()
        lock.release()
        lock.acquire()
        served.append("main")
        lock.release()
        waiter.join()
        assert served == ["waiter-0", "main"], (
            "main held the lock while waiter-0 waited in acquire(); main then released the lock and called "
            f"acquire() again at once. They got it in the order {served}; expected ['waiter-0', 'main']: "
            "a thread that comes back for the lock queues behind the threads already waiting"
        )
    explore(scenario)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_THREADS, STRESS_ROUNDS, STRESS_TIMEOUT = 4, 300, 10


@pytest.mark.points(1)
@pytest.mark.hint("locked() must be True while a thread holds the lock, whether or not others are waiting")
def test_stress_real_threads(impl):
    """4 real threads taking the lock 300 times each all finish, never hold it two at a time, and see locked() True while they hold it."""
    lock = impl.FairLock()
    holding = []
    trouble = []
    errors = {}

    def work(name):
        try:
            for _ in range(STRESS_ROUNDS):
                with lock:
                    if holding:
                        trouble.append(f"{name} got the lock while {holding[0]} held it")
                    holding.append(name)
                    if lock.locked() is not True:
                        trouble.append(f"{name} held the lock and locked() returned {lock.locked()!r}")
                    time.sleep(0)
                    holding.remove(name)
        except Exception as exc:
            errors[name] = exc

    threads = [threading.Thread(target=work, args=(f"worker-{i}",), name=f"worker-{i}", daemon=True)
               for i in range(STRESS_THREADS)]
    deadline = time.monotonic() + STRESS_TIMEOUT
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    running = [t.name for t in threads if t.is_alive()]
    assert not running, f"threads still running after {STRESS_TIMEOUT} s: {', '.join(running)}"
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    assert not trouble, f"{trouble[0]} ({len(trouble)} such problems in {STRESS_THREADS * STRESS_ROUNDS} turns)"
    assert lock.locked() is False, f"after every thread had released the lock, locked() returned {lock.locked()!r}"
