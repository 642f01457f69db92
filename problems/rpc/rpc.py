"""The client side of request/response over two queues, with correlation ids. See README.md for the guarantees."""
from __future__ import annotations

import queue
import threading  # noqa: F401  (you will need it)


class RpcClient:
    """Calls a server through a requests queue and a replies queue; safe to call from many threads at once."""

    def __init__(self, requests: queue.Queue, replies: queue.Queue):
        """Use requests for outgoing (correlation_id, payload) and replies for incoming (correlation_id, result)."""
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def call(self, payload: object, timeout: float) -> object:
        """Send payload and return the result of the reply with the same correlation id.

        Raises:
            TimeoutError: no reply within timeout seconds.
            ConnectionError: the client is closed, or was closed while this call waited.
        """
        raise NotImplementedError("call() is yours to write; see README.md")

    def close(self) -> None:
        """Wake every waiting call with ConnectionError, refuse later calls, and end the client's threads. Twice is harmless."""
        raise NotImplementedError("close() is yours to write; see README.md")
