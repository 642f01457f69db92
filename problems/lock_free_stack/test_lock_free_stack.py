"""Checks for lock_free_stack. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import ast
import collections
import contextlib
import os
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.checking import Crew, attempt, describe_error, raised, run_threads, said
from grader.sched import AtomicReference, explore


def filled(impl, items):
    """A new stack with items pushed in order (the last one on top)."""
    stack = impl.LockFreeStack()
    for item in items:
        stack.push(item)
    return stack


def drain(stack, limit):
    """Pop until IndexError (at most limit times): the items popped, and whether IndexError ended it."""
    __tracebackhide__ = True
    items = []
    while len(items) < limit:
        outcome = attempt(stack.pop)
        if raised(outcome, IndexError):
            return items, True
        if outcome[0] == "raised":
            raise outcome[1]
        items.append(outcome[1])
    return items, False


def listing(items):
    return "[" + ", ".join(map(repr, items)) + "]"


# Sequential checks: one thread, each call's result.

POP = ("pop",)
operations = st.lists(st.one_of(st.tuples(st.just("push"), st.integers(0, 5) | st.none()), st.just(POP)), max_size=25)


@pytest.mark.points(1)
@pytest.mark.hint("push() puts a node on top that links to the old top; pop() takes the top node and makes the one below it the new top")
def test_lifo_order(impl):
    """Called one at a time, pop() returns the most recently pushed item not yet popped, and raises IndexError when there is none."""
    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(operations)
    def run(ops):
        stack = impl.LockFreeStack()
        model = []
        calls = []
        for op in ops:
            if op[0] == "push":
                calls.append(f"push({op[1]!r})")
                outcome = attempt(lambda: stack.push(op[1]))
                assert outcome[0] == "returned", f"{', '.join(calls)}: the last push {said(impl, outcome)}"
                model.append(op[1])
                continue
            calls.append("pop()")
            outcome = attempt(stack.pop)
            expected = ("returned", model.pop()) if model else None
            if expected is None:
                assert raised(outcome, IndexError), (
                    f"on a new stack, {', '.join(calls)}: the last pop() {said(impl, outcome)}; "
                    "expected IndexError (every item pushed had been popped)"
                )
            else:
                assert outcome == expected, (
                    f"on a new stack, {', '.join(calls)}: the last pop() {said(impl, outcome)}; "
                    f"expected {expected[1]!r}, the most recently pushed item not yet popped"
                )
    try:
        run()
    except AssertionError as exc:
        raise AssertionError(str(exc)) from None   # the message names the calls; Hypothesis's notes would repeat them


@pytest.mark.points(1)
@pytest.mark.hint("an empty stack has no item to return: raise IndexError rather than return None or another placeholder")
def test_pop_empty_raises_index_error(impl):
    """pop() on an empty stack raises IndexError, and a pushed None is an item like any other."""
    stack = impl.LockFreeStack()
    outcome = attempt(stack.pop)
    assert raised(outcome, IndexError), f"pop() on a new stack {said(impl, outcome)}; expected IndexError"
    stack.push(None)
    outcome = attempt(stack.pop)
    assert outcome == ("returned", None), f"after push(None), pop() {said(impl, outcome)}; expected None (the item)"
    outcome = attempt(stack.pop)
    assert raised(outcome, IndexError), (
        f"after push(None) and pop(), pop() on the empty stack {said(impl, outcome)}; expected IndexError"
    )


# No locks: read from the source, then proved by the progress check below.

FORBIDDEN_MODULES = {"threading", "_thread", "queue", "multiprocessing", "asyncio", "concurrent", "importlib"}
FORBIDDEN_NAMES = {"Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Event", "Barrier", "deque",
                   "__import__"}


def lock_uses(path):
    """(line, what) for each import of a locking module and each use of a lock's name in the file."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"imports {a.name}") for a in node.names
                      if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in FORBIDDEN_MODULES:
            found.append((node.lineno, f"imports from {node.module}"))
        elif isinstance(node, ast.ImportFrom) and node.module == "collections":
            found += [(node.lineno, f"imports collections.{a.name}") for a in node.names if a.name == "deque"]
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append((node.lineno, f"uses {node.id}"))
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            found.append((node.lineno, f"uses .{node.attr}"))
    return sorted(set(found))


