"""Checks for reliable_udp. Each check's docstring is the guarantee it proves; see README.md.

The checks run on the grader's event loop (explore_async): virtual time, datagram endpoints in memory on
loopback, callbacks in a seeded order. Between sender and receiver sits a Relay, an endpoint of the check's
that passes each datagram on or not, late or twice, as its fault plan and the run's seed say, and records
every datagram; other checks play one end of the protocol themselves, datagram by datagram. The last check runs
on real sockets and the real clock.

PYTEST_DONT_REWRITE: each assertion message is written for the student.
"""
import asyncio
import random

import pytest

from grader.checking import plain
from grader.sched import explore_async, run_seed

TIMEOUT = 0.2  # the sender's timeout in the checks, in (virtual) seconds
SLACK = 1e-6  # seconds: what the virtual clock's rounding may make of an exact moment
BUDGET = 2000 * TIMEOUT  # virtual seconds a whole exchange may take: virtual time costs nothing


def data(seq: int, payload: bytes = b"") -> bytes:
    return b"D" + seq.to_bytes(4, "big") + payload


def ack(count: int) -> bytes:
    return b"A" + count.to_bytes(4, "big")


def kind(datagram: bytes) -> tuple[str, int] | None:
    """("D", seq) or ("A", count) for a well-formed datagram of the protocol, else None."""
    if len(datagram) < 5 or datagram[:1] not in (b"D", b"A") or (datagram[:1] == b"A" and len(datagram) != 5):
        return None
    return datagram[:1].decode(), int.from_bytes(datagram[1:5], "big")


def messages(count: int) -> list[bytes]:
    """`count` different messages, one of them empty."""
    return [b"" if n == 3 else f"message {n} ".encode() * (1 + n % 3) for n in range(count)]


def show(got, sent) -> str:
    """What receive() returned, in the student's terms: which were missing, repeated, extra or out of order."""
    numbered = {message: n for n, message in enumerate(sent)}
    order = [numbered.get(message, "?") for message in got]
    missing = [n for n in range(len(sent)) if sent[n] not in got]
    repeated = sorted({numbered[m] for m in got if m in numbered and got.count(m) > 1})
    parts = [f"received messages {order}"]
    parts += [f"missing {missing}"] if missing else []
    parts += [f"repeated {repeated}"] if repeated else []
    parts += [f"{sum(m not in numbered for m in got)} never sent"] if any(m not in numbered for m in got) else []
    return "; ".join(parts)


class Faults:
    """What the relay does to each datagram: drop it (probability `drop`), pass it twice (`duplicate`), delay
    each copy by a time drawn from `delay` (so later datagrams overtake earlier ones), drop everything during
    `cut` (seconds from the start), and answer with garbage (`garbage`)."""

    def __init__(self, drop=0.0, duplicate=0.0, delay=(0.0, 0.0), cut=None, garbage=0.0):
        self.drop, self.duplicate, self.delay, self.cut, self.garbage = drop, duplicate, delay, cut, garbage

    def __str__(self):
        said = [f"drops {self.drop:.0%}" if self.drop else "", f"repeats {self.duplicate:.0%}" if self.duplicate else "",
                f"delays {self.delay[0]:g}-{self.delay[1]:g} s" if self.delay[1] else "",
                f"cuts the line from {self.cut[0]:g} s to {self.cut[1]:g} s" if self.cut else "",
                f"slips in garbage ({self.garbage:.0%})" if self.garbage else ""]
        return "a network that " + ", ".join(part for part in said if part) if any(said) else "a clean network"


GARBAGE = [b"", b"D", b"A\x00\x00", b"X\x00\x00\x00\x01", b"A\x00\x00\x00\x01junk", data(2**31), ack(2**31)]


