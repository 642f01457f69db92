"""Checks for bounded_buffer. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import collections
import threading
import time

import pytest

from grader.checking import Crew, attempt, describe_error, raised, run_threads, said
from grader.sched import explore

SHORT = 0.05  # seconds; a timeout that must expire, kept short so the sequential checks are fast with real time


def contents(buffer, limit=10):
    """Everything get(timeout=SHORT) hands back until it stops (for failure messages)."""
    items = []
    while len(items) < limit:
        how, what = attempt(lambda: buffer.get(timeout=SHORT))
        if how == "raised":
            break
        items.append(what)
    return items


# Sequential checks: one thread, each call's result.


@pytest.mark.points(1)
@pytest.mark.hint("a full buffer holds exactly capacity items: wait while len(items) >= capacity")
def test_capacity(impl):
    """A buffer holds at most capacity items, and a capacity below 1 is refused with ValueError."""
    for bad in (0, -1):
        outcome = attempt(lambda: impl.BoundedBuffer(bad))
        assert raised(outcome, ValueError), (
            f"BoundedBuffer({bad}) " + ("was accepted" if outcome[0] == "returned" else said(impl, outcome))
            + "; expected ValueError: a buffer must hold at least 1 item"
        )
    for capacity in (1, 3):
        buffer = impl.BoundedBuffer(capacity)
        for i in range(capacity):
            outcome = attempt(lambda: buffer.put(i, timeout=SHORT))
            assert outcome[0] == "returned", (
                f"BoundedBuffer({capacity}) holding {i} item(s): put({i}, timeout={SHORT}) {said(impl, outcome)}; "
                "expected it to go in at once"
            )
        outcome = attempt(lambda: buffer.put("one too many", timeout=SHORT))
        assert raised(outcome, TimeoutError), (
            f"BoundedBuffer({capacity}) already held {capacity} item(s), and put('one too many', timeout={SHORT}) "
            + ("went in" if outcome[0] == "returned" else said(impl, outcome))
            + "; expected TimeoutError: the buffer is full"
        )
        assert len(buffer) == capacity, f"a full BoundedBuffer({capacity}) reports len() == {len(buffer)}; expected {capacity}"


@pytest.mark.points(2)
@pytest.mark.hint("put() must wait for room; never drop or overwrite an item to make some")
def test_put_waits_when_full(impl):
    """put() on a full buffer waits for room (here, until its timeout) instead of dropping or overwriting an item."""
    buffer = impl.BoundedBuffer(2)
    buffer.put("a")
    buffer.put("b")
    outcome = attempt(lambda: buffer.put("c", timeout=SHORT))
    if outcome[0] == "returned":
        left = contents(buffer)
        lost = [x for x in ["a", "b"] if x not in left]
        raise AssertionError(
            f"put('c', timeout={SHORT}) on a full BoundedBuffer(2) holding ['a', 'b'] returned at once; "
            f"expected it to wait and raise TimeoutError. The buffer then gave back {left}"
            + (f": {', '.join(map(repr, lost))} was dropped" if lost else "")
        )
    assert raised(outcome, TimeoutError), (
        f"put('c', timeout={SHORT}) on a full BoundedBuffer(2) {said(impl, outcome)}; expected TimeoutError"
    )
    left = contents(buffer)
    assert left == ["a", "b"], f"after a put('c') that timed out, the buffer gave back {left}; expected ['a', 'b']"


@pytest.mark.points(2)
@pytest.mark.hint("get() must wait for an item (or its timeout), never return a placeholder such as None")
def test_get_waits_when_empty(impl):
    """get() on an empty buffer waits for an item (here, until its timeout) instead of returning a placeholder."""
    buffer = impl.BoundedBuffer(2)
    outcome = attempt(lambda: buffer.get(timeout=SHORT))
    assert raised(outcome, TimeoutError), (
        f"get(timeout={SHORT}) on an empty buffer {said(impl, outcome)}; expected it to wait and raise TimeoutError"
    )
    buffer.put("a")
    outcome = attempt(lambda: buffer.get(timeout=SHORT))
    assert outcome == ("returned", "a"), f"after put('a'), get(timeout={SHORT}) {said(impl, outcome)}; expected 'a'"
    outcome = attempt(lambda: buffer.get(timeout=SHORT))
    assert raised(outcome, TimeoutError), (
        f"after put('a') and get(), get(timeout={SHORT}) on the empty buffer {said(impl, outcome)}; "
        "expected it to wait and raise TimeoutError"
    )


@pytest.mark.points(1)
@pytest.mark.hint("take from the front and add at the back: deque.popleft() with append(), or list.pop(0)")
def test_fifo_order(impl):
    """get() returns items in the order they were put, and len() counts the items waiting."""
    buffer = impl.BoundedBuffer(3)
    for item in ["a", "b", "c"]:
        buffer.put(item)
    assert len(buffer) == 3, f"after put('a'), put('b'), put('c'), len() is {len(buffer)}; expected 3"
    got = [buffer.get()]
    buffer.put("d")
    got += [buffer.get(), buffer.get(), buffer.get()]
    assert got == ["a", "b", "c", "d"], (
        f"put('a'), put('b'), put('c'), get(), put('d'), get(), get(), get(): the gets returned {got}; "
        "expected ['a', 'b', 'c', 'd'] (first in, first out)"
    )
    assert len(buffer) == 0, f"after every item was taken, len() is {len(buffer)}; expected 0"


@pytest.mark.points(1)
@pytest.mark.hint("after close(), get() still hands out what is left: raise Closed only when closed and empty")
def test_close_drains_then_raises(impl):
    """After close(), put() raises Closed, and get() returns the items still in the buffer and then raises Closed."""
    buffer = impl.BoundedBuffer(3)
    buffer.put("a")
    buffer.put("b")
    buffer.close()
    outcome = attempt(lambda: buffer.put("c"))
    assert raised(outcome, impl.Closed), (
        "after close(), put('c') " + ("went in" if outcome[0] == "returned" else said(impl, outcome)) + "; expected Closed"
    )
    got = [attempt(buffer.get), attempt(buffer.get)]
    assert got == [("returned", "a"), ("returned", "b")], (
        f"after put('a'), put('b'), close(), the first two get() calls: {said(impl, got[0])}, then {said(impl, got[1])}; "
        "expected 'a' then 'b' (a closed buffer still hands out what it holds)"
    )
    outcome = attempt(lambda: buffer.get(timeout=SHORT))
    assert raised(outcome, impl.Closed), f"get(timeout={SHORT}) on a closed, empty buffer {said(impl, outcome)}; expected Closed"
    outcome = attempt(buffer.get)
    assert raised(outcome, impl.Closed), f"get() on a closed, empty buffer {said(impl, outcome)}; expected Closed"
    outcome = attempt(buffer.close)
    assert outcome[0] == "returned", f"closing an already closed buffer: close() {said(impl, outcome)}; expected no error"


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(3)
@pytest.mark.hint("a woken consumer must re-check the buffer: `while`, not `if`, around wait()")
def test_no_item_lost_or_duplicated(impl):
    """With several producers and consumers, every item put is returned by exactly one get()."""
    def scenario():
        buffer = impl.BoundedBuffer(1)
        sent = {"producer-0": ["p0"], "producer-1": ["p1"]}
        received = {"consumer-0": [], "consumer-1": []}

        def produce(items):
            for item in items:
                buffer.put(item)

        def consume(got):
            while True:
                try:
                    got.append(buffer.get())
                except impl.Closed:
                    return

        crew = Crew(impl, {
            **{name: (lambda items=items: produce(items)) for name, items in sent.items()},
            **{name: (lambda got=got: consume(got)) for name, got in received.items()},
        })
        crew.join(*sent)
        buffer.close()
        crew.join().check()
        put = [item for items in sent.values() for item in items]
        got = [item for items in received.values() for item in items]
        if collections.Counter(got) != collections.Counter(put):
            problems = {
                "missing": [x for x in put if x not in got],
                "received twice": [x for x in put if got.count(x) > 1],
                "never put": [x for x in got if x not in put],
            }
            raise AssertionError(
                f"into a BoundedBuffer(1), producer-0 put {sent['producer-0']} and producer-1 put {sent['producer-1']}, "
                f"then the buffer was closed; consumer-0 received {received['consumer-0']} and consumer-1 received "
                f"{received['consumer-1']}. " + "; ".join(f"{what}: {xs}" for what, xs in problems.items() if xs)
            )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("a woken producer must re-check that there is room: `while`, not `if`, around wait()")
def test_capacity_never_exceeded(impl):
    """However producers and consumers interleave, the buffer never holds more than capacity items."""
    def scenario():
        buffer = impl.BoundedBuffer(1)
        seen = []  # (thread, call, len() right after it)

        def produce(name, items):
            for item in items:
                buffer.put(item)
                seen.append((name, f"put({item!r})", len(buffer)))

        def consume(name, count):
            for _ in range(count):
                item = buffer.get()
                seen.append((name, f"get() of {item!r}", len(buffer)))

        run_threads(impl, {
            "producer-0": lambda: produce("producer-0", ["p0-a", "p0-b"]),
            "producer-1": lambda: produce("producer-1", ["p1-a"]),
            "consumer-0": lambda: consume("consumer-0", 3),
        })
        over = [(name, call, n) for name, call, n in seen if n > 1]
        assert not over, (
            f"a BoundedBuffer(1) held {over[0][2]} items: {over[0][0]} saw len() == {over[0][2]} right after its "
            f"{over[0][1]}; expected at most 1"
        )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("producers and consumers wait for different things: give each its own Condition, or wake all with notify_all()")
def test_no_lost_wakeup(impl):
    """With producers and consumers both waiting, every put() and get() is woken once it can proceed."""
    def scenario():
        buffer = impl.BoundedBuffer(1)
        received = {}
        run_threads(impl, {
            "consumer-0": lambda: received.update({"consumer-0": buffer.get()}),
            "consumer-1": lambda: received.update({"consumer-1": buffer.get()}),
            "producer-0": lambda: buffer.put("p0"),
            "producer-1": lambda: buffer.put("p1"),
        })
        assert sorted(received.values(), key=repr) == ["p0", "p1"], (
            f"into a BoundedBuffer(1), producer-0 put 'p0' and producer-1 put 'p1'; consumer-0 and consumer-1 "
            f"each called get() once and received {received}; expected 'p0' and 'p1', one each"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("close() must wake every waiter: notify_all() on every Condition they wait on")
def test_close_wakes_blocked_consumers(impl):
    """Every get() waiting on an empty buffer wakes up and raises Closed when the buffer is closed."""
    def scenario():
        buffer = impl.BoundedBuffer(1)
        outcomes = {}
        run_threads(impl, {
            "consumer-0": lambda: outcomes.update({"consumer-0": attempt(buffer.get)}),
            "consumer-1": lambda: outcomes.update({"consumer-1": attempt(buffer.get)}),
            "closer": buffer.close,
        })
        for name in ["consumer-0", "consumer-1"]:
            assert raised(outcomes[name], impl.Closed), (
                f"{name} called get() on an empty buffer, and closer closed it; get() {said(impl, outcomes[name])}; "
                "expected Closed"
            )
    explore(scenario)


@pytest.mark.points(1)
@pytest.mark.hint("close() must wake every waiter, producers too: notify_all() on every Condition they wait on")
def test_close_wakes_blocked_producer(impl):
    """A put() waiting on a full buffer wakes up and raises Closed when the buffer is closed, and its item stays out."""
    def scenario():
        buffer = impl.BoundedBuffer(1)
        buffer.put("first")
        outcomes = {}
        run_threads(impl, {
            "producer-0": lambda: outcomes.update({"producer-0": attempt(lambda: buffer.put("second"))}),
            "closer": buffer.close,
        })
        outcome = outcomes["producer-0"]
        assert raised(outcome, impl.Closed), (
            "producer-0 called put('second') on a full BoundedBuffer(1), and closer closed it; put() "
            + ("went in" if outcome[0] == "returned" else said(impl, outcome)) + "; expected Closed"
        )
        assert len(buffer) == 1, (
            f"after that, len() is {len(buffer)}; expected 1: 'first' is still there and 'second' never went in"
        )
    explore(scenario)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_PRODUCERS, STRESS_CONSUMERS, STRESS_ITEMS, STRESS_CAPACITY, STRESS_TIMEOUT = 3, 3, 300, 4, 20


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """3 real producers putting 300 items each and 3 consumers draining until Closed: every item arrives once, in order per producer."""
    buffer = impl.BoundedBuffer(STRESS_CAPACITY)
    received = {f"consumer-{c}": [] for c in range(STRESS_CONSUMERS)}
    errors = {}

    def guarded(name, body):
        def run():
            try:
                body()
            except Exception as exc:
                errors[name] = exc
        return run

    def produce(p):
        for n in range(STRESS_ITEMS):
            buffer.put((p, n))

    def consume(got):
        while True:
            try:
                got.append(buffer.get())
            except impl.Closed:
                return

    producers = [
        threading.Thread(target=guarded(f"producer-{p}", lambda p=p: produce(p)), name=f"producer-{p}", daemon=True)
        for p in range(STRESS_PRODUCERS)
    ]
    consumers = [
        threading.Thread(target=guarded(name, lambda got=got: consume(got)), name=name, daemon=True)
        for name, got in received.items()
    ]
    deadline = time.monotonic() + STRESS_TIMEOUT

    def join(threads):
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        running = [t.name for t in threads if t.is_alive()]
        assert not running, f"threads still running after {STRESS_TIMEOUT} s: {', '.join(running)}"

    for t in consumers + producers:
        t.start()
    join(producers)
    buffer.close()
    join(consumers)
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())

    put = [(p, n) for p in range(STRESS_PRODUCERS) for n in range(STRESS_ITEMS)]
    got = [item for items in received.values() for item in items]
    counts = collections.Counter(got)
    if counts != collections.Counter(put):
        problems = {
            "missing": [x for x in put if counts[x] == 0],
            "received twice": [x for x in put if counts[x] > 1],
            "never put": sorted(set(counts) - set(put), key=repr),
        }
        raise AssertionError(
            f"{STRESS_PRODUCERS} producers put {len(put)} items (producer, n); consumers received {len(got)}. "
            + "; ".join(f"{what}: {xs[:10]}" for what, xs in problems.items() if xs)
        )
    for name, items in received.items():
        for p in range(STRESS_PRODUCERS):
            mine = [n for q, n in items if q == p]
            assert mine == sorted(mine), (
                f"{name} received producer-{p}'s items out of order: {mine[:10]}...; "
                "a FIFO buffer hands each producer's items out in the order they were put"
            )
