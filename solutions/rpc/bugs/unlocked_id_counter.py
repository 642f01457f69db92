"""call() takes its correlation id from a counter it increments without the lock.

`self._next_id += 1` is a read and a write: two calls at once can both read the same value and get
the same id. The second registration overwrites the first, so one caller gets the other's answer
and the other waits for a reply that never comes.

Caught by: each_caller_gets_its_own_answer
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
        if self._closed:
            raise ConnectionError("call() on a closed client")
        self._next_id += 1                 # not atomic: two callers can get the same id
        correlation_id = self._next_id
        with self._lock:
            self._pending[correlation_id] = slot   # before sending: the reply may come back at once
        self._requests.put((correlation_id, payload))
        if not slot.done.wait(timeout):
            with self._lock:
                # pop, not del: the dispatcher may have taken the entry just now, its reply on the way.
                self._pending.pop(correlation_id, None)
            if not slot.done.is_set():
                raise TimeoutError(f"no reply to call {correlation_id} within {timeout} s")
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