class Relay(asyncio.DatagramProtocol):
    """Passes datagrams between a sender and the receiver at `receiver`, as `faults` and `rng` say, recording each:
    `log` holds (time, event, direction, datagram): "sent" when it reached the relay (the moment it was sent, as
    the relay is no distance away), "passed" when the relay passed it on."""

    def __init__(self, receiver, faults: Faults, rng: random.Random):
        self.receiver, self.faults, self.rng = receiver, faults, rng
        self.sender = None
        self.log = []

    def connection_made(self, transport):
        self.transport = transport
        self.start = asyncio.get_running_loop().time()

    def datagram_received(self, datagram, address):
        loop = asyncio.get_running_loop()
        now = loop.time()
        if address == self.receiver:
            direction, target = "to sender", self.sender
        else:
            self.sender, direction, target = address, "to receiver", self.receiver
        self.log.append((now, "sent", direction, datagram))
        if target is None:
            return
        cut = self.faults.cut
        if (cut and cut[0] <= now - self.start < cut[1]) or self.rng.random() < self.faults.drop:
            return
        for _ in range(2 if self.rng.random() < self.faults.duplicate else 1):
            loop.call_later(self.rng.uniform(*self.faults.delay), self._pass, datagram, target, direction)
        if self.rng.random() < self.faults.garbage:
            loop.call_later(self.rng.uniform(*self.faults.delay), self._pass, self.rng.choice(GARBAGE), target, None)

    def _pass(self, datagram, target, direction):
        if direction is not None:
            self.log.append((asyncio.get_running_loop().time(), "passed", direction, datagram))
        self.transport.sendto(datagram, target)

    def events(self, event: str, direction: str):
        """(time, kind, number) of each well-formed datagram logged as `event` in `direction`."""
        return [(time, *kind(datagram)) for time, what, way, datagram in self.log
                if what == event and way == direction and kind(datagram)]


async def within(awaitable, what: str, state):
    """Await it within BUDGET virtual seconds; else fail saying what did not finish and where things stood."""
    try:
        async with asyncio.timeout(BUDGET):
            return await awaitable
    except TimeoutError:
        raise AssertionError(f"{what} did not finish in {BUDGET:g} s (virtual time; the sender's timeout is "
                             f"{TIMEOUT:g} s): {state()}") from None


async def exchange(impl, faults: Faults, count: int = 12, window: int = 4):
    """Send `count` messages from an impl.Sender to an impl.Receiver through a Relay with `faults`; check that
    receive() returned each once, in order, that close() left no endpoint open and no callback raised.
    Returns the relay (its log)."""
    loop = asyncio.get_running_loop()
    errors = []
    loop.set_exception_handler(lambda loop, context: errors.append(context))
    receiver = impl.Receiver()
    address = plain(await receiver.start(), "what Receiver.start() returned")
    relay_transport, relay = await loop.create_datagram_endpoint(
        lambda: Relay(address, faults, random.Random(run_seed())), local_addr=("127.0.0.1", 0))
    sender = impl.Sender(window=window, timeout=TIMEOUT)
    await sender.connect(relay_transport.get_extra_info("sockname"))
    sent, got = messages(count), []

    async def produce():  # close() right after the last send: it waits for what is still in flight
        for message in sent:
            await sender.send(message)
        await sender.close()

    async def consume():
        for _ in sent:
            got.append(plain(await receiver.receive(), "what receive() returned"))

    situation = f"Sender(window={window}, timeout={TIMEOUT}) sent {count} messages through {faults}, then closed"
    await within(asyncio.gather(produce(), consume()), "sending, closing and receiving",
                 lambda: f"{situation}; {show(got, sent)} so far")
    extra = asyncio.ensure_future(receiver.receive())
    await asyncio.sleep(10 * TIMEOUT)  # anything still on its way arrives now
    if extra.done():
        got.append(extra.result())
    extra.cancel()
    await asyncio.gather(extra, return_exceptions=True)
    await within(receiver.close(), "Receiver.close()", lambda: situation)
    relay_transport.close()
    await asyncio.sleep(0)
    assert got == sent, f"{situation}; {show(got, sent)}; expected each of 0..{count - 1} once, in order"
    assert loop.network.open() == [], f"{situation}; after both close() calls, endpoints still open: {loop.network.open()}"
    assert errors == [], f"{situation}; a callback raised: {errors[0].get('exception')!r} ({errors[0].get('message')})"
    return relay


def run(check, schedules: int = 8):
    """explore_async(check): a run per seed, each seed deciding the relay's plan and the order of callbacks."""
    explore_async(check, schedules=schedules)


# Delivery through a hostile network: exactly once, in order.


@pytest.mark.points(2)
def test_delivers_in_order_on_a_clean_network(impl):
    """On a network that loses nothing, every message arrives once and in order, and both ends close cleanly."""
    async def check():
        await exchange(impl, Faults(), count=10, window=3)
    run(check, schedules=3)


@pytest.mark.points(3)
@pytest.mark.hint("send a message again when no acknowledgement covers it `timeout` after it was last sent, and keep doing so")
def test_exactly_once_despite_losses(impl):
    """When datagrams are lost both ways, each message still arrives exactly once, in order, with a window of one
    message (the smallest) as with a wider one."""
    async def check():
        await exchange(impl, Faults(drop=0.3), count=6, window=1)
        await exchange(impl, Faults(drop=0.3))
    run(check)


