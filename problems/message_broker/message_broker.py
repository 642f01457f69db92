"""A message broker with at-least-once delivery. See README.md for the guarantees."""
from __future__ import annotations

import threading  # noqa: F401  (you will need it)
import time  # noqa: F401  (for timeouts)
from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    """One message handed to one channel: ack or nack it by its tag. (Written for you.)"""

    tag: int
    body: bytes
    redelivered: bool


class Broker:
    """Named queues of messages, shared by every channel opened on this broker."""

    def __init__(self):
        """A broker with no queues; a queue exists from the first time its name is used."""
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def channel(self, prefetch: int = 1) -> Channel:
        """Open a channel that holds at most prefetch unacknowledged deliveries.

        Raises:
            ValueError: prefetch is below 1.
        """
        raise NotImplementedError("channel() is yours to write; see README.md")


class Channel:
    """One consumer's (or producer's) connection to the broker."""

    def publish(self, queue: str, body: bytes, priority: int = 0) -> None:
        """Put a message into queue. Higher priorities are delivered first. Never waits."""
        raise NotImplementedError("publish() is yours to write; see README.md")

    def consume(self, queue: str, timeout: float | None = None) -> Delivery:
        """Take the next message of queue, waiting while it is empty or this channel holds prefetch deliveries.

        Raises:
            TimeoutError: nothing could be taken within timeout seconds (None: wait as long as it takes).
        """
        raise NotImplementedError("consume() is yours to write; see README.md")

    def ack(self, tag: int) -> None:
        """The delivery with this tag is done: its message is gone for good.

        Raises:
            ValueError: tag is not an unacknowledged delivery of this channel.
        """
        raise NotImplementedError("ack() is yours to write; see README.md")

    def nack(self, tag: int, requeue: bool = True) -> None:
        """Give the delivery back: into its queue, at its place, if requeue; else drop it.

        Raises:
            ValueError: tag is not an unacknowledged delivery of this channel.
        """
        raise NotImplementedError("nack() is yours to write; see README.md")

    def close(self) -> None:
        """Close the channel (as a crash would): every unacknowledged delivery goes back to its queue. Twice is harmless."""
        raise NotImplementedError("close() is yours to write; see README.md")
