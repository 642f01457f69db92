"""Checks for async_server. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.

The server runs on its own event loop in a thread named "server"; the clients are plain blocking
sockets in the check's thread, on 127.0.0.1. So a server that blocks its event loop cannot block the
check: a client waits at most BOUND seconds for a reply and then reports what it was waiting for.
BOUND is only a failure bound: a correct server answers in well under a millisecond, and no verdict
depends on how fast it does. Each scenario is arranged so that a bug shows every time, not by luck.
"""
import asyncio
import collections
import concurrent.futures
import gc
import linecache
import os
import selectors
import socket
import struct
import threading
import time

import pytest

from grader.checking import describe_error

BOUND = 5.0     # seconds a client waits for a reply, or for the server to close, before the check fails
HOST = "127.0.0.1"


class GatherSelector(selectors.DefaultSelector):
    """The server loop's selector, with two controls for the check's thread.

    gather(n): the next select() that sees any event waits (at most BOUND) until n sockets are readable
    at once and returns them together, so the event loop hands all those clients' data to their
    handlers in the same iteration.
    taken_in(mark): whether, since mark(), a select() has reported readable data and the loop has then
    finished that iteration (it began another select()): the data sent before mark() has been read.
    """

    def __init__(self):
        super().__init__()
        self.wanted = None
        self.calls = 0               # select() calls begun
        self.reads = 0               # select() calls that reported readable data
        self.last_read_call = 0      # the number of the last of those

    def gather(self, n):
        self.wanted = n

    def mark(self):
        return self.reads

    def taken_in(self, mark):
        return self.reads > mark and self.calls > self.last_read_call

    def select(self, timeout=None):
        self.calls += 1
        call = self.calls
        events = super().select(timeout)
        if self.wanted is not None and events:
            deadline = time.monotonic() + BOUND
            while sum(bool(mask & selectors.EVENT_READ) for _, mask in events) < self.wanted \
                    and time.monotonic() < deadline:
                events = super().select(0.01)
            self.wanted = None
        if any(mask & selectors.EVENT_READ for _, mask in events):
            self.last_read_call = call
            self.reads += 1
        return events


