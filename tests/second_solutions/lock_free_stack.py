"""A second correct lock-free stack, written differently from the reference: the whole stack is an
immutable tuple snapshot (copy on write), replaced by compare_and_set, with a counter of retries.
It must get full marks, so the checks cannot demand one design (a linked list of nodes)."""
from grader.sched import AtomicReference


class LockFreeStack:
    def __init__(self):
        # _items holds a tuple, bottom first, that nobody ever changes: a change builds a new tuple
        # and installs it with compare_and_set. A reused tuple (the empty one) is harmless: equal
        # snapshots are the same stack. No locks.
        self._items = AtomicReference(())
        self.retries = 0  # only for curiosity; a lost update here harms nobody

    def _update(self, change):
        """Apply change(snapshot) -> (new snapshot, result) atomically; return result."""
        while True:
            snapshot = self._items.get()
            new, result = change(snapshot)
            if self._items.compare_and_set(snapshot, new):
                return result
            self.retries += 1

    def push(self, item) -> None:
        self._update(lambda items: (items + (item,), None))

    def pop(self):
        def take(items):
            if not items:
                raise IndexError("pop from an empty stack")
            return items[:-1], items[-1]
        return self._update(take)
