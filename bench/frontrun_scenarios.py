"""Some checks' scenarios rewritten for frontrun.explore, the third baseline of bench/detection.py.

    python bench/frontrun_scenarios.py SLUG IMPL CHECK --budget SECONDS [--explain]

Each adapter below mirrors one interleaving check of problems/<slug>/test_<slug>.py: the same object,
the same named threads making the same calls, the same assertion on what they leave behind (a
deadlock fails it too). frontrun.explore takes exactly that shape: setup() builds the state, each
worker gets it, and the invariant runs once every worker has finished. Run as a script, this file
loads IMPL as a module, explores CHECK's adapter, and prints one JSON line: the verdict (failed,
passed, or inconclusive: frontrun's word for a run that stalled past its timeout) and the seconds
spent in explore(). One check per process: after a stalled run frontrun trusts no later one.

Where the check's main thread acts while the threads run (closes a buffer once the producers are
done), a worker plays its part. Checks that rely on virtual time (a timed wait that must expire,
"a moment later"), a hypothesis-driven history, or grader.sched.AtomicReference (its real lock is
invisible to frontrun, so a preempted holder stalls the run) have no adapter.

frontrun options: its defaults (DPOR, depth-first search, preemption bound 2, 10 replays of a
counterexample), except detect_io=False (these scenarios do no I/O) and the budget as
total_timeout, deadlock_timeout and timeout_per_run. The default search is deterministic: every run
explores the same interleavings in the same order. No LD_PRELOAD: libfrontrun_io.so only intercepts
libc I/O. FRONTRUN_ACTIVE=1 is what frontrun's `frontrun` launcher sets; explore() refuses to run
without it (or its pytest flag), and this script sets it for itself.
"""
from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.checking import attempt  # noqa: E402  (what the checks call: ("returned", value) or ("raised", exc))

ADAPTERS = {}  # (slug, check name) -> adapter(impl) -> (setup, workers, invariant)


def mirrors(slug, check):
    def register(adapter):
        ADAPTERS[slug, check] = adapter
        return adapter
    return register


def crew(**bodies):
    """Workers named like the check's threads; what a body raises lands in state.errors, as run_threads reports it."""
    def worker(name, body):
        def run(s):
            try:
                body(s)
            except Exception as exc:
                s.errors[name] = f"{type(exc).__name__}: {exc}"
        return run
    return [worker(name.replace("_", "-"), body) for name, body in bodies.items()]


def state(**fields):
    return SimpleNamespace(errors={}, **fields)


def no_errors(s):
    assert not s.errors, "; ".join(f"{name} raised {what}" for name, what in s.errors.items())


# counter


@mirrors("counter", "no_lost_update")
def counter_no_lost_update(impl):
    """test_no_lost_update: on Counter(0), incrementer-0 increment(1) and incrementer-1 increment(10); value is 11."""
    def invariant(s):
        no_errors(s)
        assert s.counter.value == 11, f"value is {s.counter.value}, expected 11"
    return (lambda: state(counter=impl.Counter()),
            crew(incrementer_0=lambda s: s.counter.increment(1), incrementer_1=lambda s: s.counter.increment(10)),
            invariant)


@mirrors("counter", "increment_returns_unique_values")
def counter_increment_returns_unique_values(impl):
    """test_increment_returns_unique_values: two increment() calls on Counter(0) return 1 and 2, one each."""
    def invariant(s):
        no_errors(s)
        assert sorted(s.returned.values()) == [1, 2], f"increment() returned {s.returned}, expected 1 and 2"
    return (lambda: state(counter=impl.Counter(), returned={}),
            crew(incrementer_0=lambda s: s.returned.update({"incrementer-0": s.counter.increment()}),
                 incrementer_1=lambda s: s.returned.update({"incrementer-1": s.counter.increment()})),
            invariant)


@mirrors("counter", "compare_and_set_is_atomic")
def counter_compare_and_set_is_atomic(impl):
    """test_compare_and_set_is_atomic: compare_and_set(0, 1) and compare_and_set(0, 2) on Counter(0); one wins."""
    def invariant(s):
        no_errors(s)
        winners = [name for name, ok in s.results.items() if ok is True]
        assert len(winners) == 1, f"compare_and_set returned {s.results}, value {s.counter.value}; expected one True"
        expected = {"cas-0": 1, "cas-1": 2}[winners[0]]
        assert s.counter.value == expected, f"{winners[0]} won, value is {s.counter.value}, expected {expected}"
    return (lambda: state(counter=impl.Counter(), results={}),
            crew(cas_0=lambda s: s.results.update({"cas-0": s.counter.compare_and_set(0, 1)}),
                 cas_1=lambda s: s.results.update({"cas-1": s.counter.compare_and_set(0, 2)})),
            invariant)


