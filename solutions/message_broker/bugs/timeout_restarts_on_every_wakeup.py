"""consume(timeout) waits the full timeout again after every wakeup.

Each publish() to any queue wakes every waiting consumer (notify_all); one whose queue is still
empty starts a new full wait. On a busy broker, consume(timeout=1) on an empty queue never times
out, or does so much later than asked.

Caught by: consume_timeout_is_a_deadline
"""
from __future__ import annotations

import collections
import heapq
import itertools
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    """One message handed to one channel: ack or nack it by its tag. (Written for you.)"""

    tag: int
    body: bytes
    redelivered: bool


class _Message:
    """A message in the broker: its queue, body, and whether it was ever delivered."""

    __slots__ = ("queue", "body", "delivered")

    def __init__(self, queue: str, body: bytes):
        self.queue = queue
        self.body = body
        self.delivered = False


class Broker:
    """Named queues of messages, shared by every channel opened on this broker."""

    def __init__(self):
        """A broker with no queues; a queue exists from the first time its name is used."""
        # _lock guards _queues, the counters, and every channel's _unacked.
        self._lock = threading.Lock()
        # consume() waits on _changed for a message in its queue and room in its channel. publish(),
        # ack(), nack() and close() notify_all(): the waiters wait for different queues and channels,
        # so notify() could wake one that cannot proceed and leave one that can asleep.
        self._changed = threading.Condition(self._lock)
        self._queues: dict[str, list] = collections.defaultdict(list)  # name -> heap of (-priority, seq, message)
        self._sequence = itertools.count()    # publish order: FIFO within a priority
        self._tags = itertools.count(1)       # broker-wide: no two deliveries share a tag

    def channel(self, prefetch: int = 1) -> Channel:
        """Open a channel that holds at most prefetch unacknowledged deliveries.

        Raises:
            ValueError: prefetch is below 1.
        """
        if prefetch < 1:
            raise ValueError(f"prefetch must be at least 1, not {prefetch}")
        return Channel(self, prefetch)

    def _put_back(self, entry) -> None:
        """Return a delivered message to its queue, at its place. Call with _lock held."""
        heapq.heappush(self._queues[entry[2].queue], entry)


class Channel:
    """One consumer's (or producer's) connection to the broker."""

    def __init__(self, broker: Broker, prefetch: int):
        self._broker = broker
        self._prefetch = prefetch
        self._unacked: dict[int, tuple] = {}   # tag -> heap entry; guarded by broker._lock

    def publish(self, queue: str, body: bytes, priority: int = 0) -> None:
        """Put a message into queue. Higher priorities are delivered first. Never waits."""
        broker = self._broker
        with broker._lock:
            heapq.heappush(broker._queues[queue], (-priority, next(broker._sequence), _Message(queue, body)))
            broker._changed.notify_all()

    def consume(self, queue: str, timeout: float | None = None) -> Delivery:
        """Take the next message of queue, waiting while it is empty or this channel holds prefetch deliveries.

        Raises:
            TimeoutError: nothing could be taken within timeout seconds (None: wait as long as it takes).
        """
        broker = self._broker
        with broker._lock:
            while not (broker._queues[queue] and len(self._unacked) < self._prefetch):
                if not broker._changed.wait(timeout):   # a full timeout again after every wakeup
                    raise TimeoutError(f"consume({queue!r}) found nothing to take for {timeout} s")
            entry = heapq.heappop(broker._queues[queue])
            message = entry[2]
            tag = next(broker._tags)
            self._unacked[tag] = entry
            redelivered, message.delivered = message.delivered, True
            return Delivery(tag, message.body, redelivered)

    def _take(self, tag: int, what: str):
        """Remove and return this channel's unacknowledged delivery `tag`. Call with the lock held."""
        try:
            return self._unacked.pop(tag)
        except KeyError:
            raise ValueError(f"{what}({tag!r}): not an unacknowledged delivery of this channel") from None

    def ack(self, tag: int) -> None:
        """The delivery with this tag is done: its message is gone for good.

        Raises:
            ValueError: tag is not an unacknowledged delivery of this channel.
        """
        broker = self._broker
        with broker._lock:
            self._take(tag, "ack")
            broker._changed.notify_all()   # room in this channel: a consume() may be waiting for it

    def nack(self, tag: int, requeue: bool = True) -> None:
        """Give the delivery back: into its queue, at its place, if requeue; else drop it.

        Raises:
            ValueError: tag is not an unacknowledged delivery of this channel.
        """
        broker = self._broker
        with broker._lock:
            entry = self._take(tag, "nack")
            if requeue:
                broker._put_back(entry)
            broker._changed.notify_all()   # room in this channel, and maybe a message in the queue

    def close(self) -> None:
        """Close the channel (as a crash would): every unacknowledged delivery goes back to its queue. Twice is harmless."""
        broker = self._broker
        with broker._lock:
            for entry in self._unacked.values():
                broker._put_back(entry)
            self._unacked.clear()
            broker._changed.notify_all()   # consumers on other channels may be waiting for these messages
