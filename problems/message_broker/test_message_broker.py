"""Checks for message_broker. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import collections
import threading
import time

import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from grader.checking import Crew, attempt, describe_error, raised, said
from grader.sched import explore

SHORT = 0.05    # seconds; a timeout that must expire, kept short so the sequential checks are fast with real time
# Virtual seconds in the thread checks, kept short: a consume() that polls with a timeout polls on virtual time too.
WAIT = 5.0      # a consume() that times out waited this long for nothing
PROMPT = 0.5    # a woken consume() returns at once (virtual time passes only while all threads wait)
# Reproducible verdicts; no "explain" phase (its notes name the harness's files, not the student's).
EXAMPLES = settings(deadline=None, derandomize=True, database=None, max_examples=60,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink])
WORDS = [b"pear", b"fig", b"apple", b"plum", b"kiwi", b"date", b"lime", b"sloe", b"yuzu", b"bean", b"corn", b"okra"]


def take(impl, channel, queue, count, ack=True):
    """Consume up to count deliveries (acking each if ack); stop at the first call that raises. Returns (deliveries, outcome of the last call)."""
    got, outcome = [], None
    for _ in range(count):
        outcome = attempt(lambda: channel.consume(queue, timeout=SHORT))
        if outcome[0] == "raised":
            break
        got.append(outcome[1])
        if ack:
            channel.ack(outcome[1].tag)
    return got, outcome


def shown(deliveries):
    """b'fig' for a first delivery, b'fig'* for a redelivery."""
    return "[" + ", ".join(repr(d.body) + ("*" if d.redelivered else "") for d in deliveries) + "]"


def is_empty(impl, broker, queue):
    """'' if a fresh channel finds queue empty, else what it found (for messages)."""
    outcome = attempt(lambda: broker.channel().consume(queue, timeout=SHORT))
    if raised(outcome, TimeoutError):
        return ""
    return f"consume({queue!r}) on a fresh channel {said(impl, outcome)}"


# Sequential checks: one thread, each call's result.


@pytest.mark.points(2)
@pytest.mark.hint("a heap of (-priority, body) orders equal priorities by body: put a publish sequence number between them")
def test_priority_then_fifo(impl):
    """consume() takes the message of its queue with the highest priority, and among equal priorities the one published first."""
    @EXAMPLES
    @given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 2)), min_size=1, max_size=len(WORDS)))
    @example([("a", 0), ("a", 2), ("a", 0), ("b", 1), ("a", 2)])
    def check(plan):
        broker = impl.Broker()
        producer = broker.channel()
        for body, (queue, priority) in zip(WORDS, plan):
            producer.publish(queue, body, priority=priority)
        published = ", ".join(f"{body!r} to {queue!r} at priority {p}" for body, (queue, p) in zip(WORDS, plan))
        consumer = broker.channel(prefetch=1)
        for queue in ["a", "b"]:
            mine = [(i, body, p) for i, (body, (q, p)) in enumerate(zip(WORDS, plan)) if q == queue]
            expected = [body for _, body, _ in sorted(mine, key=lambda m: (-m[2], m[0]))]
            got, outcome = take(impl, consumer, queue, len(expected))
            bodies = [d.body for d in got]
            assert bodies == expected, (
                f"published {published}; consume({queue!r}) then returned {bodies}"
                + (f" and then {said(impl, outcome)}" if outcome[0] == "raised" else "")
                + f"; expected {expected}: highest priority first, and first published first within a priority"
            )
            assert not any(d.redelivered for d in got), (
                f"first deliveries must have redelivered=False; consume({queue!r}) returned {got}"
            )

    check()


@pytest.mark.points(2)
@pytest.mark.hint("consume() must wait while len(unacked) >= prefetch, and count only this channel's deliveries")
def test_prefetch_limit(impl):
    """A channel never holds more than prefetch unacknowledged deliveries; acking one makes room. A prefetch below 1 is refused."""
    broker = impl.Broker()
    for bad in (0, -1):
        outcome = attempt(lambda: broker.channel(prefetch=bad))
        assert raised(outcome, ValueError), (
            f"broker.channel(prefetch={bad}) " + ("was accepted" if outcome[0] == "returned" else said(impl, outcome))
            + "; expected ValueError: a channel must be able to hold at least 1 delivery"
        )
    producer = broker.channel()
    for body in WORDS[:4]:
        producer.publish("jobs", body)
    worker = broker.channel(prefetch=2)
    held, _ = take(impl, worker, "jobs", 2, ack=False)
    assert [d.body for d in held] == WORDS[:2], (
        f"4 messages {WORDS[:4]} published; a channel with prefetch=2 consumed twice and got {shown(held)}; "
        f"expected {WORDS[:2]}"
    )
    outcome = attempt(lambda: worker.consume("jobs", timeout=SHORT))
    assert raised(outcome, TimeoutError), (
        f"a channel with prefetch=2 holding 2 unacknowledged deliveries called consume('jobs', timeout={SHORT}); it "
        + (f"got {outcome[1].body!r}" if outcome[0] == "returned" else said(impl, outcome))
        + "; expected TimeoutError: the channel is full until it acks"
    )
    other = broker.channel(prefetch=1)
    outcome = attempt(lambda: other.consume("jobs", timeout=SHORT))
    assert outcome[0] == "returned" and outcome[1].body == WORDS[2], (
        f"while a first channel was full, a second channel's consume('jobs', timeout={SHORT}) {said(impl, outcome)}; "
        f"expected {WORDS[2]!r}: prefetch limits each channel on its own"
    )
    worker.ack(held[0].tag)
    outcome = attempt(lambda: worker.consume("jobs", timeout=SHORT))
    assert outcome[0] == "returned" and outcome[1].body == WORDS[3], (
        f"after the full channel acked one delivery, its consume('jobs', timeout={SHORT}) {said(impl, outcome)}; "
        f"expected {WORDS[3]!r}"
    )


@pytest.mark.points(2)
@pytest.mark.hint("keep each channel's unacknowledged deliveries in that channel: a tag held by another channel is not yours to ack")
def test_ack_rejects_unknown_and_foreign_tags(impl):
    """Tags are unique across the broker, and ack()/nack() refuse with ValueError a tag that is not an unacknowledged delivery of their channel."""
    broker = impl.Broker()
    producer = broker.channel()
    producer.publish("q", b"mine")
    producer.publish("q", b"theirs")
    mine, theirs = broker.channel(), broker.channel()
    d_mine, d_theirs = mine.consume("q", timeout=SHORT), theirs.consume("q", timeout=SHORT)
    assert d_mine.tag != d_theirs.tag, (
        f"two channels' deliveries got the same tag {d_mine.tag!r}; expected tags unique across the broker"
    )
    unknown = max(d_mine.tag, d_theirs.tag) + 1000
    for call, what in [
        (lambda: mine.ack(d_theirs.tag), f"ack({d_theirs.tag}) on one channel, with the tag another channel holds,"),
        (lambda: mine.nack(d_theirs.tag), f"nack({d_theirs.tag}) on one channel, with the tag another channel holds,"),
        (lambda: mine.ack(unknown), f"ack({unknown}), a tag never handed out,"),
        (lambda: mine.nack(unknown), f"nack({unknown}), a tag never handed out,"),
    ]:
        outcome = attempt(call)
        assert raised(outcome, ValueError), (
            what + (" was accepted" if outcome[0] == "returned" else f" {said(impl, outcome)}") + "; expected ValueError"
        )
    outcome = attempt(lambda: theirs.ack(d_theirs.tag))
    assert outcome[0] == "returned", (
        f"after another channel's refused ack, the holder's own ack({d_theirs.tag}) {said(impl, outcome)}; "
        "expected it to succeed: the delivery is still the holder's"
    )
    outcome = attempt(lambda: theirs.ack(d_theirs.tag))
    assert raised(outcome, ValueError), (
        f"ack({d_theirs.tag}) a second time " + ("was accepted" if outcome[0] == "returned" else said(impl, outcome))
        + "; expected ValueError: that delivery is already acknowledged"
    )
    mine.ack(d_mine.tag)
    left = is_empty(impl, broker, "q")
    assert not left, f"both messages were acked by their holders, but {left}; expected the queue to be empty"


@pytest.mark.points(1)
@pytest.mark.hint("nack(tag, requeue=False) drops the message: only requeue=True puts it back")
def test_nack_requeues_or_drops(impl):
    """nack(tag) puts the message back for redelivery with a new tag; nack(tag, requeue=False) drops it."""
    broker = impl.Broker()
    broker.channel().publish("q", b"retry me")
    worker = broker.channel()
    first = worker.consume("q", timeout=SHORT)
    worker.nack(first.tag)
    outcome = attempt(lambda: worker.consume("q", timeout=SHORT))
    assert outcome[0] == "returned" and (outcome[1].body, outcome[1].redelivered) == (b"retry me", True), (
        f"after consume() of b'retry me' and nack(tag), the next consume('q', timeout={SHORT}) {said(impl, outcome)}; "
        "expected b'retry me' again, with redelivered=True"
    )
    second = outcome[1]
    assert second.tag != first.tag, f"the redelivery reused tag {first.tag}; expected a new tag for every delivery"
    worker.nack(second.tag, requeue=False)
    left = is_empty(impl, broker, "q")
    assert not left, f"after nack(tag, requeue=False) of the only message, {left}; expected the queue to be empty"
    outcome = attempt(lambda: worker.nack(second.tag))
    assert raised(outcome, ValueError), (
        f"nack({second.tag}) of a delivery already given back " + ("was accepted" if outcome[0] == "returned" else said(impl, outcome))
        + "; expected ValueError"
    )


@pytest.mark.points(2)
@pytest.mark.hint("close() must put every unacknowledged delivery back into its queue, marked as delivered before")
def test_close_requeues_unacked(impl):
    """close() puts every unacknowledged delivery back in its queue, marked redelivered; acknowledged ones stay gone. Closing twice is harmless."""
    broker = impl.Broker()
    producer = broker.channel()
    for body in WORDS[:3]:
        producer.publish("q", body)
    crashing = broker.channel(prefetch=3)
    held, _ = take(impl, crashing, "q", 3, ack=False)
    crashing.ack(held[1].tag)
    crashing.close()
    outcome = attempt(crashing.close)
    assert outcome[0] == "returned", f"closing a channel twice: the second close() {said(impl, outcome)}; expected no error"
    rescue = broker.channel(prefetch=3)
    got, last = take(impl, rescue, "q", 3)
    back = sorted((d.body, d.redelivered) for d in got)
    expected = sorted([(WORDS[0], True), (WORDS[2], True)])
    assert back == expected, (
        f"a channel consumed {WORDS[:3]}, acked {WORDS[1]!r}, and closed; another channel then got {shown(got)} "
        f"(* marks redelivered=True), then {said(impl, last)}; expected {WORDS[0]!r}* and {WORDS[2]!r}*: "
        "what was not acked comes back, marked redelivered"
    )


@pytest.mark.points(2)
@pytest.mark.hint("put a message back with its original priority and publish sequence number, not as a new publish")
def test_requeued_message_keeps_its_place(impl):
    """A message given back by nack() or close() is delivered next as if it had never left: by priority, then publish order."""
    broker = impl.Broker()
    producer = broker.channel()
    for body, priority in [(b"high", 5), (b"mid-1", 1), (b"mid-2", 1), (b"low", 0)]:
        producer.publish("q", body, priority=priority)
    first = broker.channel(prefetch=2)
    high = first.consume("q", timeout=SHORT)
    first.consume("q", timeout=SHORT)   # b'mid-1', held until first closes
    first.nack(high.tag)
    second = broker.channel(prefetch=1)
    got, last = take(impl, second, "q", 1)
    first.close()
    more, last = take(impl, second, "q", 3)
    got += more
    expected = "[b'high'*, b'mid-1'*, b'mid-2', b'low']"
    assert shown(got) == expected, (
        "published b'high' (priority 5), b'mid-1' and b'mid-2' (priority 1), b'low' (priority 0). A first channel "
        "consumed b'high' and b'mid-1', gave b'high' back with nack(), and after a second channel's next consume, "
        f"closed. The second channel got {shown(got)}" + (f", then {said(impl, last)}" if last[0] == "raised" else "")
        + f"; expected {expected} (* marks redelivered=True): each message back in its place"
    )


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(3)
@pytest.mark.hint("choose the message and take it out of the queue in one critical section")
def test_no_message_with_two_channels(impl):
    """Two channels consuming at once never get the same message: each message is with one channel at a time."""
    def scenario():
        broker = impl.Broker()
        producer = broker.channel()
        producer.publish("q", b"m0")
        producer.publish("q", b"m1")
        got = {}

        def consume(name):
            channel = broker.channel()
            delivery = channel.consume("q", timeout=WAIT)
            got[name] = delivery.body
            channel.ack(delivery.tag)

        Crew(impl, {name: (lambda name=name: consume(name)) for name in ("consumer-0", "consumer-1")}).join().check()
        assert sorted(got.values()) == [b"m0", b"m1"], (
            f"b'm0' and b'm1' were published; consumer-0 and consumer-1 each consumed once on its own channel and got "
            f"{got}; expected one each"
        )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("close() must put the crashed channel's messages back and notify the consumers waiting for them")
def test_crashed_consumer_loses_nothing(impl):
    """A consumer that crashes holding a message loses nothing: the message goes back, and a consumer waiting in another channel gets it."""
    def scenario():
        broker = impl.Broker()
        acked, crashed_with = [], []
        start = time.monotonic()   # the clocks do not start at 0

        def publisher():
            channel = broker.channel()
            channel.publish("q", b"m0")
            channel.publish("q", b"m1")

        def crasher():
            channel = broker.channel()
            outcome = attempt(lambda: channel.consume("q", timeout=WAIT))   # survivor may have taken both first
            if outcome[0] == "returned":
                crashed_with.append(outcome[1].body)
            channel.close()   # crashes before acking

        def survivor():
            channel = broker.channel()
            for _ in range(2):
                delivery = channel.consume("q", timeout=WAIT)
                acked.append(delivery)
                returned_at.append(time.monotonic() - start)
                channel.ack(delivery.tag)

        returned_at = []

        crew = Crew(impl, {"publisher": publisher, "crasher": crasher, "survivor": survivor}).join()
        story = ("publisher published b'm0' and b'm1'; crasher "
                 + (f"consumed {crashed_with[0]!r} and closed its channel without acking" if crashed_with
                    else "consumed nothing and closed its channel")
                 + f"; survivor acked {shown(acked)} (* marks redelivered=True)")
        if isinstance(crew.errors.get("survivor"), TimeoutError):
            raise AssertionError(
                f"{story}, then its consume('q', timeout={WAIT:g}) raised TimeoutError: the message crasher held "
                "never reached it; expected survivor to get both"
            )
        crew.check()
        late = [(d.body, when) for d, when in zip(acked, returned_at) if when >= PROMPT]
        assert not late, (
            f"{story}. survivor's consume('q', timeout={WAIT:g}) returned {late[0][0]!r} only at {late[0][1]:g} s, "
            "when its timeout ran out, though crasher's close() had put it back at 0 s: close() woke nobody"
        )
        expected = sorted((body, body in crashed_with) for body in (b"m0", b"m1"))
        assert sorted((d.body, d.redelivered) for d in acked) == expected, (
            story + "; expected survivor to get b'm0' and b'm1' once each, "
            + (f"{crashed_with[0]!r} marked redelivered" if crashed_with else "neither marked redelivered")
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("ack() makes room in its channel: notify the consume() calls waiting for room, as publish() notifies those waiting for a message")
def test_ack_wakes_consumer_waiting_for_room(impl):
    """Two threads sharing a channel with prefetch=1 never hold two deliveries at once, and an ack wakes the other's consume()."""
    def scenario():
        broker = impl.Broker()
        producer = broker.channel()
        producer.publish("jobs", b"job-0")
        producer.publish("jobs", b"job-1")
        channel = broker.channel(prefetch=1)
        holding, both, got, acked = {}, [], {}, {}
        start = time.monotonic()   # the clocks do not start at 0

        def work(name):
            delivery = channel.consume("jobs", timeout=WAIT)
            got[name] = (delivery.body, time.monotonic() - start)
            holding[name] = delivery.body
            if len(holding) > 1:
                both.append(dict(holding))
            time.sleep(0.5)          # works on the job
            del holding[name]        # from here on the channel may hand out the next job
            acked[name] = (delivery.body, time.monotonic() - start)
            channel.ack(delivery.tag)

        crew = Crew(impl, {name: (lambda name=name: work(name)) for name in ("worker-0", "worker-1")}).join()
        setting = "worker-0 and worker-1 share a channel with prefetch=1, and 2 jobs were waiting"
        for name, exc in crew.errors.items():
            if isinstance(exc, TimeoutError) and acked:
                other, (body, when) = next(iter(acked.items()))
                raise AssertionError(
                    f"{setting}. {other} got {body!r} and acked it at {when:g} s, but {name}'s "
                    f"consume('jobs', timeout={WAIT:g}) slept on and raised TimeoutError; expected the ack to wake it"
                )
        crew.check()
        first = min(acked.values(), key=lambda job: job[1])
        late = [(name, body, when) for name, (body, when) in got.items() if when >= first[1] + PROMPT]
        assert not late, (
            f"{setting}. The first job, {first[0]!r}, was acked at {first[1]:g} s, but {late[0][0]}'s "
            f"consume('jobs', timeout={WAIT:g}) returned {late[0][1]!r} only at {late[0][2]:g} s, when its timeout ran "
            "out: the ack woke nobody"
        )
        assert not both, (
            f"{setting}; both held a delivery at the same time: {both[0]}. "
            "Expected the second consume() to wait until the first delivery was acked"
        )
    explore(scenario)


