"""A lock built from an AtomicReference flag that threads spin on: not lock-free.

No threading import, and every update is atomic, but push() and pop() take the "lock" by spinning
until compare_and_set(False, True) succeeds. A thread stopped while holding the flag makes every
other thread spin forever.

Caught by: lock_free_progress
"""
from grader.sched import AtomicReference


class _Node:
    __slots__ = ("item", "below")

    def __init__(self, item, below):
        self.item = item
        self.below = below


class LockFreeStack:
    def __init__(self):
        # BUG: _busy is a spin lock guarding _top. Whoever sets it True makes the others spin.
        self._busy = AtomicReference(False)
        self._top = AtomicReference(None)

    def _acquire(self):
        while not self._busy.compare_and_set(False, True):
            pass

    def push(self, item) -> None:
        self._acquire()
        self._top.set(_Node(item, self._top.get()))
        self._busy.set(False)

    def pop(self):
        self._acquire()
        try:
            top = self._top.get()
            if top is None:
                raise IndexError("pop from an empty stack")
            self._top.set(top.below)
            return top.item
        finally:
            self._busy.set(False)
