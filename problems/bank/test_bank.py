"""Checks for bank. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import linecache
import os
import random
import sys
import threading
import time

import pytest

from grader.checking import attempt, describe_error, raised, run_threads, said
from grader.sched import explore


def balances(bank, n):
    return [bank.balance(i) for i in range(n)]


def alone(body):
    """Run body once, in one thread, under the scheduler: a call that waits for itself is reported, not hung."""
    __tracebackhide__ = True
    explore(body, schedules=1)


# Sequential checks: one thread, each call's result.


@pytest.mark.points(1)
@pytest.mark.hint("take amount from src and add it to dst; a transfer of the whole balance is allowed (refuse only when balance < amount)")
def test_transfer_moves_money(impl):
    """transfer(src, dst, amount) moves amount from src to dst (the whole balance too), and total() is the sum of the balances."""
    start = [100, 50, 0]
    bank = impl.Bank(start)
    start[0] = 1000
    seen = balances(bank, 3)
    assert seen == [100, 50, 0], (
        f"Bank([100, 50, 0]) has balances {seen}, after the caller changed its own list to [1000, 50, 0]; "
        "expected [100, 50, 0]: keep your own copy of the list"
    )
    steps = [((0, 1, 30), [70, 80, 0]), ((1, 2, 80), [70, 0, 80]), ((0, 2, 70), [0, 0, 150])]
    done = []
    for args, expected in steps:
        outcome = attempt(lambda: bank.transfer(*args))
        done.append(f"transfer{args}")
        assert outcome[0] == "returned", (
            f"on Bank([100, 50, 0]), {', '.join(done)}: the last one {said(impl, outcome)}; "
            f"expected it to move the money (it leaves {expected})"
        )
        seen = balances(bank, 3)
        assert seen == expected, (
            f"on Bank([100, 50, 0]), after {', '.join(done)}, balances are {seen}; expected {expected}"
        )
    total = bank.total()
    assert total == 150, f"on Bank([100, 50, 0]), after {', '.join(done)}, total() is {total!r}; expected 150"
    assert impl.Bank([]).total() == 0, f"Bank([]).total() is {impl.Bank([]).total()!r}; expected 0"


@pytest.mark.points(1)
@pytest.mark.hint("check both account numbers (0 <= account < number of accounts), that src != dst and that amount > 0, before touching any balance")
def test_rejects_bad_arguments(impl):
    """transfer() raises ValueError and changes nothing for a bad account, src == dst or an amount of 0 or less; so does balance() for a bad account."""
    def body():
        bank = impl.Bank([100, 50, 0])
        cases = [
            ((3, 0, 10), "there is no account 3"),
            ((0, 3, 10), "there is no account 3"),
            ((-1, 0, 10), "there is no account -1"),
            ((0, -1, 10), "there is no account -1"),
            ((1, 1, 10), "src and dst are the same account"),
            ((0, 1, 0), "the amount must be positive"),
            ((0, 1, -5), "the amount must be positive"),
        ]
        for args, why in cases:
            outcome = attempt(lambda: bank.transfer(*args))
            after = balances(bank, 3)
            assert raised(outcome, ValueError), (
                f"on Bank([100, 50, 0]), transfer{args} {said(impl, outcome)}; expected ValueError: {why}"
                + (f". Balances are now {after}" if after != [100, 50, 0] else "")
            )
            assert after == [100, 50, 0], (
                f"on Bank([100, 50, 0]), transfer{args} raised ValueError but left balances {after}; "
                "expected [100, 50, 0]: a refused transfer changes nothing"
            )
        for account in (3, -1):
            outcome = attempt(lambda: bank.balance(account))
            assert raised(outcome, ValueError), (
                f"on Bank([100, 50, 0]), balance({account}) {said(impl, outcome)}; "
                f"expected ValueError: there is no account {account}"
            )
    alone(body)


@pytest.mark.points(1)
@pytest.mark.hint("check the balance before changing anything; InsufficientFunds must leave both accounts as they were")
def test_insufficient_funds_changes_nothing(impl):
    """transfer() raises InsufficientFunds, and changes neither balance, when src holds less than amount."""
    bank = impl.Bank([100, 50, 0])
    for args in [(1, 0, 51), (2, 0, 1)]:
        outcome = attempt(lambda: bank.transfer(*args))
        after = balances(bank, 3)
        assert raised(outcome, impl.InsufficientFunds), (
            f"on Bank([100, 50, 0]), transfer{args} {said(impl, outcome)}; expected InsufficientFunds: "
            f"account {args[0]} holds {[100, 50, 0][args[0]]}"
            + (f". Balances are now {after}" if after != [100, 50, 0] else "")
        )
        assert after == [100, 50, 0], (
            f"on Bank([100, 50, 0]), transfer{args} raised InsufficientFunds but left balances {after}; "
            "expected [100, 50, 0]: a refused transfer changes nothing"
        )


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(3)
@pytest.mark.hint("`balance += amount` is a read, an add and a write: hold the lock of every account you change across the whole transfer")
def test_money_conserved(impl):
    """Concurrent transfers never lose or make up money: each account ends where the transfers, one at a time, leave it."""
    def scenario():
        bank = impl.Bank([100, 100, 100])
        run_threads(impl, {
            "teller-0": lambda: bank.transfer(0, 1, 10),
            "teller-1": lambda: bank.transfer(2, 1, 20),
        })
        seen = balances(bank, 3)
        assert seen == [90, 130, 80], (
            f"on Bank([100, 100, 100]), teller-0 called transfer(0, 1, 10) and teller-1 called transfer(2, 1, 20) "
            f"at the same time; balances are {seen} (total {sum(seen)}), expected [90, 130, 80] (total 300)"
        )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("check the balance and take the money under the same lock: checking first and locking afterwards lets two transfers both pass the check")
def test_no_overdraft(impl):
    """Of two concurrent transfers that together would overdraw an account, one raises InsufficientFunds; no balance goes below zero."""
    def scenario():
        bank = impl.Bank([100, 0, 0])
        outcomes = {}
        run_threads(impl, {
            "teller-0": lambda: outcomes.update({"teller-0": attempt(lambda: bank.transfer(0, 1, 60))}),
            "teller-1": lambda: outcomes.update({"teller-1": attempt(lambda: bank.transfer(0, 2, 60))}),
        })
        seen = balances(bank, 3)
        def what_each_did():
            return " and ".join(f"{name}'s transfer {said(impl, outcomes[name])}" for name in ["teller-0", "teller-1"])

        setup = ("on Bank([100, 0, 0]), teller-0 called transfer(0, 1, 60) and teller-1 called transfer(0, 2, 60) "
                 "at the same time")
        assert seen[0] >= 0, (
            f"{setup}; {what_each_did()}, and account 0 went to {seen[0]} (balances {seen}). Expected no balance "
            "below zero: 100 does not cover 60 twice, so one transfer must raise InsufficientFunds and change nothing"
        )
        refused = [name for name, outcome in outcomes.items() if raised(outcome, impl.InsufficientFunds)]
        done = [name for name, outcome in outcomes.items() if outcome[0] == "returned"]
        assert len(refused) == 1 and len(done) == 1, (
            f"{setup}; {what_each_did()}. "
            "Expected one to return and the other to raise InsufficientFunds"
        )
        expected = [40, 60, 0] if done == ["teller-0"] else [40, 0, 60]
        assert seen == expected, (
            f"{setup}; {done[0]}'s transfer went through and balances are {seen}; expected {expected}"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("total() must see every account at one moment: hold every account's lock (taken in the same order as transfer() takes them) while summing")
def test_total_is_consistent(impl):
    """total() always equals the initial total, even while transfers run."""
    def scenario():
        bank = impl.Bank([100, 100, 100])
        seen = {}
        run_threads(impl, {
            "teller": lambda: bank.transfer(0, 2, 10),
            "auditor": lambda: seen.update({"total": bank.total()}),
        })
        assert seen["total"] == 300, (
            f"on Bank([100, 100, 100]), auditor called total() while teller called transfer(0, 2, 10); total() "
            f"returned {seen['total']}, expected 300: money is only moved, never made or lost"
        )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("take the two accounts' locks in one global order (say, the lower account number first), not source then destination")
def test_opposite_transfers_do_not_deadlock(impl):
    """Transfers in opposite directions, or around a cycle of accounts, all finish: they never wait for each other forever."""
    def scenario(accounts):
        bank = impl.Bank([100] * accounts)
        calls = {f"teller-{i}": (i, (i + 1) % accounts, 10 * (i + 1)) for i in range(accounts)}
        run_threads(impl, {name: (lambda args=args: bank.transfer(*args)) for name, args in calls.items()})
        expected = [100 - 10 * (i + 1) + 10 * ((i - 1) % accounts + 1) for i in range(accounts)]
        seen = balances(bank, accounts)
        assert seen == expected, (
            f"on Bank({[100] * accounts}), "
            + ", ".join(f"{name} called transfer{args}" for name, args in calls.items())
            + f" at the same time; balances are {seen}, expected {expected}"
        )
    explore(scenario, sizes=(2, 3))


# Parallelism: Money makes the two transfers take turns computing with money, so both must be inside
# transfer() at once. A lock shared by every transfer then keeps one of them out until the other has
# returned, and the waiting one gives up after PATIENCE virtual seconds (no real time passes).

PATIENCE = 1.0


class Lockstep:
    """Each named thread, at its n-th use of Money, waits until the other has used Money n times too (or finished)."""

    def __init__(self, impl, names):
        self.impl = impl
        self.names = names
        self.turn = threading.Condition()
        self.uses = dict.fromkeys(names, 0)
        self.finished = dict.fromkeys(names, False)
        self.threads = {}
        self.stuck = None   # (thread that gave up, where it was, the other thread, where that one was)

    def use(self):
        me = threading.current_thread().name
        if me not in self.uses or self.stuck:
            return
        other = next(name for name in self.names if name != me)
        with self.turn:
            self.uses[me] += 1
            self.turn.notify_all()
            mine = self.uses[me]
            if not self.turn.wait_for(lambda: self.finished[other] or self.uses[other] >= mine or self.stuck,
                                      timeout=PATIENCE) and not self.stuck:
                self.stuck = (me, self._site(threading.current_thread()), other, self._site(self.threads.get(other)))

    def run(self, body):
        self.threads[threading.current_thread().name] = threading.current_thread()
        try:
            body()
        finally:
            with self.turn:
                self.finished[threading.current_thread().name] = True
                self.turn.notify_all()

    def _site(self, thread):
        """`bank.py:31 `with self._lock:`` for the innermost frame of thread in the student's file."""
        frame = sys._current_frames().get(thread.ident) if thread is not None else None
        target = os.path.abspath(self.impl.__file__)
        while frame is not None:
            if os.path.abspath(frame.f_code.co_filename) == target:
                text = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
                return f"{os.path.basename(target)}:{frame.f_lineno} `{text}`"
            frame = frame.f_back
        return "an unknown place"


