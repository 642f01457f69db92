"""Checks for rpc. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import gc
import os
import queue
import threading
import time
import tracemalloc

import pytest

from grader.checking import Crew, attempt, describe_error, raised, said
from grader.sched import explore

SHORT = 0.05    # seconds; a timeout that must expire, kept short so the sequential checks are fast with real time
# Virtual seconds in the thread checks, kept short: a client whose threads poll with a timeout polls on virtual time too.
WAIT = 5.0      # a call that times out waited this long for a reply that was due at once
PROMPT = 0.5    # a woken call returns at once (virtual time passes only while all threads wait)


def answer(payload):
    """What the checks' servers reply to payload."""
    return f"answer to {payload}"


class Calls:
    """Named calling threads; each records its outcome and the (virtual) time it ended."""

    def __init__(self, impl, client, plan, others=None):
        self.impl = impl
        self.plan = plan                 # name -> (payload, timeout)
        self.ended = {}                  # name -> (outcome, seconds from the start until it ended)
        start = time.monotonic()         # the clocks do not start at 0

        def caller(name, payload, timeout):
            outcome = attempt(lambda: client.call(payload, timeout=timeout))
            self.ended[name] = (outcome, time.monotonic() - start)

        bodies = {name: (lambda name=name, p=p, t=t: caller(name, p, t)) for name, (p, t) in plan.items()}
        self.crew = Crew(impl, {**bodies, **(others or {})})

    def join(self):
        __tracebackhide__ = True
        self.crew.join().check()
        return self

    def story(self, name):
        payload, timeout = self.plan[name]
        outcome, when = self.ended[name]
        return f"{name}'s call({payload!r}, timeout={timeout:g}) {said(self.impl, outcome)} at {when:g} s"


def threads_left(before):
    """Names of the threads started since `before` (the checks' own have ended) still running a (virtual) second later."""
    left = [t for t in threading.enumerate() if t not in before]
    for t in left:
        t.join(1.0)
    return [t.name for t in left if t.is_alive()]


def close_and_wait(client, before):
    """close() the client, and fail unless the threads it started end within a (virtual) second."""
    __tracebackhide__ = True
    client.close()
    left = threads_left(before)
    assert not left, f"after close(), the client's thread(s) {', '.join(left)} still ran 1 s later; expected close() to end them"


# Sequential checks: real threads, one call at a time.


@pytest.mark.points(1)
@pytest.mark.hint("Event.wait(timeout) and Condition.wait(timeout) return False on a timeout: raise TimeoutError then")
def test_call_returns_answer_or_times_out(impl):
    """call() sends (correlation_id, payload), returns the result of the matching reply, and raises TimeoutError when none comes in time."""
    requests, replies = queue.Queue(), queue.Queue()
    client = impl.RpcClient(requests, replies)
    try:
        seen = []

        def server():
            request = requests.get(timeout=10)
            seen.append(request)
            replies.put((request[0], answer(request[1])))

        t = threading.Thread(target=server, name="server", daemon=True)
        t.start()
        outcome = attempt(lambda: client.call("ping", timeout=10))
        t.join(10)
        assert seen and isinstance(seen[0], tuple) and len(seen[0]) == 2 and seen[0][1] == "ping", (
            f"call('ping') put {seen[0]!r} into requests; expected a pair (correlation_id, 'ping')" if seen
            else "call('ping') put nothing into requests within 10 s; expected (correlation_id, 'ping')"
        )
        assert outcome == ("returned", answer("ping")), (
            f"the server answered {(seen[0][0], answer('ping'))!r}; call('ping', timeout=10) {said(impl, outcome)}; "
            f"expected {answer('ping')!r}"
        )
        start = time.monotonic()
        outcome = attempt(lambda: client.call("nobody answers", timeout=SHORT))
        assert raised(outcome, TimeoutError), (
            f"with no server answering, call('nobody answers', timeout={SHORT}) {said(impl, outcome)} after "
            f"{time.monotonic() - start:.2f} s; expected TimeoutError after {SHORT} s"
        )
        second = requests.get(timeout=1)
        assert second[0] != seen[0][0], (
            f"two calls used the same correlation id {second[0]!r}; expected a new id for every call"
        )
    finally:
        client.close()


