"""A second correct reliable_udp: a timer handle per message (loop.call_later) instead of a resending task, and a
receiver that drops what arrives early (go-back-N): the sender sends it again."""
import asyncio

SEQ_BYTES = 4


def data(seq: int, payload: bytes) -> bytes:
    return b"D" + seq.to_bytes(SEQ_BYTES, "big") + payload


def ack(count: int) -> bytes:
    return b"A" + count.to_bytes(SEQ_BYTES, "big")


def parse(datagram: bytes) -> tuple[str, int, bytes] | None:
    if len(datagram) < 1 + SEQ_BYTES or datagram[:1] not in (b"D", b"A"):
        return None
    number = int.from_bytes(datagram[1:1 + SEQ_BYTES], "big")
    if datagram[:1] == b"A":
        return ("A", number, b"") if len(datagram) == 1 + SEQ_BYTES else None
    return "D", number, datagram[1 + SEQ_BYTES:]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, on_datagram):
        self.on_datagram = on_datagram
        self.gone = asyncio.Event()

    def datagram_received(self, datagram, address):
        parsed = parse(datagram)
        if parsed:
            self.on_datagram(parsed, address)

    def connection_lost(self, exc):
        self.gone.set()


class Sender:
    def __init__(self, *, window: int = 8, timeout: float = 0.2):
        self.window, self.timeout = window, timeout
        self.base = 0                      # oldest unacknowledged
        self.pending: list[bytes] = []     # messages base, base+1, ... not acknowledged
        self.timers: dict[int, asyncio.TimerHandle] = {}
        self.room = asyncio.Condition()

    async def connect(self, address):
        loop = asyncio.get_running_loop()
        self.transport, self.protocol = await loop.create_datagram_endpoint(
            lambda: _Protocol(self._on_datagram), remote_addr=address)

    async def send(self, message: bytes):
        async with self.room:
            await self.room.wait_for(lambda: len(self.pending) < self.window)
            self.pending.append(message)
            self._fire(self.base + len(self.pending) - 1)

    def _fire(self, seq: int):
        if not (self.base <= seq < self.base + len(self.pending)) or self.transport.is_closing():
            return
        self.transport.sendto(data(seq, self.pending[seq - self.base]))
        self.timers[seq] = asyncio.get_running_loop().call_later(self.timeout, self._fire, seq)

    def _on_datagram(self, parsed, address):
        kind, count, _ = parsed
        if kind == "A" and self.base < count <= self.base + len(self.pending):
            for seq in range(self.base, count):
                self.timers.pop(seq).cancel()
            del self.pending[:count - self.base]
            self.base = count
            asyncio.ensure_future(self._notify())

    async def _notify(self):
        async with self.room:
            self.room.notify_all()

    async def close(self):
        async with self.room:
            await self.room.wait_for(lambda: not self.pending)
        await asyncio.sleep(0)  # let the last _notify() tasks end
        self.transport.close()
        await self.protocol.gone.wait()


class Receiver:
    def __init__(self):
        self.count = 0
        self.inbox: asyncio.Queue = asyncio.Queue()

    async def start(self, address=("127.0.0.1", 0)):
        loop = asyncio.get_running_loop()
        self.transport, self.protocol = await loop.create_datagram_endpoint(
            lambda: _Protocol(self._on_datagram), local_addr=address)
        return tuple(self.transport.get_extra_info("sockname")[:2])

    def _on_datagram(self, parsed, address):
        kind, seq, payload = parsed
        if kind != "D" or seq > self.count + 1024:
            return
        if seq == self.count:
            self.inbox.put_nowait(payload)
            self.count += 1
        self.transport.sendto(ack(self.count), address)

    async def receive(self) -> bytes:
        return await self.inbox.get()

    async def close(self):
        self.transport.close()
        await self.protocol.gone.wait()