@pytest.mark.points(2)
@pytest.mark.hint("a data datagram whose seq was delivered already is acknowledged again, never delivered again")
def test_exactly_once_despite_duplicates(impl):
    """When datagrams arrive twice, each message is still delivered exactly once."""
    async def check():
        await exchange(impl, Faults(duplicate=0.5))
    run(check)


@pytest.mark.points(2)
@pytest.mark.hint("deliver message seq only after seq - 1; keep one that arrives early until its turn")
def test_exactly_once_despite_delays_and_reordering(impl):
    """When datagrams are delayed and overtake each other, messages are still delivered in the order sent."""
    async def check():
        await exchange(impl, Faults(delay=(0.0, 3 * TIMEOUT)))
    run(check)


@pytest.mark.points(2)
def test_exactly_once_through_a_partition(impl):
    """When the line is cut for a while, the messages sent meanwhile arrive once it heals, each once, in order."""
    async def check():
        await exchange(impl, Faults(delay=(0.01, 0.05), cut=(0.1, 0.1 + 15 * TIMEOUT)))
    run(check, schedules=4)


@pytest.mark.points(3)
def test_exactly_once_under_every_fault_at_once(impl):
    """Losses, duplicates, delays, a cut line and garbage together still deliver every message once, in order."""
    async def check():
        await exchange(impl, Faults(drop=0.2, duplicate=0.2, delay=(0.0, 2 * TIMEOUT), cut=(0.5, 2.5), garbage=0.2),
                       count=16)
    run(check)


# The protocol datagram by datagram: the check plays the other end.


class Peer(asyncio.DatagramProtocol):
    """The check's end of the protocol: records what arrives, with the time, in a queue; `address` is where the
    last datagram came from."""

    def __init__(self):
        self.arrived = asyncio.Queue()
        self.address = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, datagram, address):
        self.address = address
        self.arrived.put_nowait((asyncio.get_running_loop().time(), datagram, address))

    async def next(self, within: float):
        """(time, datagram, address) of the next datagram within `within` seconds, or None."""
        try:
            async with asyncio.timeout(within):
                return await self.arrived.get()
        except TimeoutError:
            return None


async def peer(address=None):
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0), remote_addr=address)
    return transport, protocol


def story_keeps(story: list[str]) -> bool:
    """Whether the receiver kept the early messages: its answer to the fifth datagram (data 1) was ack 4."""
    return len(story) > 4 and story[4].endswith("A 4")


def said(arrival) -> str:
    if arrival is None:
        return "nothing"
    parsed = kind(arrival[1])
    return f"{parsed[0]} {parsed[1]}" if parsed else f"garbage {arrival[1]!r}"


@pytest.mark.points(3)
@pytest.mark.hint("ack(count) says how many messages arrived in order: 0..count-1, whatever arrived after a gap")
def test_acks_count_the_messages_received_in_order(impl):
    """The receiver answers every data datagram, duplicates and early ones included, with an ack of how many
    messages it has received in order (whether it keeps early ones or not), and receive() returns them in order."""
    async def check():
        receiver = impl.Receiver()
        address = plain(await receiver.start(), "what Receiver.start() returned")
        transport, me = await peer(address)
        story, sent = [], [0, 2, 0, 3, 1, 2, 4]
        # a receiver that keeps the early 2 and 3 (ack 4 after 1), or one that drops them (ack 2): each consistently
        keeps, drops = [1, 1, 1, 1, 4, 4, 5], [1, 1, 1, 1, 2, 3, 3]
        for step, seq in enumerate(sent):
            transport.sendto(data(seq, f"m{seq}".encode()))
            answer = await me.next(within=1.0)
            story.append(f"data {seq} -> {said(answer)}")
            got = kind(answer[1]) if answer else None
            expected = {("A", keeps[step]), ("A", drops[step])} if step == 4 else {
                ("A", (keeps if story_keeps(story) else drops)[step])}
            assert got in expected, (
                f"the check sent data {', '.join(map(str, sent))} to a Receiver, waiting for each answer: "
                f"{'; '.join(story)}; expected {' or '.join(f'ack {n}' for _, n in sorted(expected))} after data {seq}")
        count = 5 if story_keeps(story) else 3
        got = [plain(await receiver.receive(), "what receive() returned") for _ in range(count)]
        assert got == [f"m{n}".encode() for n in range(count)], (
            f"after data {', '.join(map(str, sent))} receive() returned {got}; expected m0..m{count - 1} in order")
        transport.close()
        await receiver.close()
    run(check, schedules=2)