@pytest.mark.points(2)
@pytest.mark.hint("forget a call when it ends however it ends: on a timeout, remove its entry from your table of waiting calls")
def test_timed_out_calls_leave_nothing_behind(impl):
    """When a call times out, the client forgets it: hundreds of timed-out calls leave no memory behind in rpc.py."""
    requests, replies = queue.Queue(), queue.Queue()
    calls, per_call = 100, 20   # bytes a call may leave behind on average (a leaked entry costs well over 100)
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start(25)
    try:
        client = impl.RpcClient(requests, replies)
        try:
            def time_out(count):
                for n in range(count):
                    outcome = attempt(lambda: client.call(n, timeout=0.001))
                    assert raised(outcome, TimeoutError), (
                        f"with no server answering, call({n}, timeout=0.001) {said(impl, outcome)}; expected TimeoutError"
                    )
                    while not requests.empty():   # the server reads every request and never answers
                        requests.get_nowait()

            time_out(20)
            before = held_by(impl)
            time_out(calls)
            after = held_by(impl)
        finally:
            client.close()
    finally:
        if not tracing:
            tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    if grown >= calls * per_call:
        top = max(after.compare_to(before, "traceback"), key=lambda stat: stat.size_diff)
        site = next((f for f in reversed(top.traceback) if f.filename == impl.__file__), None)
        where = f"; most of it allocated at {os.path.basename(site.filename)}:{site.lineno}" if site else ""
        raise AssertionError(
            f"after {calls} more calls that timed out (no server answered), rpc.py holds {grown} more bytes than "
            f"before them, {grown / calls:.0f} per call{where}. Expected nothing left behind: when a call ends, "
            "however it ends, the client forgets it"
        )


def held_by(impl):
    """A snapshot of the memory still allocated from rpc.py's code (any frame of the allocation)."""
    gc.collect()
    return tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, impl.__file__, all_frames=True)])


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(3)
@pytest.mark.hint("one reader of the replies queue (a dispatcher thread) hands each reply to the call waiting on its correlation id")
def test_each_caller_gets_its_own_answer(impl):
    """Two concurrent callers each get the answer to their own request, though the server answers out of order and one twice."""
    def scenario():
        requests, replies = queue.Queue(), queue.Queue()
        before = set(threading.enumerate())
        client = impl.RpcClient(requests, replies)

        def server():
            first, second = requests.get(), requests.get()
            for correlation_id, payload in (second, first, second):   # out of order, and the second twice
                replies.put((correlation_id, answer(payload)))

        calls = Calls(impl, client, {"caller-0": ("a", WAIT), "caller-1": ("b", WAIT)}, {"server": server}).join()
        close_and_wait(client, before)
        for name, payload in [("caller-0", "a"), ("caller-1", "b")]:
            outcome, when = calls.ended[name]
            assert outcome == ("returned", answer(payload)) and when < PROMPT, (
                "caller-0 called call('a') and caller-1 called call('b'); the server answered b, then a, then b again. "
                f"{calls.story(name)}; expected {answer(payload)!r} at once"
            )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("register the call under its correlation id before you put the request: the reply can arrive before the next line runs")
