"""push() makes the new top node without linking it to the old top.

The new node's `below` is None, so installing it drops every item that was on the stack: push('a'),
push('b'), pop(), pop() gives 'b' and then IndexError.

Caught by: lifo_order, no_lost_push, linearizable, stress_real_threads
"""
from grader.sched import AtomicReference


class _Node:
    __slots__ = ("item", "below")

    def __init__(self, item, below=None):
        self.item = item
        self.below = below


class LockFreeStack:
    def __init__(self):
        # _top holds the top _Node (None when empty); no locks.
        self._top = AtomicReference(None)

    def push(self, item) -> None:
        while True:
            top = self._top.get()
            if self._top.compare_and_set(top, _Node(item)):  # BUG: below should be top
                return

    def pop(self):
        while True:
            top = self._top.get()
            if top is None:
                raise IndexError("pop from an empty stack")
            if self._top.compare_and_set(top, top.below):
                return top.item