@mirrors("counter", "compare_and_set_atomic_with_increment")
def counter_compare_and_set_atomic_with_increment(impl):
    """test_compare_and_set_atomic_with_increment: increment() and compare_and_set(0, 10) on Counter(0) serialize."""
    def invariant(s):
        no_errors(s)
        seen = (s.results["increment"], s.results["compare_and_set"], s.counter.value)
        assert seen in [(1, False, 1), (11, True, 11)], f"(increment, compare_and_set, value) is {seen}"
    return (lambda: state(counter=impl.Counter(), results={}),
            crew(incrementer=lambda s: s.results.update({"increment": s.counter.increment()}),
                 cas=lambda s: s.results.update({"compare_and_set": s.counter.compare_and_set(0, 10)})),
            invariant)


# bank


def balances(bank, n):
    return [bank.balance(i) for i in range(n)]


@mirrors("bank", "money_conserved")
def bank_money_conserved(impl):
    """test_money_conserved: on Bank([100, 100, 100]), transfer(0, 1, 10) and transfer(2, 1, 20) leave [90, 130, 80]."""
    def invariant(s):
        no_errors(s)
        seen = balances(s.bank, 3)
        assert seen == [90, 130, 80], f"balances are {seen}, expected [90, 130, 80]"
    return (lambda: state(bank=impl.Bank([100, 100, 100])),
            crew(teller_0=lambda s: s.bank.transfer(0, 1, 10), teller_1=lambda s: s.bank.transfer(2, 1, 20)),
            invariant)


@mirrors("bank", "no_overdraft")
def bank_no_overdraft(impl):
    """test_no_overdraft: on Bank([100, 0, 0]), transfer(0, 1, 60) and transfer(0, 2, 60); one is refused."""
    def invariant(s):
        seen = balances(s.bank, 3)
        assert seen[0] >= 0, f"account 0 went to {seen[0]} (balances {seen})"
        refused = [n for n, (how, what) in s.outcomes.items()
                   if how == "raised" and isinstance(what, impl.InsufficientFunds)]
        done = [n for n, (how, _) in s.outcomes.items() if how == "returned"]
        assert len(refused) == 1 and len(done) == 1, f"outcomes {s.outcomes}; expected one refused, one done"
        expected = [40, 60, 0] if done == ["teller-0"] else [40, 0, 60]
        assert seen == expected, f"{done[0]}'s transfer went through; balances are {seen}, expected {expected}"
    return (lambda: state(bank=impl.Bank([100, 0, 0]), outcomes={}),
            crew(teller_0=lambda s: s.outcomes.update({"teller-0": attempt(lambda: s.bank.transfer(0, 1, 60))}),
                 teller_1=lambda s: s.outcomes.update({"teller-1": attempt(lambda: s.bank.transfer(0, 2, 60))})),
            invariant)


@mirrors("bank", "total_is_consistent")
def bank_total_is_consistent(impl):
    """test_total_is_consistent: total() by auditor during transfer(0, 2, 10) by teller on Bank([100]*3) is 300."""
    def invariant(s):
        no_errors(s)
        assert s.seen["total"] == 300, f"total() returned {s.seen['total']}, expected 300"
    return (lambda: state(bank=impl.Bank([100, 100, 100]), seen={}),
            crew(teller=lambda s: s.bank.transfer(0, 2, 10),
                 auditor=lambda s: s.seen.update({"total": s.bank.total()})),
            invariant)


@mirrors("bank", "opposite_transfers_do_not_deadlock")
def bank_opposite_transfers_do_not_deadlock(impl):
    """test_opposite_transfers_do_not_deadlock at its explored size, 3: teller-i transfer(i, i+1 mod 3, 10(i+1))."""
    calls = [(i, (i + 1) % 3, 10 * (i + 1)) for i in range(3)]
    expected = [100 - 10 * (i + 1) + 10 * ((i - 1) % 3 + 1) for i in range(3)]

    def invariant(s):
        no_errors(s)
        seen = balances(s.bank, 3)
        assert seen == expected, f"balances are {seen}, expected {expected}"
    return (lambda: state(bank=impl.Bank([100] * 3)),
            crew(**{f"teller_{i}": (lambda s, args=args: s.bank.transfer(*args)) for i, args in enumerate(calls)}),
            invariant)


# dining_philosophers

MEALS_EACH = 3


@mirrors("dining_philosophers", "no_deadlock")
def dining_no_deadlock(impl):
    """test_no_deadlock: philosophers 0, 1 and 2 at Table(3) each dine() 3 times; all 9 meals are eaten."""
    def philosopher(seat):
        def dine(s):
            for _ in range(MEALS_EACH):
                s.table.dine(seat, lambda: s.meals.append(seat))
        return dine

    def invariant(s):
        no_errors(s)
        expected = sorted([0, 1, 2] * MEALS_EACH)
        assert sorted(s.meals) == expected, f"eat() was called for seats {sorted(s.meals)}; expected {expected}"
    return (lambda: state(table=impl.Table(3), meals=[]),
            crew(**{f"philosopher_{seat}": philosopher(seat) for seat in range(3)}),
            invariant)


