"""The handler reads its client's lines with a blocking socket, as a thread-per-client server would.

In a coroutine, the blocking recv() holds the whole event loop: while one client is silent in the
middle of a line, no other client is served, and no other task runs.

Caught by: slow_client_does_not_delay_others
"""
import asyncio


class Store:
    """The server's data. Given: use it as it is.

    get() and set() are coroutines that suspend on every call, as a call to a database would: other
    tasks run between any two of your awaits on it.
    """

    def __init__(self):
        self._data = {}

    async def get(self, key: str) -> str | None:
        """The value stored under key, or None if it was never set."""
        await asyncio.sleep(0)  # the round trip to the database
        return self._data.get(key)

    async def set(self, key: str, value: str) -> None:
        """Store value under key."""
        await asyncio.sleep(0)  # the round trip to the database
        self._data[key] = value


class _KeyValueServer:
    """The state shared by every connection of one server."""

    def __init__(self):
        self.store = Store()
        # _writing guards the store's writes: INCR holds it from its read to its write, SET for its write,
        # so no write slips in between an INCR's read and write. It is an asyncio.Lock: a handler waiting
        # for it lets every other task run, and async with releases it on every path.
        self._writing = asyncio.Lock()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer one client's commands until it sends QUIT or closes its side; always close the connection."""
        sock = writer.get_extra_info("socket").dup()  # a plain socket on the same connection
        sock.setblocking(True)
        writer.transport.pause_reading()  # this handler reads the socket itself
        pending = b""
        try:
            while True:
                while b"\n" not in pending:
                    chunk = sock.recv(4096)  # BUG: blocks the event loop until this client sends
                    if not chunk:
                        return
                    pending += chunk
                line, pending = pending.split(b"\n", 1)
                reply = await self.execute(line + b"\n")
                if reply is None:  # QUIT
                    return
                writer.write(reply.encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            return  # the client reset the connection, or sent a line longer than the stream's limit
        finally:
            sock.close()
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass

    async def execute(self, line: bytes) -> str | None:
        """The reply to one command line, or None for QUIT."""
        try:
            words = line.decode("utf-8").split()
        except UnicodeDecodeError:
            return "ERR the line is not UTF-8 text"
        match words:
            case ["QUIT"]:
                return None
            case ["GET", key]:
                value = await self.store.get(key)
                return "NIL" if value is None else value
            case ["SET", key, value]:
                async with self._writing:  # not in the middle of an INCR
                    await self.store.set(key, value)
                return "OK"
            case ["INCR", key]:
                async with self._writing:
                    value = await self.store.get(key)
                    try:
                        number = int(value) + 1 if value is not None else 1
                    except ValueError:
                        return f"ERR the value of {key} is not an integer"
                    await self.store.set(key, str(number))
                return str(number)
            case []:
                return "ERR empty line"
            case [("GET" | "SET" | "INCR" | "QUIT") as command, *_]:
                return f"ERR wrong number of words for {command}"
            case [command, *_]:
                return f"ERR unknown command {command!r}"


async def start_server(host: str, port: int) -> asyncio.Server:
    """Start serving the protocol of README.md on host:port (port 0: any free port) and return the listening server.

    The caller stops it with server.close() and then await server.wait_closed().
    """
    state = _KeyValueServer()
    return await asyncio.start_server(state.serve, host, port)