@pytest.mark.points(1)
@pytest.mark.hint("compute the deadline once, before waiting, and wait only for what is left of it after each wakeup")
def test_consume_timeout_is_a_deadline(impl):
    """consume(timeout=t) on an empty queue raises TimeoutError after t seconds, however often it is woken up meanwhile."""
    def scenario():
        broker = impl.Broker()
        outcome = {}

        def waiter():
            channel = broker.channel()
            start = time.monotonic()
            outcome["consume"] = attempt(lambda: channel.consume("empty", timeout=1.0))
            outcome["after"] = time.monotonic() - start

        def chatter():
            channel = broker.channel()
            for n in range(3):
                time.sleep(0.4)
                channel.publish("other", f"noise-{n}".encode())

        Crew(impl, {"waiter": waiter, "chatter": chatter}).join().check()
        after = outcome["after"]
        assert raised(outcome["consume"], TimeoutError) and 1.0 <= after < 1.2, (
            "waiter called consume('empty', timeout=1.0) while chatter published to another queue at 0.4, 0.8 and 1.2 s; "
            f"consume {said(impl, outcome['consume'])} after {after:g} s; expected TimeoutError after 1 s"
        )
    explore(scenario)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_PUBLISHERS, STRESS_MESSAGES, STRESS_CONSUMERS, STRESS_CRASH_EVERY, STRESS_TIMEOUT = 2, 150, 3, 7, 20


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """2 real publishers and 3 consumers that crash every 7th message: every message is acked exactly once."""
    broker = impl.Broker()
    acked = collections.Counter()
    lock = threading.Lock()
    finished = threading.Event()
    errors = {}
    total = STRESS_PUBLISHERS * STRESS_MESSAGES

    def guarded(name, body):
        def run():
            try:
                body()
            except Exception as exc:
                errors[name] = exc
                finished.set()
        return run

    def publish(p):
        channel = broker.channel()
        for n in range(STRESS_MESSAGES):
            channel.publish("work", f"{p}-{n}".encode(), priority=n % 3)

    def consume():
        channel, seen = broker.channel(prefetch=2), 0
        while not finished.is_set():
            try:
                delivery = channel.consume("work", timeout=0.05)
            except TimeoutError:
                continue
            seen += 1
            if seen % STRESS_CRASH_EVERY == 0:
                channel.close()   # a crash with this delivery unacknowledged
                channel = broker.channel(prefetch=2)
                continue
            with lock:
                acked[delivery.body] += 1
                if sum(acked.values()) >= total:
                    finished.set()
            channel.ack(delivery.tag)

    threads = [threading.Thread(target=guarded(f"publisher-{p}", lambda p=p: publish(p)), name=f"publisher-{p}", daemon=True)
               for p in range(STRESS_PUBLISHERS)]
    threads += [threading.Thread(target=guarded(f"consumer-{c}", consume), name=f"consumer-{c}", daemon=True)
                for c in range(STRESS_CONSUMERS)]
    for t in threads:
        t.start()
    finished.wait(STRESS_TIMEOUT)
    finished.set()
    deadline = time.monotonic() + 5
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    running = [t.name for t in threads if t.is_alive()]
    assert not running, f"threads still running 5 s after the end: {', '.join(running)}"
    sent = [f"{p}-{n}".encode() for p in range(STRESS_PUBLISHERS) for n in range(STRESS_MESSAGES)]
    problems = {
        "never acked": [b for b in sent if acked[b] == 0],
        "acked twice": [b for b in sent if acked[b] > 1],
    }
    assert not any(problems.values()), (
        f"{STRESS_PUBLISHERS} publishers published {total} messages; {STRESS_CONSUMERS} consumers crashed every "
        f"{STRESS_CRASH_EVERY}th delivery and acked the rest, {sum(acked.values())} acks in all within {STRESS_TIMEOUT} s. "
        + "; ".join(f"{what}: {xs[:10]}" for what, xs in problems.items() if xs)
    )
