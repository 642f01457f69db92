"""UDP on the virtual loop: datagram endpoints that deliver in memory, on virtual time.

`VirtualLoop.create_datagram_endpoint` (grader.sched.aio) hands out the transports of its `Network`. Each is
bound to an address on loopback, `("127.0.0.1", port)`; `sendto()` hands a copy of the datagram to the endpoint
bound at the destination as a ready callback (so the loop's seeded order decides which of several datagrams
ready at once arrives first), or drops it where nothing is bound, as UDP does. Losses, delays and reordering
are the business of whoever relays the datagrams: a check's lossy relay is one more endpoint. `Network.open()`
lists the endpoints not yet closed, so a check can assert that a protocol's close() left none behind.
"""
from __future__ import annotations

import asyncio
import errno
import itertools

__all__ = ["Network", "DatagramTransport", "LOOPBACK"]

LOOPBACK = "127.0.0.1"
FIRST_PORT = 40000  # ports handed out for ("127.0.0.1", 0): reproducible, whatever the real machine uses
MAX_DATAGRAM = 65507  # bytes of UDP payload over IPv4


class Network:
    """The endpoints of one virtual loop, by address, and the datagrams their transports sent."""

    def __init__(self, loop):
        self.loop = loop
        self.bound: dict[tuple[str, int], DatagramTransport] = {}
        self.everyone: list[DatagramTransport] = []
        self._ports = itertools.count(FIRST_PORT)

    def bind(self, transport: DatagramTransport, address) -> tuple[str, int]:
        host, port = _address(address or (LOOPBACK, 0))
        if port == 0:
            port = next(port for port in self._ports if (host, port) not in self.bound)
        if (host, port) in self.bound:
            raise OSError(errno.EADDRINUSE, f"[Errno {errno.EADDRINUSE}] address already in use: {host}:{port}")
        self.bound[(host, port)] = transport
        self.everyone.append(transport)
        return host, port

    def unbind(self, transport: DatagramTransport) -> None:
        if self.bound.get(transport.local) is transport:
            del self.bound[transport.local]

    def deliver(self, data: bytes, source: tuple[str, int], destination) -> None:
        target = self.bound.get(_address(destination))
        if target is not None:
            self.loop.call_soon(target.receive, data, source)

    def open(self) -> list[DatagramTransport]:
        """The endpoints not closed yet, in the order they were made."""
        return [transport for transport in self.everyone if not transport.is_closing()]


def _address(address) -> tuple[str, int]:
    """A loopback (host, port) pair; any other address cannot be reached on this network."""
    if not (isinstance(address, tuple) and len(address) >= 2 and isinstance(address[1], int)):
        raise TypeError(f"an address is a (host, port) tuple, not {address!r}")
    host = LOOPBACK if address[0] in ("localhost", LOOPBACK, "") else address[0]
    if host != LOOPBACK:
        raise OSError(errno.EADDRNOTAVAIL, f"[Errno {errno.EADDRNOTAVAIL}] cannot reach {address[0]}: "
                      "only loopback (127.0.0.1) is reachable here")
    return host, address[1]


class DatagramTransport(asyncio.DatagramTransport):
    """A UDP endpoint on a Network: bound to `local`, and connected to `remote` when that is given (then it
    sends there by default and takes datagrams from there only, as a connected socket does)."""

    def __init__(self, network: Network, protocol, local=None, remote=None):
        super().__init__()
        self.network = network
        self.protocol = protocol
        self.remote = _address(remote) if remote is not None else None
        self.local = network.bind(self, local)
        self.sent = 0  # datagrams sent
        self._closing = False
        self._started = False
        self._waiting: list[tuple[bytes, tuple[str, int]]] = []  # arrived before connection_made(), as a socket keeps them

    def start(self) -> None:
        """Call the protocol's connection_made(), then let the datagrams that came before it in."""
        self.protocol.connection_made(self)
        self._started = True
        for data, source in self._waiting:
            self.network.loop.call_soon(self.receive, data, source)
        self._waiting.clear()

    def sendto(self, data, addr=None):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, not {type(data).__name__!r}")
        if self.remote is not None and addr not in (None, self.remote):
            raise ValueError(f"Invalid address: must be None or {self.remote}")
        destination = addr if addr is not None else self.remote
        if destination is None:
            raise OSError(errno.EDESTADDRREQ, "[Errno 89] Destination address required")
        if len(data) > MAX_DATAGRAM:
            raise OSError(errno.EMSGSIZE, "[Errno 90] Message too long")
        if self._closing:
            return
        self.sent += 1
        self.network.deliver(bytes(data), self.local, destination)

    def receive(self, data: bytes, source: tuple[str, int]) -> None:
        """A datagram arrives (a ready callback of the loop)."""
        if self._closing or (self.remote is not None and source != self.remote):
            return
        if not self._started:
            self._waiting.append((data, source))
            return
        self.protocol.datagram_received(data, source)

    def close(self):
        if self._closing:
            return
        self._closing = True
        self.network.unbind(self)
        self.network.loop.call_soon(self.protocol.connection_lost, None)

    def abort(self):
        self.close()

    def is_closing(self):
        return self._closing

    def get_write_buffer_size(self):
        return 0

    def get_extra_info(self, name, default=None):
        return {"sockname": self.local, "peername": self.remote}.get(name, default)

    def __repr__(self):
        state = "closed" if self._closing else "open"
        return f"<datagram endpoint {self.local[0]}:{self.local[1]} {state}>"
