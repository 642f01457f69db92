"""pop() raises IndexError when its compare_and_set() fails, instead of retrying.

A failed compare_and_set() only means another thread changed the top first; the stack may well
hold items. The pop() reports an empty stack that never was.

Caught by: linearizable
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
        while True:
            top = self._top.get()
            if self._top.compare_and_set(top, _Node(item, top)):
                return

    def pop(self):
        top = self._top.get()
        if top is None or not self._top.compare_and_set(top, top.below):
            raise IndexError("pop from an empty stack")  # BUG: lost a race, not empty
        return top.item
