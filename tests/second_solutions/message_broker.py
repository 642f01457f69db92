"""A second correct message broker, written differently from the reference: one condition per queue
instead of one for the whole broker, each queue a list kept sorted with bisect, Condition.wait_for
for the waiting, and an ack that wakes only the queues its own channel's consumers wait on. It must
get full marks, so the checks cannot demand one design."""
import bisect
import collections
import itertools
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    tag: int
    body: bytes
    redelivered: bool


class _Queue:
    def __init__(self, lock):
        self.entries = []                          # sorted: (-priority, sequence, body)
        self.ready = threading.Condition(lock)     # consume() calls on this queue wait here


class Broker:
    def __init__(self):
        # _lock guards every queue, every channel's deliveries and waiters, and _delivered. Each queue
        # has its own condition on it: publish() and give-backs notify the queue's; ack() and nack()
        # notify the queues their own channel's consumers are waiting on (they may wait for room).
        self._lock = threading.RLock()
        self._queues = {}
        self._delivered = set()                    # sequence numbers of messages delivered at least once
        self._numbers = itertools.count()          # publish sequence, then tags: both unique

    def channel(self, prefetch=1):
        if prefetch < 1:
            raise ValueError(f"prefetch must be at least 1, not {prefetch}")
        return Channel(self, prefetch)

    def _queue(self, name):
        with self._lock:
            if name not in self._queues:
                self._queues[name] = _Queue(self._lock)
            return self._queues[name]

    def _give_back(self, name, entry):
        with self._lock:
            queue = self._queue(name)
            bisect.insort(queue.entries, entry)
            queue.ready.notify_all()


class Channel:
    def __init__(self, broker, prefetch):
        self._broker = broker
        self._prefetch = prefetch
        self._held = {}                            # tag -> (queue name, entry)
        self._waiting = collections.Counter()      # queue name -> consume() calls of this channel waiting on it

    def publish(self, queue, body, priority=0):
        self._broker._give_back(queue, (-priority, next(self._broker._numbers), body))

    def consume(self, queue, timeout=None):
        broker = self._broker
        with broker._lock:
            q = broker._queue(queue)
            self._waiting[queue] += 1
            try:
                ready = q.ready.wait_for(lambda: q.entries and len(self._held) < self._prefetch, timeout)
            finally:
                self._waiting[queue] -= 1
            if not ready:
                raise TimeoutError(f"nothing to consume from {queue!r} within {timeout} s")
            entry = q.entries.pop(0)
            sequence = entry[1]
            redelivered = sequence in broker._delivered
            broker._delivered.add(sequence)
            tag = next(broker._numbers)
            self._held[tag] = (queue, entry)
            return Delivery(tag, entry[2], redelivered)

    def _release(self, tag):
        with self._broker._lock:
            if tag not in self._held:
                raise ValueError(f"tag {tag!r} is not an unacknowledged delivery of this channel")
            held = self._held.pop(tag)
            for name, count in self._waiting.items():   # room now: wake our own waiting consumers
                if count:
                    self._broker._queues[name].ready.notify_all()
            return held

    def ack(self, tag):
        self._release(tag)

    def nack(self, tag, requeue=True):
        with self._broker._lock:
            name, entry = self._release(tag)
            if requeue:
                self._broker._give_back(name, entry)

    def close(self):
        with self._broker._lock:
            held, self._held = self._held, {}
            for name, entry in held.values():
                self._broker._give_back(name, entry)
