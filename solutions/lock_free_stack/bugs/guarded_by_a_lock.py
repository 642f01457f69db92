"""A correct stack, but guarded by a threading.Lock: not lock-free.

It never loses or duplicates an item, but a thread stopped while holding the lock (descheduled,
paging, or killed) stops every other push() and pop() with it.

Caught by: no_locks, lock_free_progress
"""
import threading

from grader.sched import AtomicReference


class _Node:
    __slots__ = ("item", "below")

    def __init__(self, item, below):
        self.item = item
        self.below = below


class LockFreeStack:
    def __init__(self):
        # BUG: _lock guards _top; the exercise is to need no lock at all.
        self._lock = threading.Lock()
        self._top = AtomicReference(None)

    def push(self, item) -> None:
        with self._lock:
            self._top.set(_Node(item, self._top.get()))

    def pop(self):
        with self._lock:
            top = self._top.get()
            if top is None:
                raise IndexError("pop from an empty stack")
            self._top.set(top.below)
            return top.item
