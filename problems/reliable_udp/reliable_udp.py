"""Reliable messaging over UDP: exactly once and in order, through a network that loses, repeats and reorders
datagrams. See README.md."""
import asyncio  # noqa: F401  (you will need it)

SEQ_BYTES = 4  # given: keep the format as it is


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


class Sender:
    """Sends messages to one Receiver, each delivered exactly once and in order: see README.md."""

    def __init__(self, *, window: int = 8, timeout: float = 0.2):
        """A sender with at most `window` messages in flight, each sent again `timeout` seconds after it was last sent."""
        raise NotImplementedError("Sender() is yours to write; see README.md")

    async def connect(self, address: tuple[str, int]) -> None:
        """Open a datagram endpoint that sends to `address`."""
        raise NotImplementedError("connect() is yours to write; see README.md")

    async def send(self, message: bytes) -> None:
        """Send the next message; first wait while `window` messages are in flight."""
        raise NotImplementedError("send() is yours to write; see README.md")

    async def close(self) -> None:
        """Wait until every message sent is acknowledged, then close the endpoint; leave no task running."""
        raise NotImplementedError("close() is yours to write; see README.md")


class Receiver:
    """Receives the messages of one Sender, each exactly once and in order: see README.md."""

    def __init__(self):
        raise NotImplementedError("Receiver() is yours to write; see README.md")

    async def start(self, address: tuple[str, int] = ("127.0.0.1", 0)) -> tuple[str, int]:
        """Open a datagram endpoint bound to `address` (port 0: any free port) and return the address it is bound to."""
        raise NotImplementedError("start() is yours to write; see README.md")

    async def receive(self) -> bytes:
        """The next message, in order; wait until it has arrived."""
        raise NotImplementedError("receive() is yours to write; see README.md")

    async def close(self) -> None:
        """Close the endpoint; leave no task running."""
        raise NotImplementedError("close() is yours to write; see README.md")
