"""push() reads the top with get() and installs the new node with set(), not compare_and_set().

Between the get() and the set(), another push can install its node; the set() then writes over
it, and that item is lost. Each step is atomic, but the two together are not.

Caught by: no_lost_push, linearizable
"""
from grader.sched import AtomicReference


class _Node:
    __slots__ = ("item", "below")

    def __init__(self, item, below):
        self.item = item
        self.below = below


class LockFreeStack:
    def __init__(self):
        # _top holds the top _Node (None when empty); no locks.
        self._top = AtomicReference(None)

    def push(self, item) -> None:
        top = self._top.get()
        self._top.set(_Node(item, top))  # BUG: overwrites whatever another push installed since get()

    def pop(self):
        while True:
            top = self._top.get()
            if top is None:
                raise IndexError("pop from an empty stack")
            if self._top.compare_and_set(top, top.below):
                return top.item