@pytest.mark.points(3)
@pytest.mark.hint("restart a message's timer each time it is sent: it is sent again every `timeout` until acknowledged")
def test_resends_every_timeout_until_acknowledged(impl):
    """A message that no acknowledgement covers is sent again exactly `timeout` after it was last sent, again and
    again, and no more once it is acknowledged."""
    async def check():
        transport, me = await peer()
        sender = impl.Sender(window=3, timeout=TIMEOUT)
        await sender.connect(transport.get_extra_info("sockname"))
        start = asyncio.get_running_loop().time()
        await sender.send(b"hello")
        times = []
        for _ in range(4):
            arrival = await me.next(within=3 * TIMEOUT)
            assert arrival is not None and kind(arrival[1]) == ("D", 0), (
                f"Sender(timeout={TIMEOUT}) sent message 0, nobody acknowledged it; after it came at "
                f"{times} s it sent {said(arrival)} within {3 * TIMEOUT:g} s; expected message 0 again")
            times.append(round(arrival[0] - start, 6))
        assert times == [round(n * TIMEOUT, 6) for n in range(4)], (
            f"Sender(timeout={TIMEOUT}) sent message 0 at {times} s (from send()); expected it every {TIMEOUT:g} s: "
            f"{[round(n * TIMEOUT, 6) for n in range(4)]}")
        me.transport.sendto(ack(1), arrival[2])
        late = await me.next(within=5 * TIMEOUT)
        assert late is None or kind(late[1]) != ("D", 0) or late[0] - start <= times[-1] + TIMEOUT + SLACK, (
            f"message 0 was acknowledged at {times[-1]:g} s, yet the sender sent it again at {late[0] - start:g} s")
        await within(sender.close(), "Sender.close() after the last acknowledgement", lambda: "")
        transport.close()
    run(check, schedules=2)


@pytest.mark.points(3)
@pytest.mark.hint("send() waits while `window` messages are in flight; an acknowledgement makes room")
def test_window_bounds_the_messages_in_flight(impl):
    """With `window` messages sent and not acknowledged, send() waits: no more messages go out until an
    acknowledgement makes room, and then only as many as it made."""
    async def check():
        transport, me = await peer()
        sender = impl.Sender(window=3, timeout=TIMEOUT)
        await sender.connect(transport.get_extra_info("sockname"))
        sending = asyncio.create_task(sender_sends(sender, 6))

        async def seen_within(seconds):
            found = set()
            while (arrival := await me.next(within=seconds)) is not None:
                parsed = kind(arrival[1])
                found.add(parsed[1] if parsed and parsed[0] == "D" else None)
            return found

        first = await seen_within(TIMEOUT / 2)
        assert first == {0, 1, 2}, (f"Sender(window=3) asked to send 6 messages, nothing acknowledged: it sent "
                                    f"messages {sorted(first, key=str)}; expected 0, 1, 2 and then wait")
        assert not sending.done(), "with 3 messages in flight and window=3, send() of the 4th returned"
        me.transport.sendto(ack(2), me.address)
        after = await seen_within(TIMEOUT / 2)
        assert after - {2} == {3, 4}, (f"Sender(window=3): after ack 2 (messages 0 and 1 acknowledged) it sent "
                                       f"{sorted(after, key=str)}; expected 3 and 4 (and maybe 2 again), not 5")
        me.transport.sendto(ack(5), me.address)
        await within(sending, "send() of message 5 after ack 5", lambda: "")
        last = await seen_within(TIMEOUT / 2)
        assert 5 in last, f"Sender(window=3): after ack 5 it sent {sorted(last, key=str)}; expected message 5"
        me.transport.sendto(ack(6), me.address)
        await within(sender.close(), "Sender.close() after ack 6", lambda: "")
        transport.close()

    async def sender_sends(sender, count):
        for message in messages(count):
            await sender.send(message)
    run(check, schedules=2)


