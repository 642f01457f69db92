"""pop() reads the top with get() and removes it with set(), not compare_and_set().

Two pops can both read the same top node before either sets the new top: both return its item,
which was pushed once and is popped twice.

Caught by: no_item_popped_twice, linearizable
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
        if top is None:
            raise IndexError("pop from an empty stack")
        self._top.set(top.below)  # BUG: another pop may have read the same top and returns it too
        return top.item
