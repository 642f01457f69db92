"""INCR of a key that was never set replies ERR instead of counting from 0.

Caught by: commands
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
        try:
            while True:
                line = await reader.readline()
                if not line.endswith(b"\n"):  # b"" at EOF, or a last line the client never finished
                    return
                reply = await self.execute(line)
                if reply is None:  # QUIT
                    return
                writer.write(reply.encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            return  # the client reset the connection, or sent a line longer than the stream's limit
        finally:
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
                        number = int(value) + 1  # BUG: int(None) raises TypeError for a key never set
                    except (ValueError, TypeError):
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
