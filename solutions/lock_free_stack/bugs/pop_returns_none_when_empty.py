"""pop() on an empty stack returns None instead of raising IndexError.

The caller cannot tell "empty" from a pushed None, and a loop that pops until IndexError never ends.

Caught by: pop_empty_raises_index_error, lifo_order, stress_real_threads
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
        while True:
            top = self._top.get()
            if top is None:
                return None  # BUG: a placeholder, not an error
            if self._top.compare_and_set(top, top.below):
                return top.item
