"""A call that times out leaves its entry in the table of pending calls.

Its reply may never come (the server lost it), so the entry stays forever: a client that keeps
timing out grows without bound, an Event and a dict slot per call, until it runs out of memory.

Caught by: timed_out_calls_leave_nothing_behind
"""
from __future__ import annotations

import queue
import threading

_STOP = object()   # put into replies by close(): the dispatcher ends when it reads it


class _Call:
    """One call's slot: the dispatcher (or close()) fills in result or error, then sets done."""

    __slots__ = ("done", "result", "error")

    def __init__(self):
        self.done = threading.Event()
        self.result = None
        self.error = None


class RpcClient:
    """Calls a server through a requests queue and a replies queue; safe to call from many threads at once."""

    def __init__(self, requests: queue.Queue, replies: queue.Queue):
        """Use requests for outgoing (correlation_id, payload) and replies for incoming (correlation_id, result)."""
        self._requests = requests
        self._replies = replies
        # _lock guards _pending, _next_id and _closed. A call's slot is filled in and its done Event
        # set by whoever removes it from _pending: the dispatcher (a reply) or close() (an error). The
        # caller waits on done, and on a timeout removes its own entry if it is still there.
        self._lock = threading.Lock()
        self._pending: dict[int, _Call] = {}
        self._next_id = 0
        self._closed = False
        self._dispatcher = threading.Thread(target=self._dispatch, name="rpc-dispatcher", daemon=True)
        self._dispatcher.start()

    def call(self, payload: object, timeout: float) -> object:
        """Send payload and return the result of the reply with the same correlation id.

        Raises:
            TimeoutError: no reply within timeout seconds.
            ConnectionError: the client is closed, or was closed while this call waited.
        """
        slot = _Call()
        with self._lock:
            if self._closed:
                raise ConnectionError("call() on a closed client")
            self._next_id += 1
            correlation_id = self._next_id
            self._pending[correlation_id] = slot   # before sending: the reply may come back at once
        self._requests.put((correlation_id, payload))
        if not slot.done.wait(timeout):
            raise TimeoutError(f"no reply to call {correlation_id} within {timeout} s")   # entry left in _pending
        if slot.error is not None:
            raise slot.error
        return slot.result

    def close(self) -> None:
        """Wake every waiting call with ConnectionError, refuse later calls, and end the client's threads. Twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            waiting, self._pending = self._pending, {}
        for slot in waiting.values():
            slot.error = ConnectionError("the client was closed while this call waited")
            slot.done.set()
        self._replies.put(_STOP)
        self._dispatcher.join()

    def _dispatch(self) -> None:
        """The dispatcher thread: hand each reply to the call waiting for it; drop the rest."""
        while True:
            reply = self._replies.get()
            if reply is _STOP:
                return
            try:
                correlation_id, result = reply
                with self._lock:
                    slot = self._pending.pop(correlation_id, None)
            except (TypeError, ValueError):   # not a (hashable id, result) pair: not for us
                continue
            if slot is not None:               # None: late, duplicate or unknown; dropped
                slot.result = result
                slot.done.set()
