"""A second correct async_server, written differently from the reference: no streams but an
asyncio.Protocol per connection, whose data_received() splits lines into a queue that one worker task
answers in order; INCR and SET take a lock per key. It must get full marks, so the checks cannot
demand one design."""
import asyncio


class Store:
    """The server's data. Given: use it as it is."""

    def __init__(self):
        self._data = {}

    async def get(self, key: str) -> str | None:
        await asyncio.sleep(0)  # the round trip to the database
        return self._data.get(key)

    async def set(self, key: str, value: str) -> None:
        await asyncio.sleep(0)  # the round trip to the database
        self._data[key] = value


class _Shared:
    def __init__(self):
        self.store = Store()
        # One lock per key: _locks[key] guards that key's read-modify-write (INCR) against every other
        # write of the same key. Different keys never wait for each other.
        self._locks = {}

    async def execute(self, line: bytes) -> str | None:
        try:
            words = line.removesuffix(b"\r").decode().split(" ")
        except UnicodeDecodeError:
            return "ERR not UTF-8"
        words = [w for w in words if w]
        command, args = (words[0], words[1:]) if words else ("", [])
        arity = {"GET": 1, "SET": 2, "INCR": 1, "QUIT": 0}
        if command not in arity:
            return f"ERR unknown command {command!r}" if command else "ERR empty line"
        if len(args) != arity[command]:
            return f"ERR {command} takes {arity[command]} argument(s)"
        if command == "QUIT":
            return None
        if command == "GET":
            value = await self.store.get(args[0])
            return "NIL" if value is None else value
        lock = self._locks.setdefault(args[0], asyncio.Lock())
        async with lock:
            if command == "SET":
                await self.store.set(*args)
                return "OK"
            value = await self.store.get(args[0])
            try:
                number = int(value or "0") + 1
            except ValueError:
                return "ERR not an integer"
            await self.store.set(args[0], str(number))
            return str(number)


class _Connection(asyncio.Protocol):
    """One client: complete lines go to a queue; a worker task answers them in order, then closes."""

    def __init__(self, shared: _Shared):
        self.shared = shared
        self.partial = b""               # the start of a line whose \n has not come yet
        self.lines = asyncio.Queue()     # complete lines, then None at end of file
        self.worker = None

    def connection_made(self, transport):
        self.transport = transport
        self.worker = asyncio.get_running_loop().create_task(self.answer())

    def data_received(self, data):
        *lines, self.partial = (self.partial + data).split(b"\n")
        for line in lines:
            self.lines.put_nowait(line)

    def eof_received(self):
        self.lines.put_nowait(None)      # an unfinished line in self.partial is dropped
        return True                      # keep the connection open until the worker has answered

    def connection_lost(self, exc):
        if self.worker is not None:
            self.worker.cancel()         # nobody left to answer

    async def answer(self):
        try:
            while (line := await self.lines.get()) is not None:
                reply = await self.shared.execute(line)
                if reply is None:        # QUIT
                    break
                self.transport.write(reply.encode() + b"\n")
        finally:
            self.transport.close()


async def start_server(host: str, port: int) -> asyncio.Server:
    shared = _Shared()
    return await asyncio.get_running_loop().create_server(lambda: _Connection(shared), host, port)