def _money_method(name):
    plain = getattr(int, name)

    def method(self, *args):
        self._lockstep.use()
        return plain(self, *args)
    method.__name__ = name
    return method


class Money(int):
    """An int that, in a Lockstep thread, waits for the other thread at each use (an arithmetic, a comparison)."""

    def __new__(cls, value, lockstep):
        money = super().__new__(cls, value)
        money._lockstep = lockstep
        return money


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__neg__", "__abs__",
              "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "__bool__", "__int__", "__index__"):
    setattr(Money, _name, _money_method(_name))


@pytest.mark.points(2)
@pytest.mark.hint("one lock for the whole bank makes every transfer wait for every other: give each account its own lock")
def test_disjoint_transfers_run_in_parallel(impl):
    """transfer(0, 1, ...) and transfer(2, 3, ...) can be inside transfer() at the same time: neither waits for the other."""
    def scenario():
        lockstep = Lockstep(impl, ["teller-0", "teller-1"])
        bank = impl.Bank([Money(100, lockstep) for _ in range(4)])
        run_threads(impl, {
            "teller-0": lambda: lockstep.run(lambda: bank.transfer(0, 1, Money(10, lockstep))),
            "teller-1": lambda: lockstep.run(lambda: bank.transfer(2, 3, Money(20, lockstep))),
        })
        if lockstep.stuck:
            me, mine, other, theirs = lockstep.stuck
            calls = {"teller-0": "transfer(0, 1, 10)", "teller-1": "transfer(2, 3, 20)"}
            raise AssertionError(
                f"on Bank([100, 100, 100, 100]), teller-0 called transfer(0, 1, 10) and teller-1 called "
                f"transfer(2, 3, 20): different accounts, yet they could not run at the same time. {me} was inside "
                f"{calls[me]} at {mine}, and {other} waited at {theirs} until {me} returned. Transfers between "
                "different accounts must not wait for each other"
            )
        seen = [int(b) for b in balances(bank, 4)]
        assert seen == [90, 110, 80, 120], (
            f"on Bank([100, 100, 100, 100]), teller-0 called transfer(0, 1, 10) and teller-1 called "
            f"transfer(2, 3, 20); balances are {seen}, expected [90, 110, 80, 120]"
        )
    # A lock shared by both transfers fails every schedule (Lockstep forces the overlap), so fewer
    # schedules lose nothing; each one costs several thread handoffs per use of Money.
    explore(scenario, schedules=50)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_TELLERS, STRESS_TRANSFERS, STRESS_ACCOUNTS, STRESS_AUDITS, STRESS_TIMEOUT = 4, 500, 4, 200, 20


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """4 real threads making 500 random transfers each between 4 accounts, while an auditor calls total(): money is conserved and no account goes below zero."""
    start = [100] * STRESS_ACCOUNTS
    bank = impl.Bank(start)
    errors = {}
    wrong_totals = []
    go = threading.Event()   # every thread starts at once, so that they overlap

    def teller(n):
        rng = random.Random(n)
        for _ in range(STRESS_TRANSFERS):
            src, dst = rng.sample(range(STRESS_ACCOUNTS), 2)
            try:
                bank.transfer(src, dst, rng.randint(1, 60))
            except impl.InsufficientFunds:
                pass

    def auditor():
        for _ in range(STRESS_AUDITS):
            total = bank.total()
            if total != sum(start):
                wrong_totals.append(total)

    def guarded(name, body):
        def run():
            go.wait()
            try:
                body()
            except Exception as exc:
                errors[name] = exc
        return run

    threads = [threading.Thread(target=guarded(f"teller-{n}", lambda n=n: teller(n)), name=f"teller-{n}", daemon=True)
               for n in range(STRESS_TELLERS)]
    threads.append(threading.Thread(target=guarded("auditor", auditor), name="auditor", daemon=True))
    deadline = time.monotonic() + STRESS_TIMEOUT
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    running = [t.name for t in threads if t.is_alive()]
    assert not running, (
        f"threads still running after {STRESS_TIMEOUT} s: {', '.join(running)} (a deadlock: transfers in opposite "
        "directions waiting for each other?)"
    )
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    seen = balances(bank, STRESS_ACCOUNTS)
    assert sum(seen) == sum(start) and min(seen) >= 0, (
        f"after {STRESS_TELLERS} threads made {STRESS_TRANSFERS} transfers each between {STRESS_ACCOUNTS} accounts "
        f"starting at {start}, balances are {seen} (total {sum(seen)}); expected a total of {sum(start)} and no "
        "balance below zero"
    )
    assert not wrong_totals, (
        f"while transfers ran, total() returned {sorted(set(wrong_totals))[:5]}; expected {sum(start)} every time"
    )
