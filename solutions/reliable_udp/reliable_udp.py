"""Reliable messaging over UDP: exactly once and in order, through a network that loses, repeats and reorders
datagrams. See README.md."""
import asyncio

SEQ_BYTES = 4  # given: keep the format as it is
AHEAD = 1024  # a data datagram further ahead than this of the one awaited is garbage (README.md)
SLACK = 1e-9  # seconds: a deadline met up to the clock's rounding is met


def data(seq: int, payload: bytes) -> bytes:
    """Given: the datagram that carries message `seq`."""
    return b"D" + seq.to_bytes(SEQ_BYTES, "big") + payload


def ack(count: int) -> bytes:
    """Given: the datagram that says the first `count` messages have arrived, in order."""
    return b"A" + count.to_bytes(SEQ_BYTES, "big")


def parse(datagram: bytes) -> tuple[str, int, bytes] | None:
    """Given: ("D", seq, payload) or ("A", count, b"") for a datagram of the protocol; None for anything else."""
    if len(datagram) < 1 + SEQ_BYTES or datagram[:1] not in (b"D", b"A"):
        return None
    number = int.from_bytes(datagram[1:1 + SEQ_BYTES], "big")
    if datagram[:1] == b"A":
        return ("A", number, b"") if len(datagram) == 1 + SEQ_BYTES else None
    return "D", number, datagram[1 + SEQ_BYTES:]


class _Endpoint(asyncio.DatagramProtocol):
    """Hands each datagram of the protocol to its owner's arrived(); `closed` is done once the endpoint is."""

    def __init__(self, owner):
        self.owner = owner
        self.closed = asyncio.get_running_loop().create_future()

    def datagram_received(self, datagram, address):
        parsed = parse(datagram)
        if parsed is not None:
            self.owner.arrived(*parsed, address)

    def error_received(self, exc):
        pass  # an ICMP error (nobody listening yet, say): sending again covers it

    def connection_lost(self, exc):
        if not self.closed.done():
            self.closed.set_result(None)


class Sender:
    """Sends messages to one Receiver, each delivered exactly once and in order: see README.md."""

    def __init__(self, *, window: int = 8, timeout: float = 0.2):
        """A sender with at most `window` messages in flight, each sent again `timeout` seconds after it was last sent."""
        if window < 1 or timeout <= 0:
            raise ValueError(f"window must be at least 1 and timeout positive, not {window} and {timeout}")
        self.window, self.timeout = window, timeout
        self._next = 0  # the number of the next message send() numbers
        self._acked = 0  # every message before it is acknowledged
        self._in_flight: dict[int, bytes] = {}  # sent and not acknowledged: seq -> message
        self._last_sent: dict[int, float] = {}  # seq -> loop time it was last sent
        # _moved is set when acknowledgements move (room in the window; close may be done); _sent when a message
        # goes out (the resender has a deadline again). Who waits clears the event, then checks, then waits.
        self._moved = asyncio.Event()
        self._sent = asyncio.Event()

    async def connect(self, address: tuple[str, int]) -> None:
        """Open a datagram endpoint that sends to `address`."""
        loop = asyncio.get_running_loop()
        self._transport, self._endpoint = await loop.create_datagram_endpoint(lambda: _Endpoint(self),
                                                                              remote_addr=address)
        self._resender = asyncio.create_task(self._resend(), name="resender")

    async def send(self, message: bytes) -> None:
        """Send the next message; first wait while `window` messages are in flight."""
        while len(self._in_flight) >= self.window:
            self._moved.clear()
            await self._moved.wait()
        seq = self._next
        self._next += 1
        self._in_flight[seq] = message
        self._transmit(seq)

    def _transmit(self, seq: int) -> None:
        self._transport.sendto(data(seq, self._in_flight[seq]))
        self._last_sent[seq] = asyncio.get_running_loop().time()
        self._sent.set()

    def arrived(self, kind: str, count: int, payload: bytes, address) -> None:
        if kind != "A" or count > self._next or count <= self._acked:
            return  # not an acknowledgement, garbage, or nothing new
        for seq in range(self._acked, count):
            del self._in_flight[seq], self._last_sent[seq]
        self._acked = count
        self._moved.set()

    async def _resend(self) -> None:
        """Send each message in flight again once `timeout` has passed since it was last sent."""
        loop = asyncio.get_running_loop()
        while True:
            if not self._last_sent:
                self._sent.clear()
                await self._sent.wait()
                continue
            due = min(self._last_sent.values()) + self.timeout
            if due - loop.time() > SLACK:
                await asyncio.sleep(due - loop.time())  # an acknowledgement meanwhile only makes it later
                continue
            now = loop.time()
            for seq in sorted(self._last_sent):
                if self._last_sent[seq] + self.timeout - now <= SLACK:
                    self._transmit(seq)

    async def close(self) -> None:
        """Wait until every message sent is acknowledged, then close the endpoint; leave no task running."""
        while self._in_flight:
            self._moved.clear()
            await self._moved.wait()
        self._resender.cancel()
        try:
            await self._resender
        except asyncio.CancelledError:
            pass
        self._transport.close()
        await self._endpoint.closed


class Receiver:
    """Receives the messages of one Sender, each exactly once and in order: see README.md."""

    def __init__(self):
        self._expected = 0  # messages received in order so far: the next one to deliver
        self._early: dict[int, bytes] = {}  # arrived ahead of their turn: seq -> message
        self._ready: asyncio.Queue[bytes] = asyncio.Queue()  # delivered in order, not yet received

    async def start(self, address: tuple[str, int] = ("127.0.0.1", 0)) -> tuple[str, int]:
        """Open a datagram endpoint bound to `address` (port 0: any free port) and return the address it is bound to."""
        loop = asyncio.get_running_loop()
        self._transport, self._endpoint = await loop.create_datagram_endpoint(lambda: _Endpoint(self),
                                                                              local_addr=address)
        host, port = self._transport.get_extra_info("sockname")[:2]
        return host, port

    def arrived(self, kind: str, seq: int, payload: bytes, address) -> None:
        if kind != "D" or seq - self._expected > AHEAD:
            return  # not data, or garbage
        if seq >= self._expected:
            self._early.setdefault(seq, payload)
            while self._expected in self._early:
                self._ready.put_nowait(self._early.pop(self._expected))
                self._expected += 1
        self._transport.sendto(ack(self._expected), address)

    async def receive(self) -> bytes:
        """The next message, in order; wait until it has arrived."""
        return await self._ready.get()

    async def close(self) -> None:
        """Close the endpoint; leave no task running."""
        self._transport.close()
        await self._endpoint.closed