def test_fast_reply_reaches_its_caller(impl):
    """A reply that comes back at once, before the caller has started waiting, still reaches it."""
    def scenario():
        requests, replies = queue.Queue(), queue.Queue()
        before = set(threading.enumerate())
        client = impl.RpcClient(requests, replies)

        def server():
            correlation_id, payload = requests.get()
            replies.put((correlation_id, answer(payload)))

        calls = Calls(impl, client, {"caller": ("ping", WAIT)}, {"server": server}).join()
        close_and_wait(client, before)
        outcome, when = calls.ended["caller"]
        assert outcome == ("returned", answer("ping")) and when < PROMPT, (
            f"the server answered at once, at 0 s; {calls.story('caller')}; expected {answer('ping')!r} at once"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("a reply whose correlation id is not pending is normal (late or duplicate): drop it, and never let it end the dispatcher")
def test_late_and_duplicate_replies_are_dropped(impl):
    """Replies for a call that timed out, duplicates and unknown ids are dropped, and the next call gets its own answer."""
    def scenario():
        requests, replies = queue.Queue(), queue.Queue()
        before = set(threading.enumerate())
        client = impl.RpcClient(requests, replies)

        def server():
            correlation_id, payload = requests.get()
            time.sleep(1.0)                                     # the caller gave up at 0.5 s
            replies.put((correlation_id, answer(payload)))      # late
            replies.put((correlation_id, answer(payload)))      # late, and a duplicate
            replies.put((object(), "stray"))                    # an id the client never used
            correlation_id, payload = requests.get()
            replies.put((correlation_id, answer(payload)))

        outcomes = {}

        def caller():
            outcomes["slow"] = attempt(lambda: client.call("slow", timeout=0.5))
            outcomes["fast"] = attempt(lambda: client.call("fast", timeout=WAIT))

        Crew(impl, {"caller": caller, "server": server}).join().check()
        close_and_wait(client, before)
        assert raised(outcomes["slow"], TimeoutError) and outcomes["fast"] == ("returned", answer("fast")), (
            "caller called call('slow', timeout=0.5), then call('fast'). The server answered 'slow' at 1 s, twice, "
            f"sent a reply with an unknown id, then answered 'fast'. call('slow') {said(impl, outcomes['slow'])}, "
            f"call('fast') {said(impl, outcomes['fast'])}; expected TimeoutError, then {answer('fast')!r}"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("when a call times out, its reply may be taken at that very moment: remove the entry only if it is still there (dict.pop(key, None))")
def test_reply_at_the_deadline(impl):
    """A reply that arrives just as its call times out is either returned or dropped; the call raises nothing but TimeoutError."""
    def scenario():
        requests, replies = queue.Queue(), queue.Queue()
        before = set(threading.enumerate())
        client = impl.RpcClient(requests, replies)

        def server():
            correlation_id, payload = requests.get()
            time.sleep(0.5)                                     # exactly the caller's timeout
            replies.put((correlation_id, answer(payload)))
            correlation_id, payload = requests.get()
            replies.put((correlation_id, answer(payload)))

        outcomes = {}

        def caller():
            outcomes["edge"] = attempt(lambda: client.call("edge", timeout=0.5))
            outcomes["after"] = attempt(lambda: client.call("after", timeout=WAIT))

        Crew(impl, {"caller": caller, "server": server}).join().check()
        close_and_wait(client, before)
        edge = outcomes["edge"]
        assert edge == ("returned", answer("edge")) or raised(edge, TimeoutError), (
            f"the server answered call('edge', timeout=0.5) exactly at 0.5 s, as it timed out; call('edge') {said(impl, edge)}; "
            f"expected {answer('edge')!r} or TimeoutError"
        )
        assert outcomes["after"] == ("returned", answer("after")), (
            f"after that, call('after') {said(impl, outcomes['after'])}; expected {answer('after')!r}"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("close() must wake every waiting call (set its event, or notify_all) with ConnectionError, and stop the client's threads")
def test_close_wakes_callers(impl):
    """close() wakes every waiting call with ConnectionError at once, refuses later calls, and ends the client's threads."""
    def scenario():
        requests, replies = queue.Queue(), queue.Queue()
        before = set(threading.enumerate())
        client = impl.RpcClient(requests, replies)

        def closer():
            requests.get()
            requests.get()          # both callers have sent their requests; nobody will answer them
            client.close()

        calls = Calls(impl, client, {"caller-0": ("a", WAIT), "caller-1": ("b", WAIT)}, {"closer": closer}).join()
        for name in ("caller-0", "caller-1"):
            outcome, when = calls.ended[name]
            assert raised(outcome, ConnectionError) and when < PROMPT, (
                f"caller-0 and caller-1 were waiting for replies when closer called close() at 0 s; {calls.story(name)}; "
                "expected ConnectionError at once"
            )
        outcome = attempt(lambda: client.call("late", timeout=1.0))
        assert raised(outcome, ConnectionError), (
            f"after close(), call('late', timeout=1) {said(impl, outcome)}; expected ConnectionError at once"
        )
        outcome = attempt(client.close)
        assert outcome[0] == "returned", f"closing the client a second time: close() {said(impl, outcome)}; expected no error"
        left = threads_left(before)
        assert not left, (
            f"after close(), the client's thread(s) {', '.join(left)} still ran 1 s later; expected close() to end them"
        )
    explore(scenario)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_CALLERS, STRESS_CALLS, STRESS_TIMEOUT = 4, 40, 20


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """4 real threads making 40 calls each, answered out of order and some twice: every call gets its own answer."""
    requests, replies = queue.Queue(), queue.Queue()
    client = impl.RpcClient(requests, replies)
    stop = threading.Event()
    errors, wrong = {}, []

    def server():
        held, n = [], 0
        while not stop.is_set():
            try:
                held.append(requests.get(timeout=0.01))
                if len(held) < 3:
                    continue
            except queue.Empty:
                pass
            for correlation_id, payload in reversed(held):    # out of order
                replies.put((correlation_id, answer(payload)))
                n += 1
                if n % 4 == 0:
                    replies.put((correlation_id, answer(payload)))   # and some twice
            held = []

    def caller(c):
        try:
            for n in range(STRESS_CALLS):
                result = client.call((c, n), timeout=STRESS_TIMEOUT)
                if result != answer((c, n)):
                    wrong.append(((c, n), result))
        except Exception as exc:
            errors[f"caller-{c}"] = exc

    serving = threading.Thread(target=server, name="server", daemon=True)
    callers = [threading.Thread(target=caller, args=(c,), name=f"caller-{c}", daemon=True) for c in range(STRESS_CALLERS)]
    serving.start()
    deadline = time.monotonic() + STRESS_TIMEOUT
    for t in callers:
        t.start()
    for t in callers:
        t.join(max(0.0, deadline - time.monotonic()))
    stop.set()
    client.close()
    running = [t.name for t in callers if t.is_alive()]
    assert not running, f"threads still calling after {STRESS_TIMEOUT} s: {', '.join(running)}"
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    assert not wrong, (
        f"{STRESS_CALLERS} threads made {STRESS_CALLS} calls each, payloads (caller, n); some got another call's answer: "
        + "; ".join(f"call({p!r}) returned {r!r}" for p, r in wrong[:5])
    )