# bounded_buffer


@mirrors("bounded_buffer", "no_item_lost_or_duplicated")
def bounded_buffer_no_item_lost_or_duplicated(impl):
    """test_no_item_lost_or_duplicated: 2 producers, 2 consumers on BoundedBuffer(1); closed once both producers
    are done (by a closer thread, the check's main thread); every item got once."""
    def producer(item, done):
        def put(s):
            try:
                s.buffer.put(item)
            finally:
                s.done[done].set()
        return put

    def consumer(name):
        def get(s):
            while True:
                try:
                    s.received[name].append(s.buffer.get())
                except impl.Closed:
                    return
        return get

    def closer(s):
        for done in s.done:
            done.wait()
        s.buffer.close()

    def invariant(s):
        no_errors(s)
        got = [item for items in s.received.values() for item in items]
        assert collections.Counter(got) == collections.Counter(["p0", "p1"]), (
            f"consumers received {s.received}; expected 'p0' and 'p1', once each")
    return (lambda: state(buffer=impl.BoundedBuffer(1), done=[threading.Event(), threading.Event()],
                          received={"consumer-0": [], "consumer-1": []}),
            crew(producer_0=producer("p0", 0), producer_1=producer("p1", 1),
                 consumer_0=consumer("consumer-0"), consumer_1=consumer("consumer-1"), main=closer),
            invariant)


@mirrors("bounded_buffer", "capacity_never_exceeded")
def bounded_buffer_capacity_never_exceeded(impl):
    """test_capacity_never_exceeded: producer-0 puts 2, producer-1 puts 1, consumer-0 gets 3; len() never over 1."""
    def producer(name, items):
        def put(s):
            for item in items:
                s.buffer.put(item)
                s.seen.append((name, f"put({item!r})", len(s.buffer)))
        return put

    def consumer(s):
        for _ in range(3):
            item = s.buffer.get()
            s.seen.append(("consumer-0", f"get() of {item!r}", len(s.buffer)))

    def invariant(s):
        no_errors(s)
        over = [seen for seen in s.seen if seen[2] > 1]
        assert not over, f"a BoundedBuffer(1) held {over[0][2]} items right after {over[0][0]}'s {over[0][1]}"
    return (lambda: state(buffer=impl.BoundedBuffer(1), seen=[]),
            crew(producer_0=producer("producer-0", ["p0-a", "p0-b"]), producer_1=producer("producer-1", ["p1-a"]),
                 consumer_0=consumer),
            invariant)


@mirrors("bounded_buffer", "no_lost_wakeup")
def bounded_buffer_no_lost_wakeup(impl):
    """test_no_lost_wakeup: consumer-0 and consumer-1 get(), producer-0 and producer-1 put() on BoundedBuffer(1)."""
    def invariant(s):
        no_errors(s)
        assert sorted(s.received.values()) == ["p0", "p1"], f"consumers received {s.received}; expected p0 and p1"
    return (lambda: state(buffer=impl.BoundedBuffer(1), received={}),
            crew(consumer_0=lambda s: s.received.update({"consumer-0": s.buffer.get()}),
                 consumer_1=lambda s: s.received.update({"consumer-1": s.buffer.get()}),
                 producer_0=lambda s: s.buffer.put("p0"), producer_1=lambda s: s.buffer.put("p1")),
            invariant)


@mirrors("bounded_buffer", "close_wakes_blocked_consumers")
def bounded_buffer_close_wakes_blocked_consumers(impl):
    """test_close_wakes_blocked_consumers: consumer-0 and consumer-1 get() on an empty buffer, closer close()s it."""
    def invariant(s):
        no_errors(s)
        for name in ["consumer-0", "consumer-1"]:
            how, what = s.outcomes[name]
            assert how == "raised" and isinstance(what, impl.Closed), f"{name}'s get() {how} {what!r}; expected Closed"
    return (lambda: state(buffer=impl.BoundedBuffer(1), outcomes={}),
            crew(consumer_0=lambda s: s.outcomes.update({"consumer-0": attempt(s.buffer.get)}),
                 consumer_1=lambda s: s.outcomes.update({"consumer-1": attempt(s.buffer.get)}),
                 closer=lambda s: s.buffer.close()),
            invariant)


