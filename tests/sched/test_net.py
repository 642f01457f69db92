"""UDP on the scheduler's event loop: endpoints on loopback in memory, connected or not, datagrams in a seeded
order, dropped where nobody listens, and every endpoint accounted for."""
import asyncio
import errno

import pytest

from grader.sched import explore_async, run_seed


class Recorder(asyncio.DatagramProtocol):
    def __init__(self):
        self.got, self.lost = [], False

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, address):
        self.got.append((data, address))

    def connection_lost(self, exc):
        self.lost = True


def test_datagrams_go_between_endpoints_in_a_seeded_order_and_closed_ones_are_gone():
    orders = set()

    async def main():
        loop = asyncio.get_running_loop()
        server, recorder = await loop.create_datagram_endpoint(Recorder, local_addr=("127.0.0.1", 0))
        address = server.get_extra_info("sockname")
        assert address == ("127.0.0.1", 40000) and run_seed() is not None
        client, _ = await loop.create_datagram_endpoint(Recorder, remote_addr=address)
        for n in range(4):
            client.sendto(bytes([n]))
        server.sendto(b"nobody", ("127.0.0.1", 1))  # no error: a datagram to nowhere is simply lost
        await asyncio.sleep(0.1)
        assert sorted(data for data, _ in recorder.got) == [bytes([n]) for n in range(4)]
        assert {source for _, source in recorder.got} == {client.get_extra_info("sockname")}
        orders.add(tuple(data for data, _ in recorder.got))
        client.close()
        await asyncio.sleep(0.01)
        assert loop.network.open() == [server] and not recorder.lost
        server.close()
        await asyncio.sleep(0.01)
        assert loop.network.open() == [] and recorder.lost
    explore_async(main, schedules=20)
    assert len(orders) > 1  # the seeds shuffle datagrams ready at once


def test_a_connected_endpoint_takes_datagrams_from_its_peer_only_and_addresses_are_checked():
    async def main():
        loop = asyncio.get_running_loop()
        peer, _ = await loop.create_datagram_endpoint(Recorder, local_addr=("localhost", 5000))
        other, _ = await loop.create_datagram_endpoint(Recorder, local_addr=("127.0.0.1", 0))
        connected, mine = await loop.create_datagram_endpoint(Recorder, remote_addr=("127.0.0.1", 5000))
        here = connected.get_extra_info("sockname")
        peer.sendto(b"from the peer", here)
        other.sendto(b"from someone else", here)
        await asyncio.sleep(0.01)  # every ready callback runs before the clock moves
        assert mine.got == [(b"from the peer", ("127.0.0.1", 5000))]
        with pytest.raises(ValueError):
            connected.sendto(b"x", ("127.0.0.1", 6000))
        with pytest.raises(TypeError):
            connected.sendto("text")
        with pytest.raises(OSError) as taken:
            await loop.create_datagram_endpoint(Recorder, local_addr=("127.0.0.1", 5000))
        assert taken.value.errno == errno.EADDRINUSE
        with pytest.raises(OSError) as away:
            await loop.create_datagram_endpoint(Recorder, remote_addr=("192.0.2.1", 53))
        assert away.value.errno == errno.EADDRNOTAVAIL
        for transport in (peer, other, connected):
            transport.close()
    explore_async(main, schedules=3)