class Server:
    """impl.start_server(HOST, 0) on an event loop in a daemon thread named "server"."""

    def __init__(self, impl):
        self.impl = impl
        self.clients = []
        self.selector = GatherSelector()
        self.loop = asyncio.SelectorEventLoop(self.selector)
        self.thread = threading.Thread(target=self.loop.run_forever, name="server", daemon=True)
        self.thread.start()
        self.server = None
        self.server = self.call(impl.start_server(HOST, 0), f"start_server({HOST!r}, 0)")
        sockets = getattr(self.server, "sockets", None)
        assert sockets, (f"start_server({HOST!r}, 0) returned {self.server!r}; expected the asyncio.Server, "
                         "listening, that asyncio.start_server() returns")
        self.port = sockets[0].getsockname()[1]

    def call(self, coroutine, what):
        """Run coroutine on the server's loop and return its result; fail if it raises or hangs."""
        __tracebackhide__ = True
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(BOUND)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise AssertionError(f"{what} did not finish within {BOUND:g} s: the server's event loop is blocked "
                                 "or the call waits for something that never comes") from None
        except Exception as exc:
            raise AssertionError(f"{what} {describe_error(self.impl, exc, name_call=False)}") from exc

    def tasks(self):
        """The server loop's tasks, each with where it waits: {task: "async_server.py:31 `line`"}."""
        async def others():
            me = asyncio.current_task()
            return {task: self._await_point(task) for task in asyncio.all_tasks() if task is not me}
        return self.call(others(), "listing the server's tasks")

    def _await_point(self, task):
        frames = task.get_stack()
        if not frames:
            return "(not started)"
        frame = frames[-1]
        text = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno} `{text}`"

    def send_piece(self, client, data):
        """client sends data, and we wait (at most BOUND) until the server's event loop has read it, so the
        next piece cannot arrive together with it. Only for a connection that is the only one talking."""
        mark = self.selector.mark()
        client.send(data)
        deadline = time.monotonic() + BOUND
        while not self.selector.taken_in(mark) and time.monotonic() < deadline:
            time.sleep(0.001)

    def connect(self, name):
        client = Client(self, name)
        self.clients.append(client)
        return client

    def stop(self):
        """Close every client, then the server; abandon a loop that is blocked (its thread is a daemon)."""
        for client in self.clients:
            client.close()
        if not self.thread.is_alive():
            return

        async def shut_down():
            if self.server is not None:
                self.server.close()
                try:
                    await asyncio.wait_for(self.server.wait_closed(), 1)
                except (TimeoutError, asyncio.TimeoutError):
                    pass   # a connection the server never closed: the leak check reports those
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.wait(others, timeout=1) if others else None

        try:
            asyncio.run_coroutine_threadsafe(shut_down(), self.loop).result(3)
        except Exception:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(BOUND)
        if not self.thread.is_alive():
            self.loop.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Client:
    """One connection to the server: a blocking socket whose every wait is bounded by BOUND."""

    def __init__(self, server, name):
        self.name = name
        self.pending = b""     # received, not yet read as a line
        self.sent = []         # commands sent, for messages
        try:
            self.sock = socket.create_connection((HOST, server.port), timeout=BOUND)
        except OSError as exc:
            raise AssertionError(f"{name} could not connect to the server: {exc}") from None

    def send(self, data: bytes):
        self.sock.sendall(data)

    def reply(self):
        """The next line from the server without its line ending; "closed" at EOF; None after BOUND of silence."""
        deadline = time.monotonic() + BOUND
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                return None
            except ConnectionError:
                chunk = b""
            if not chunk:
                return "closed"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.removesuffix(b"\r").decode("utf-8", "replace")

    def ask(self, command, context=""):
        """Send one command line, return the reply line; fail if the server closes or stays silent."""
        __tracebackhide__ = True
        self.send(command.encode() + b"\n")
        self.sent.append(command)
        got = self.reply()
        if got is None:
            raise AssertionError(f"{self.name} sent {command!r} and got no reply within {BOUND:g} s{context}")
        if got == "closed":
            raise AssertionError(f"{self.name} sent {command!r} and the server closed the connection instead of "
                                 f"replying{context}")
        return got

    def rest(self):
        """Everything the server sends until it closes the connection: (bytes, closed within BOUND?)."""
        deadline = time.monotonic() + BOUND
        data, self.pending = self.pending, b""
        while (remaining := deadline - time.monotonic()) > 0:
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                break
            except ConnectionError:
                return data, True
            if not chunk:
                return data, True
            data += chunk
        return data, False

    def half_close(self):
        """Close our sending side, as a client does when it has nothing more to say; we can still read."""
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self):
        """Vanish abruptly: close with an RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


def expect(client, command, want, context=""):
    __tracebackhide__ = True
    got = client.ask(command, context)
    assert got == want, f"{client.name} sent {command!r} and got {got!r}; expected {want!r}{context}"


# The protocol, one client at a time.


@pytest.mark.points(2)
@pytest.mark.hint("GET of a key never set is NIL, INCR of one starts from 0; read whole lines (await reader.readline()) and split them into words")
def test_commands(impl):
    """SET, GET and INCR do what the protocol says, whether lines arrive in pieces or several at once."""
    with Server(impl) as server:
        client = server.connect("client-0")
        steps = [("GET a", "NIL"), ("SET a 1", "OK"), ("GET a", "1"), ("INCR a", "2"), ("INCR a", "3"),
                 ("GET a", "3"), ("INCR fresh", "1"), ("SET a hello", "OK"), ("GET a", "hello"), ("GET fresh", "1")]
        for i, (command, want) in enumerate(steps):
            before = [c for c, _ in steps[:i]]
            expect(client, command, want, f" (after {', '.join(before)} on a new server)"
                   if before else " (the first command on a new server)")
        client.send(b"SET b 7\nINCR b\n")
        replies = [client.reply(), client.reply()]
        assert replies == ["OK", "8"], (
            f"client-0 sent 'SET b 7' and 'INCR b' in one write and got {replies} (None: no reply within "
            f"{BOUND:g} s); expected ['OK', '8']"
        )
        server.send_piece(client, b"GE")       # the server reads this piece before the rest is sent
        client.send(b"T b\r\n")
        got = client.reply()
        assert got == "8", f"client-0 sent 'GE', then 'T b\\r\\n' (one command in two pieces) and got {got!r}; expected '8'"
        other = server.connect("client-1")
        expect(other, "GET b", "8", " (client-0 had set b to 8: every client sees the same data)")


@pytest.mark.points(1)
@pytest.mark.hint("on QUIT, close the connection: writer.close(), then await writer.wait_closed()")
def test_quit_closes_connection(impl):
    """QUIT gets no reply: the server closes that connection at once, and keeps serving the others."""
    with Server(impl) as server:
        client = server.connect("client-0")
        expect(client, "SET q 1", "OK")
        client.send(b"QUIT\n")
        data, closed = client.rest()
        assert closed, (
            f"client-0 sent 'QUIT' and the connection was still open {BOUND:g} s later"
            + (f" (the server sent {data!r})" if data else "") + "; expected the server to close it at once"
        )
        assert not data, f"client-0 sent 'QUIT' and the server sent {data!r} before closing; expected no reply"
        expect(server.connect("client-1"), "GET q", "1", " (after client-0 quit)")


@pytest.mark.points(2)
@pytest.mark.hint("never let a bad line raise in the handler: check the number of words, catch UnicodeDecodeError and int()'s ValueError, and reply ERR")
def test_malformed_lines_get_err(impl):
    """A malformed line gets a reply starting with ERR, and that connection keeps working."""
    with Server(impl) as server:
        client = server.connect("client-0")
        expect(client, "SET word hello", "OK")
        bad = [b"FROB a", b"get a", b"SET a", b"SET a b c", b"GET", b"INCR", b"", b"   ", b"QUIT now",
               b"\xff\xfe GET", b"INCR word"]
        for line in bad:
            shown = repr(line.decode("utf-8", "backslashreplace"))
            client.send(line + b"\n")
            got = client.reply()
            what = {None: f"got no reply within {BOUND:g} s", "closed": "the server closed the connection"}.get(
                got, f"got {got!r}")
            assert got not in (None, "closed") and got.startswith("ERR"), (
                f"client-0 sent {shown} and {what}; expected a reply starting with ERR, and the connection to stay open"
            )
            expect(client, "GET word", "hello", f" (right after sending {shown}, which got {got!r})")
        expect(server.connect("client-1"), "GET word", "hello", " (after client-0's malformed lines)")


# Many clients at once.

INCR_CLIENTS = 200


@pytest.mark.points(3)
@pytest.mark.hint("between reading the value and storing value + 1 nothing else may run: hold one asyncio.Lock across both awaits (SET takes it too)")
def test_incr_is_atomic(impl):
    """When 200 clients send INCR on one key at the same moment, every update counts: the replies are 1 to 200, once each."""
    with Server(impl) as server:
        clients = []
        for i in range(INCR_CLIENTS):
            client = server.connect(f"client-{i}")
            expect(client, "GET hits", "NIL")   # its handler runs and waits for the next line
            clients.append(client)
        # Every INCR line is in the kernel before the server's loop runs a handler again: the selector
        # returns all 200 sockets from one select(), and the loop wakes all 200 handlers in one
        # iteration. An INCR with an await between its read and its write (Store.get, then Store.set)
        # therefore lets the 199 others read the same value before it writes: updates are lost every
        # time. A correct server serialises them (a lock), and the order they run in does not matter.
        server.selector.gather(INCR_CLIENTS)
        for client in clients:
            client.send(b"INCR hits\n")
        replies = []
        for client in clients:
            got = client.reply()
            what = {None: f"no reply within {BOUND:g} s", "closed": "the server closed the connection"}.get(got)
            assert what is None, f"{client.name} sent 'INCR hits' (with {INCR_CLIENTS - 1} other clients) and got {what}"
            replies.append(got)
        final = clients[0].ask("GET hits")
        want = [str(n) for n in range(1, INCR_CLIENTS + 1)]
        if sorted(replies, key=lambda r: (len(r), r)) != want or final != str(INCR_CLIENTS):
            counts = collections.Counter(replies)
            repeated = [f"{r!r} {n} times" for r, n in sorted(counts.items(), key=lambda rn: -rn[1]) if n > 1]
            if len(counts) == 1:
                seen = f"every reply was {replies[0]!r}"
            else:
                seen = f"the replies had {len(counts)} different values" + (
                    f" ({', '.join(repeated[:5])}{', ...' if len(repeated) > 5 else ''})" if repeated else "")
            raise AssertionError(
                f"{INCR_CLIENTS} clients each sent 'INCR hits' at the same moment; {seen}, and then GET hits answered "
                f"{final!r}; expected the replies 1 to {INCR_CLIENTS}, once each, and {INCR_CLIENTS!r}. Two INCRs "
                "that both read the value before either writes lose an update"
            )


@pytest.mark.points(3)
@pytest.mark.hint("wait for a client's line with await reader.readline(): no blocking read, and no lock held while waiting for a client")
def test_slow_client_does_not_delay_others(impl):
    """A client that has sent half a line, or nothing at all, does not delay any reply to the others."""
    with Server(impl) as server:
        silent = server.connect("silent")
        expect(silent, "GET s", "NIL")
        server.send_piece(silent, b"SET s hal")     # half a line, then nothing for a while
        server.connect("idle")              # connected, says nothing
        busy = server.connect("busy")
        context = (", while client silent had sent 'SET s hal' (no newline yet) and client idle had sent nothing. "
                   "Waiting for one client must not stop the server from serving the others")
        for command, want in [("SET a 1", "OK"), ("INCR a", "2"), ("GET a", "2")]:
            expect(busy, command, want, context)
        silent.send(b"f\n")
        got = silent.reply()
        assert got == "OK", f"client silent finished its line: 'SET s hal' + 'f\\n'; it got {got!r}; expected 'OK'"
        expect(busy, "GET s", "half", " (after client silent's 'SET s half', sent in two pieces)")


@pytest.mark.points(2)
@pytest.mark.hint("a line without its final \\n at EOF is not a command: drop it; at EOF, stop reading and close the connection")
def test_disconnect_mid_line(impl):
    """A client that disconnects in the middle of a line leaves the server healthy, and its unfinished line is never run."""
    with Server(impl) as server:
        bystander = server.connect("bystander")
        expect(bystander, "SET x 1", "OK")
        cut = server.connect("cut")
        expect(cut, "GET cut", "NIL")
        cut.send(b"SET cut 1")               # no newline: the client leaves in the middle of the line
        cut.half_close()
        answered, closed = cut.rest()
        situation = "after client cut sent 'SET cut 1' without the newline and disconnected"
        expect(bystander, "GET x", "1", f" {situation}: the server stopped serving the other clients")
        assert not answered, (
            f"{situation}, the server answered {answered.decode('utf-8', 'replace').strip()!r}; expected the "
            "unfinished line not to run"
        )
        expect(bystander, "GET cut", "NIL", f" ({situation}{'' if closed else ', and was still connected'}: "
               "an unfinished line must not run)")
        abrupt = server.connect("abrupt")
        expect(abrupt, "GET x", "1")
        abrupt.send(b"INCR x")
        abrupt.reset()                       # and this one vanishes with a reset, mid-line too
        expect(bystander, "INCR x", "2", " (after client abrupt sent 'INCR x' without the newline and reset the "
               "connection)")
        expect(server.connect("newcomer"), "GET x", "2", " (after clients cut and abrupt left mid-line)")


@pytest.mark.points(2)
@pytest.mark.hint("when a client leaves, end its handler and close its writer (in a finally:), and cancel or finish any task you started for it")
def test_no_leaks_when_clients_leave(impl):
    """After a client leaves, by QUIT or by closing its side, its connection is closed and every task started for it has finished."""
    # No garbage collection during this check: a connection the server forgot to close would otherwise
    # be closed by the collector at some random moment, and the leak would be missed on some runs.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with Server(impl) as server:
            warm = server.connect("client-0")
            expect(warm, "SET k 0", "OK")
            warm.send(b"QUIT\n")
            warm.rest()
            before = server.tasks()          # the server's own tasks, and client-0's, may stay
            leaving = [("client-1", "sent QUIT"), ("client-2", "closed its side of the connection"),
                       ("client-3", "closed its side of the connection after a command in flight")]
            clients = {}
            for name, _ in leaving:
                clients[name] = server.connect(name)
                clients[name].ask("INCR k")
            clients["client-1"].send(b"QUIT\n")
            clients["client-2"].half_close()
            clients["client-3"].send(b"GET k\n")
            clients["client-3"].half_close()
            for name, how in leaving:
                _, closed = clients[name].rest()
                assert closed, (
                    f"{name} {how}; the server still had the connection open {BOUND:g} s later; expected it to "
                    "close the connection when the client leaves"
                )
            deadline = time.monotonic() + BOUND
            while (left := {t: w for t, w in server.tasks().items() if t not in before}) and time.monotonic() < deadline:
                time.sleep(0.01)
            places = collections.Counter(left.values())
            assert not left, (
                "client-1 sent QUIT, client-2 and client-3 closed their side, and the server closed all three "
                f"connections; {BOUND:g} s later, {len(left)} task(s) started after they connected were still "
                f"running: " + "; ".join(f"{n} waiting at {place}" for place, n in sorted(places.items()))
                + "; expected every task started for a client to finish when it leaves"
            )
    finally:
        if was_enabled:
            gc.enable()