@pytest.mark.points(2)
@pytest.mark.hint("ignore what parse() rejects, an ack of more than was sent, and data far ahead: nothing else changes")
def test_ignores_garbage(impl):
    """Datagrams that are not part of the protocol change nothing: the receiver neither delivers nor answers
    them, and the sender does not take an ack of more than it sent as an acknowledgement."""
    async def check():
        receiver = impl.Receiver()
        address = plain(await receiver.start(), "what Receiver.start() returned")
        transport, me = await peer(address)
        for junk in GARBAGE[:5] + [data(1025, b"far ahead"), data(5000, b"far ahead")]:
            transport.sendto(junk)
            answer = await me.next(within=TIMEOUT)
            assert answer is None, f"the check sent {junk!r} to a Receiver; it answered {said(answer)}; expected nothing"
        transport.sendto(data(1024, b"just within reach"))  # 1024 ahead of message 0: not garbage
        answer = await me.next(within=TIMEOUT)
        assert answer is not None and kind(answer[1]) == ("A", 0), (
            f"data 1024 (exactly 1024 ahead of message 0, which is not garbage) got {said(answer)}; expected ack 0")
        transport.sendto(data(0, b"first"))
        answer = await me.next(within=TIMEOUT)
        assert answer is not None and kind(answer[1]) == ("A", 1), (
            f"after garbage, data 0 got {said(answer)}; expected ack 1")
        got = plain(await receiver.receive(), "what receive() returned")
        assert got == b"first", f"after garbage and data 0, receive() returned {got!r}; expected b'first'"
        transport.close()
        await receiver.close()

        transport, me = await peer()
        sender = impl.Sender(window=2, timeout=TIMEOUT)
        await sender.connect(transport.get_extra_info("sockname"))
        await sender.send(b"only")
        first = await me.next(within=TIMEOUT / 2)
        for junk in [ack(2**31), ack(5), b"A\x00", b"Z\x00\x00\x00\x01"]:
            me.transport.sendto(junk, first[2])
        again = await me.next(within=2 * TIMEOUT)
        assert again is not None and kind(again[1]) == ("D", 0), (
            f"the Sender sent message 0 of 1 and got only garbage back (ack 2**31, ack 5, short and unknown datagrams); "
            f"then it sent {said(again)}; expected message 0 again, {TIMEOUT:g} s after the first")
        me.transport.sendto(ack(1), first[2])
        await within(sender.close(), "Sender.close() after ack 1", lambda: "")
        transport.close()
    run(check, schedules=2)


@pytest.mark.points(3)
@pytest.mark.hint("close() waits until the last message is acknowledged, then closes the endpoint and ends its tasks")
def test_close_waits_for_the_last_acknowledgement(impl):
    """Sender.close() returns only once every message sent is acknowledged; then its endpoint is closed and none of
    its tasks is left running."""
    async def check():
        loop = asyncio.get_running_loop()
        transport, me = await peer()
        sender = impl.Sender(window=4, timeout=TIMEOUT)
        await sender.connect(transport.get_extra_info("sockname"))
        for message in messages(3):
            await sender.send(message)
        closing = asyncio.create_task(sender.close())
        first = await me.next(within=TIMEOUT / 2)
        me.transport.sendto(ack(2), first[2])
        await asyncio.sleep(5 * TIMEOUT)
        assert not closing.done(), "Sender.close() returned with message 2 of 3 not acknowledged (only ack 2 came)"
        me.transport.sendto(ack(3), first[2])
        await within(closing, "Sender.close() after ack 3", lambda: "")
        mine = [endpoint for endpoint in loop.network.open() if endpoint is not transport]
        assert mine == [], f"after Sender.close() returned, its endpoint is still open: {mine}"
        running = [task.get_name() for task in asyncio.all_tasks() if task is not asyncio.current_task() and not task.done()]
        assert running == [], f"when Sender.close() returned, its task(s) {running} were still running (cancel and await them)"
        transport.close()
    run(check, schedules=3)


@pytest.mark.points(3)
@pytest.mark.hint("send a message again only while it is in flight, and only `timeout` after it was last sent")
def test_no_retransmission_storm(impl):
    """Through a lossy, slow network, the sender sends a message again only while no acknowledgement covering it has
    reached the sender, only `timeout` after it last sent it, and never has more than `window` in flight."""
    async def check():
        window = 4
        relay = await exchange(impl, Faults(drop=0.25, delay=(0.0, TIMEOUT / 2)), count=16, window=window)
        acked_at, last_sent = [], {}
        for time, what, way, datagram in relay.log:
            parsed = kind(datagram)
            if parsed is None:
                continue
            if (what, way) == ("passed", "to sender") and parsed[0] == "A":
                acked_at.append((time, parsed[1]))
            elif (what, way) == ("sent", "to receiver") and parsed[0] == "D":
                seq = parsed[1]
                covered = max([count for at, count in acked_at if at < time - SLACK], default=0)
                reached = max([count for at, count in acked_at if at <= time + SLACK], default=0)
                assert seq >= covered, (f"at {time - relay.start:.3f} s the sender sent message {seq} again, though "
                                        f"ack {covered} (covering it) had reached it earlier")
                if seq in last_sent:
                    gap = time - last_sent[seq]
                    assert gap >= TIMEOUT - SLACK, (f"the sender sent message {seq} again {gap:.3f} s after it last "
                                                    f"sent it; expected at least the timeout, {TIMEOUT:g} s")
                last_sent[seq] = time
                assert seq < reached + window, (
                    f"at {time - relay.start:.3f} s the sender sent message {seq} while only ack {reached} had reached "
                    f"it: {seq - reached + 1} messages in flight with window={window}")
    run(check)