@pytest.mark.points(1)
@pytest.mark.hint("keep the top of the stack in an AtomicReference and change it only with compare_and_set(); delete the lock")
def test_no_locks(impl):
    """The stack works and its file uses no lock, condition, semaphore, event, queue or deque."""
    stack = impl.LockFreeStack()
    stack.push("a")
    outcome = attempt(stack.pop)
    assert outcome == ("returned", "a"), f"after push('a'), pop() {said(impl, outcome)}; expected 'a'"
    name = os.path.basename(impl.__file__)
    found = lock_uses(impl.__file__)
    assert not found, (
        "a lock-free stack uses no locks, but "
        + "; ".join(f"{name}:{line} {what}" for line, what in found)
        + ". Allowed: AtomicReference from grader.sched, and objects nobody changes once they are shared"
    )


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(2)
@pytest.mark.hint("get() then set() lets another push land in between and be overwritten: install the new top with compare_and_set() and retry if it fails")
def test_no_lost_push(impl):
    """Items pushed by concurrent threads are all there to pop afterwards."""
    def scenario():
        stack = impl.LockFreeStack()
        run_threads(impl, {"pusher-0": lambda: stack.push("a"), "pusher-1": lambda: stack.push("b")})
        popped, emptied = drain(stack, 3)
        lost = [x for x in ["a", "b"] if x not in popped]
        assert sorted(popped) == ["a", "b"] and emptied, (
            f"into an empty stack, pusher-0 pushed 'a' and pusher-1 pushed 'b' at the same time; popping until "
            f"IndexError then returned {listing(popped)}; expected 'a' and 'b', one each"
            + (f". Lost: {listing(lost)}" if lost else "")
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("only the pop() whose compare_and_set() removed a node may return its item: a plain set() lets two pops take the same top")
def test_no_item_popped_twice(impl):
    """Two concurrent pop() calls never return the same pushed item."""
    def scenario():
        stack = filled(impl, ["a", "b"])
        got = {}
        run_threads(impl, {
            "popper-0": lambda: got.update({"popper-0": attempt(stack.pop)}),
            "popper-1": lambda: got.update({"popper-1": attempt(stack.pop)}),
        })
        values = sorted((what for how, what in got.values() if how == "returned"), key=repr)
        assert values == ["a", "b"], (
            "the stack held ['a', 'b'] ('b' on top); popper-0 and popper-1 each called pop() once: "
            f"popper-0's pop() {said(impl, got['popper-0'])}, popper-1's pop() {said(impl, got['popper-1'])}; "
            "expected 'b' and 'a', one each"
            + ("; the stack was never empty while they ran" if any(how == "raised" for how, _ in got.values()) else "")
        )
        popped, emptied = drain(stack, 2)
        assert popped == [] and emptied, (
            f"after both items were popped, the stack still gave {listing(popped)}; expected it to be empty"
        )
    explore(scenario)


class Call:
    """One call in a history: who made it, what it was, what happened, and when it started and returned."""

    def __init__(self, thread, name, arg=None):
        self.thread, self.name, self.arg = thread, name, arg
        self.outcome = self.start = self.end = None

    def __str__(self):
        return f"push({self.arg!r})" if self.name == "push" else "pop()"

    def result(self, impl):
        how, what = self.outcome
        if self.name == "push" and how == "returned":
            return "returned"
        return "raised IndexError" if how == "raised" and isinstance(what, IndexError) else said(impl, self.outcome)


class History:
    """Records the calls made on one stack, in the order they start and return."""

    def __init__(self, impl, stack):
        self.impl, self.stack = impl, stack
        self.events = []  # (kind, call) with kind "start" or "end"
        self.calls = []

    def run(self, thread, op):
        __tracebackhide__ = True
        call = Call(thread, *op)
        self.calls.append(call)
        call.start = len(self.events)
        self.events.append(("start", call))
        call.outcome = attempt(lambda: self.stack.push(call.arg) if call.name == "push" else self.stack.pop())
        call.end = len(self.events)
        self.events.append(("end", call))
        if call.outcome[0] == "raised" and not (call.name == "pop" and isinstance(call.outcome[1], IndexError)):
            raise call.outcome[1]
        return call.outcome

    def timeline(self):
        lines = []
        for kind, call in self.events:
            if kind == "start" and call.end == call.start + 1:
                lines.append(f"{call.thread}: {call} {call.result(self.impl)}")
            elif kind == "start":
                lines.append(f"{call.thread}: {call} starts")
            elif call.end != call.start + 1:
                lines.append(f"{call.thread}: {call} {call.result(self.impl)}")
        return lines


def apply(stack, call):
    """The stack after call, if a sequential stack holding `stack` gives call's outcome; else None."""
    how, what = call.outcome
    if call.name == "push":
        return stack + (call.arg,) if how == "returned" else None
    if not stack:
        return stack if how == "raised" and isinstance(what, IndexError) else None
    return stack[:-1] if how == "returned" and what == stack[-1] else None


def linearizes(initial, calls):
    """Whether some order of calls, each at one instant between its start and end, fits a sequential stack (Wing & Gong)."""
    failed = set()

    def search(done, stack):
        if len(done) == len(calls):
            return True
        if (done, stack) in failed:
            return False
        pending = [i for i in range(len(calls)) if i not in done]
        first_end = min(calls[i].end for i in pending)
        for i in pending:
            if calls[i].start > first_end:  # another pending call returned before this one started
                continue
            after = apply(stack, calls[i])
            if after is not None and search(done | {i}, after):
                return True
        failed.add((done, stack))
        return False

    return search(frozenset(), tuple(initial))


def diagnosis(initial, history, emptied):
    """One sentence on what went wrong, in the stack's terms."""
    calls = history.calls
    pushed = collections.Counter(initial) + collections.Counter(c.arg for c in calls if c.name == "push")
    popped = collections.Counter(c.outcome[1] for c in calls if c.name == "pop" and c.outcome[0] == "returned")
    twice = sorted(x for x in popped if popped[x] > pushed[x])
    if twice:
        pronoun = "it" if len(twice) == 1 else "they"
        return f"{', '.join(map(repr, twice))} came out more often than {pronoun} went in: popped twice"
    lost = sorted(x for x in pushed if popped[x] < pushed[x])
    if lost and emptied:
        return (f"{', '.join(map(repr, lost))} went in and never came out, yet the last pop() found the stack empty: "
                f"{'it was' if len(lost) == 1 else 'they were'} lost")
    for call in calls:
        if call.name == "pop" and call.outcome[0] == "raised":
            rest = [c for c in calls if c is not call]
            if linearizes(initial, rest):
                return (f"{call.thread}'s pop() raised IndexError, but the stack held an item during the whole call: "
                        "a pop() may only report empty if the stack was empty at some instant while it ran")
    return "the items came out in an order no stack gives"


def check_linearizable(impl, initial, programs):
    """Run each thread's calls on a stack holding initial, under many interleavings; then pop it empty."""
    __tracebackhide__ = True
    pushes = sum(1 for ops in programs.values() for op in ops if op[0] == "push")

    def scenario():
        stack = filled(impl, initial)
        history = History(impl, stack)
        run_threads(impl, {name: (lambda ops=ops, name=name: [history.run(name, op) for op in ops])
                           for name, ops in programs.items()})
        emptied = False
        for _ in range(len(initial) + pushes + 1):
            if raised(history.run("main", POP), IndexError):
                emptied = True
                break
        if not linearizes(initial, history.calls):
            raise AssertionError(
                f"no order of these calls explains their results; the stack started as {listing(initial)} "
                "(bottom first), each call must take effect at one instant between its start and its return, and main "
                "pops the stack empty once the other threads are done:\n"
                + "\n".join(f"  {line}" for line in history.timeline())
                + f"\n{diagnosis(initial, history, emptied)}"
            )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("a thread may publish a node only once it is complete, and a failed compare_and_set() means: read the top again and retry, never give up")
def test_linearizable(impl):
    """Concurrent push() and pop() calls behave as if each took effect at one instant between its start and its return."""
    check_linearizable(impl, ["a"], {"pusher": [("push", "b")], "popper": [POP]})
    check_linearizable(impl, ["a", "b"], {"popper-0": [POP], "popper-1": [POP], "pusher": [("push", "c")]})
    check_linearizable(impl, ["a"], {"worker-0": [("push", "b"), POP], "worker-1": [POP, ("push", "c")]})


# Lock-freedom: a thread stopped inside a call must not stop another.

STALL = 60.0        # virtual seconds a stopped thread waits before it goes on anyway
SPIN_LIMIT = 50     # AtomicReference calls another thread may make for one call while one is stopped


class Stall:
    """Stops the thread `victim` just before its k-th AtomicReference call, until `other` has finished."""

    active = None

    def __init__(self, victim, other, k):
        self.victim, self.other, self.k = victim, other, k
        self.calls = {victim: 0, other: 0}
        self.stopped_or_done = threading.Event()
        self.go_on = threading.Event()
        self.victim_done = threading.Event()
        self.stopped = False
        self.waited = False   # the other thread blocked until the victim went on
        self.spun = False     # the other thread kept calling AtomicReference until the victim went on

    def before_call(self):
        name = threading.current_thread().name
        if name not in self.calls:
            return
        self.calls[name] += 1
        if name == self.victim and self.calls[name] == self.k:
            self.stopped = True
            self.stopped_or_done.set()
            if not self.go_on.wait(timeout=STALL):
                self.waited = True
        elif name == self.other and self.calls[name] > SPIN_LIMIT and not self.go_on.is_set():
            self.spun = True
            self.go_on.set()
            self.victim_done.wait(timeout=STALL)


@contextlib.contextmanager
def watching_atomic_calls():
    """While active, every AtomicReference get/set/compare_and_set first calls Stall.active.before_call()."""
    originals = {name: getattr(AtomicReference, name) for name in ("get", "set", "compare_and_set")}

    def watched(method):
        def call(self, *args):
            if Stall.active is not None:
                Stall.active.before_call()
            return method(self, *args)
        return call

    for name, method in originals.items():
        setattr(AtomicReference, name, watched(method))
    try:
        yield
    finally:
        for name, method in originals.items():
            setattr(AtomicReference, name, method)
        Stall.active = None


def check_progress(impl, initial, victim, victim_call, other, other_call):
    """For k = 1, 2, ...: stop victim before its k-th AtomicReference call; other must still finish its call."""
    __tracebackhide__ = True
    describe = {"push": lambda item: f"push({item!r})", "pop": lambda: "pop()"}
    victim_text, other_text = describe[victim_call[0]](*victim_call[1:]), describe[other_call[0]](*other_call[1:])
    outcomes = {}  # results are the other checks' business; here only finishing counts

    def call(stack, name, op):
        outcome = outcomes[name] = attempt(lambda: getattr(stack, op[0])(*op[1:]))
        if outcome[0] == "raised" and not raised(outcome, IndexError):
            raise outcome[1]

    def scenario(k, reached):
        stack = filled(impl, initial)
        stall = Stall.active = Stall(victim, other, k)

        def victim_body():
            try:
                call(stack, victim, victim_call)
            finally:
                stall.victim_done.set()
                stall.stopped_or_done.set()

        crew = Crew(impl, {victim: victim_body})
        stall.stopped_or_done.wait()
        if not stall.stopped:
            crew.join().check()
            assert stall.calls[victim] > 0, (
                f"{victim}'s {victim_text} made no AtomicReference call: "
                "the stack's changing state must live in AtomicReference objects"
            )
            return
        reached.append(k)
        Crew(impl, {other: lambda: call(stack, other, other_call)}).join().check()
        stall.go_on.set()
        crew.join().check()
        what = (f"the stack held {listing(initial)} (bottom first); {victim} was stopped inside {victim_text}, "
                f"just before its AtomicReference call number {k}. Meanwhile {other}'s {other_text}")
        assert not stall.waited, (
            f"{what} could not finish: it waited until {victim} went on. In a lock-free stack a stopped "
            "thread never holds up the others, so there is nothing to wait for"
        )
        assert not stall.spun, (
            f"{what} made {SPIN_LIMIT} AtomicReference calls without finishing, spinning until {victim} went on. "
            "A flag that others spin on while you hold it is a lock: a stopped thread holding it stops everyone"
        )

    with watching_atomic_calls():
        for k in range(1, 100):
            reached = []
            explore(lambda: scenario(k, reached), schedules=1)
            if not reached:  # the victim's call finished before its k-th AtomicReference call
                return


@pytest.mark.points(2)
@pytest.mark.hint("never make one thread wait or spin for another to finish: read the top, build on it, compare_and_set(), and retry on failure")
def test_lock_free_progress(impl):
    """A thread stopped anywhere inside push() or pop() does not stop another thread from finishing its own call."""
    check_progress(impl, ["a"], "pusher-0", ("push", "b"), "popper-1", ("pop",))
    check_progress(impl, ["a"], "popper-0", ("pop",), "pusher-1", ("push", "c"))


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_THREADS, STRESS_ITEMS, STRESS_TIMEOUT = 4, 300, 20


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """4 real threads push 300 items each, then pop until empty: every item comes out once, each pusher's newest first."""
    stack = impl.LockFreeStack()
    barrier = threading.Barrier(STRESS_THREADS)
    popped = {f"worker-{t}": [] for t in range(STRESS_THREADS)}
    never_empty = []
    errors = {}
    total = STRESS_THREADS * STRESS_ITEMS

    def work(t, mine):
        try:
            for n in range(STRESS_ITEMS):
                stack.push((t, n))
            barrier.wait(STRESS_TIMEOUT)
            items, emptied = drain(stack, total + 1)
            mine.extend(items)
            if not emptied:
                never_empty.append((f"worker-{t}", items[-1]))
        except Exception as exc:
            errors[f"worker-{t}"] = exc

    threads = [threading.Thread(target=work, args=(t, popped[f"worker-{t}"]), name=f"worker-{t}", daemon=True)
               for t in range(STRESS_THREADS)]
    deadline = time.monotonic() + STRESS_TIMEOUT
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    running = [t.name for t in threads if t.is_alive()]
    assert not running, f"threads still running after {STRESS_TIMEOUT} s: {', '.join(running)}"
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    if never_empty:
        name, last = never_empty[0]
        raise AssertionError(
            f"{name} called pop() {total + 1} times, once more than the {total} items pushed, and never got "
            f"IndexError; its last pop() returned {last!r}"
        )
    pushed = [(t, n) for t in range(STRESS_THREADS) for n in range(STRESS_ITEMS)]
    got = [item for items in popped.values() for item in items]
    counts = collections.Counter(got)
    if counts != collections.Counter(pushed):
        problems = {
            "never popped": [x for x in pushed if counts[x] == 0],
            "popped twice": [x for x in pushed if counts[x] > 1],
            "never pushed": sorted(set(counts) - set(pushed), key=repr),
        }
        raise AssertionError(
            f"{STRESS_THREADS} threads each pushed {STRESS_ITEMS} items (thread, n), then all popped until IndexError; "
            f"they popped {len(got)} item{'s' if len(got) != 1 else ''}. "
            + "; ".join(f"{what}: {listing(xs) if len(xs) <= 10 else f'{len(xs)}, such as {listing(xs[:5])}'}"
                        for what, xs in problems.items() if xs)
        )
    for name, items in popped.items():
        for t in range(STRESS_THREADS):
            mine = [n for p, n in items if p == t]
            assert mine == sorted(mine, reverse=True), (
                f"{name} popped worker-{t}'s items in the order {mine[:10]}...; with no push running, a stack hands "
                "out each pusher's items newest first"
            )
