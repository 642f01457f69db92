"""push() installs its node first and links it to the old top afterwards.

For a moment the new top has nothing below it. A pop() in that moment takes the new node and makes
its `below` (still None) the top: every item under it is lost, and later pops find the stack empty.

Caught by: linearizable
"""
from grader.sched import AtomicReference


class _Node:
    __slots__ = ("item", "below")

    def __init__(self, item):
        self.item = item
        self.below = None


class LockFreeStack:
    def __init__(self):
        # _top holds the top _Node (None when empty); no locks.
        self._top = AtomicReference(None)

    def push(self, item) -> None:
        node = _Node(item)
        while True:
            top = self._top.get()
            if self._top.compare_and_set(top, node):
                node.below = top  # BUG: too late, other threads can already see node
                return

    def pop(self):
        while True:
            top = self._top.get()
            if top is None:
                raise IndexError("pop from an empty stack")
            if self._top.compare_and_set(top, top.below):
                return top.item