@pytest.mark.points(2)
@pytest.mark.hint("after a wait for room, look again: another task may have taken the room first")
def test_two_tasks_sending_at_once(impl):
    """Two tasks calling send() at once each get their messages delivered once, in their order, and the window
    still holds: when one acknowledgement makes room for one message, only one of the waiting calls goes on."""
    async def check():
        transport, me = await peer()
        sender = impl.Sender(window=2, timeout=TIMEOUT)
        await sender.connect(transport.get_extra_info("sockname"))
        sent = {"a": [b"a0", b"a1", b"a2"], "b": [b"b0", b"b1", b"b2"]}

        async def sends(name):
            for message in sent[name]:
                await sender.send(message)
        tasks = [asyncio.create_task(sends(name), name=f"sender-{name}") for name in sent]
        arrived, acked = {}, 0
        while acked < 6:
            arrival = await me.next(within=2 * TIMEOUT)
            assert arrival is not None, f"with messages {sorted(arrived)} sent and ack {acked}, the Sender went silent"
            parsed = kind(arrival[1])
            if parsed is None or parsed[0] != "D":
                continue
            seq = parsed[1]
            assert seq < acked + 2, (f"Sender(window=2), two tasks sending: message {seq} went out with only ack "
                                     f"{acked}: {seq - acked + 1} messages in flight")
            arrived.setdefault(seq, arrival[1][5:])
            if seq == acked:
                acked += 1
                me.transport.sendto(ack(acked), arrival[2])
        await within(asyncio.gather(*tasks), "the two tasks' send() calls", lambda: "")
        order = [arrived[n] for n in range(6)]
        for name, mine in sent.items():
            assert [m for m in order if m in mine] == mine, (
                f"two tasks sent {sent['a']} and {sent['b']}; messages 0..5 were {order}: task {name}'s are out of order")
        await within(sender.close(), "Sender.close() after ack 6", lambda: "")
        transport.close()
    run(check, schedules=4)


# Real sockets, real time.

REAL_MESSAGES, REAL_TIMEOUT, REAL_BOUND = 30, 0.05, 20.0


@pytest.mark.points(2)
def test_real_sockets_end_to_end(impl):
    """On real UDP sockets and the real clock, through a relay that loses and repeats datagrams, every message
    arrives once, in order, and both ends close."""
    async def check():
        loop = asyncio.get_running_loop()
        receiver = impl.Receiver()
        address = plain(await receiver.start(("127.0.0.1", 0)), "what Receiver.start() returned")
        relay_transport, relay = await loop.create_datagram_endpoint(
            lambda: Relay(address, Faults(drop=0.2, duplicate=0.2, delay=(0.0, 0.01)), random.Random(0)),
            local_addr=("127.0.0.1", 0))
        sender = impl.Sender(window=4, timeout=REAL_TIMEOUT)
        await sender.connect(relay_transport.get_extra_info("sockname"))
        sent, got = messages(REAL_MESSAGES), []

        async def produce():
            for message in sent:
                await sender.send(message)
            await sender.close()

        async def consume():
            for _ in sent:
                got.append(plain(await receiver.receive(), "what receive() returned"))
        try:
            await asyncio.wait_for(asyncio.gather(produce(), consume()), REAL_BOUND)
        except TimeoutError:
            raise AssertionError(f"on real sockets, {REAL_MESSAGES} messages through a relay that drops and repeats "
                                 f"20%: not done after {REAL_BOUND:g} s; {show(got, sent)} so far") from None
        await receiver.close()
        relay_transport.close()
        assert got == sent, f"on real sockets through a lossy relay: {show(got, sent)}"
    asyncio.run(check())
