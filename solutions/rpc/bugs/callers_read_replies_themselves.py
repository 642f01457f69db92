"""No dispatcher: each caller takes the next reply from the replies queue itself and returns its result.

With several callers, or a late or duplicate reply in the queue, the next reply is often not the
caller's own: it returns another call's answer, and that call then gets yet another's, or none.

Caught by: each_caller_gets_its_own_answer, late_and_duplicate_replies_are_dropped
"""
from __future__ import annotations

import queue
import threading


class RpcClient:
    """Calls a server through a requests queue and a replies queue; safe to call from many threads at once."""

    def __init__(self, requests: queue.Queue, replies: queue.Queue):
        """Use requests for outgoing (correlation_id, payload) and replies for incoming (correlation_id, result)."""
        self._requests = requests
        self._replies = replies
        # _lock guards _next_id and _closed.
        self._lock = threading.Lock()
        self._next_id = 0
        self._closed = False

    def call(self, payload: object, timeout: float) -> object:
        """Send payload and return the result of the reply with the same correlation id.

        Raises:
            TimeoutError: no reply within timeout seconds.
            ConnectionError: the client is closed, or was closed while this call waited.
        """
        with self._lock:
            if self._closed:
                raise ConnectionError("call() on a closed client")
            self._next_id += 1
            correlation_id = self._next_id
        self._requests.put((correlation_id, payload))
        try:
            _, result = self._replies.get(timeout=timeout)   # the next reply, whoever's it is
        except queue.Empty:
            raise TimeoutError(f"no reply to call {correlation_id} within {timeout} s") from None
        return result

    def close(self) -> None:
        """Wake every waiting call with ConnectionError, refuse later calls, and end the client's threads. Twice is harmless."""
        with self._lock:
            self._closed = True