@mirrors("bounded_buffer", "close_wakes_blocked_producer")
def bounded_buffer_close_wakes_blocked_producer(impl):
    """test_close_wakes_blocked_producer: producer-0 put()s on a full BoundedBuffer(1), closer close()s it."""
    def setup():
        buffer = impl.BoundedBuffer(1)
        buffer.put("first")
        return state(buffer=buffer, outcomes={})

    def invariant(s):
        no_errors(s)
        how, what = s.outcomes["producer-0"]
        assert how == "raised" and isinstance(what, impl.Closed), f"put('second') {how} {what!r}; expected Closed"
        assert len(s.buffer) == 1, f"len() is {len(s.buffer)}; expected 1"
    return (setup,
            crew(producer_0=lambda s: s.outcomes.update({"producer-0": attempt(lambda: s.buffer.put("second"))}),
                 closer=lambda s: s.buffer.close()),
            invariant)


# barrier


@mirrors("barrier", "no_thread_passes_early")
def barrier_no_thread_passes_early(impl):
    """test_no_thread_passes_early: worker-0 and worker-1 each wait() once on Barrier(2); neither returns early."""
    def party(name):
        def wait(s):
            s.arrived.append(name)
            s.barrier.wait()
            if len(s.arrived) < 2:
                s.early.append(name)
        return wait

    def invariant(s):
        no_errors(s)
        assert not s.early, f"{s.early[0]} returned from wait() before the other worker had called wait()"
    return (lambda: state(barrier=impl.Barrier(2), arrived=[], early=[]),
            crew(worker_0=party("worker-0"), worker_1=party("worker-1")),
            invariant)


@mirrors("barrier", "last_arrival_releases_everyone")
def barrier_last_arrival_releases_everyone(impl):
    """test_last_arrival_releases_everyone: worker-0..2 each wait() once on Barrier(3); they get 0, 1 and 2."""
    def party(name):
        return lambda s: s.returned.update({name: s.barrier.wait()})

    def invariant(s):
        no_errors(s)
        assert sorted(s.returned.values()) == [0, 1, 2], f"wait() returned {s.returned}; expected 0, 1 and 2"
    return (lambda: state(barrier=impl.Barrier(3), returned={}),
            crew(**{f"worker_{i}": party(f"worker-{i}") for i in range(3)}),
            invariant)


# fair_lock

HOLD = 0.01  # the check sleeps this long holding the lock; under frontrun a sleep is a zero-time yield


@mirrors("fair_lock", "one_holder_at_a_time")
def fair_lock_one_holder_at_a_time(impl):
    """test_one_holder_at_a_time: worker-0 and worker-1 each acquire(), hold a moment, release(); never both hold."""
    def work(name):
        def hold(s):
            s.lock.acquire()
            s.overlaps.extend((name, other) for other in s.holding)
            s.holding.append(name)
            time.sleep(HOLD)
            s.holding.remove(name)
            s.lock.release()
        return hold

    def invariant(s):
        assert not s.overlaps, f"{s.overlaps[0][0]}'s acquire() returned while {s.overlaps[0][1]} held the lock"
        no_errors(s)
        assert s.lock.locked() is False, f"locked() is {s.lock.locked()!r} after both released; expected False"
    return (lambda: state(lock=impl.FairLock(), holding=[], overlaps=[]),
            crew(worker_0=work("worker-0"), worker_1=work("worker-1")),
            invariant)


def load(path):
    """The implementation at path as a module of its own (as the grader's --impl does)."""
    spec = importlib.util.spec_from_file_location(f"impl_{os.path.basename(path).removesuffix('.py')}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def explore(slug, impl, check, budget):
    """frontrun.explore on one adapted check: (verdict, explanation); verdict is failed, passed or inconclusive."""
    import frontrun

    setup, workers, invariant = ADAPTERS[slug, check](impl)

    def holds(s):  # frontrun wants True; an AssertionError's message goes into its explanation
        invariant(s)
        return True
    result = frontrun.explore(setup=setup, workers=workers, invariant=holds, detect_io=False,
                              total_timeout=budget, deadlock_timeout=budget, timeout_per_run=budget)
    verdict = {False: "failed", True: "passed", None: "inconclusive"}[result.property_holds]
    return verdict, result.explanation or ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slug")
    parser.add_argument("impl")
    parser.add_argument("check")
    parser.add_argument("--budget", type=float, required=True, help="seconds for the exploration")
    parser.add_argument("--explain", action="store_true", help="print frontrun's explanation to stderr")
    args = parser.parse_args()
    os.environ["FRONTRUN_ACTIVE"] = "1"
    impl = load(args.impl)
    started = time.perf_counter()
    verdict, explanation = explore(args.slug, impl, args.check, args.budget)
    spent = time.perf_counter() - started
    if args.explain:
        print(f"{args.check}: {verdict} after {spent:.2f} s\n{explanation}", file=sys.stderr)
    print(json.dumps({"verdict": verdict, "seconds": spent}))


if __name__ == "__main__":
    main()
