"""Reference solution for lock_free_stack: a Treiber stack, a linked list whose top is one AtomicReference."""
from grader.sched import AtomicReference


class _Node:
    """One item and the node below it. Never changed after it is made, so any thread may read it."""

    __slots__ = ("item", "below")

    def __init__(self, item, below):
        self.item = item
        self.below = below


class LockFreeStack:
    """A last-in, first-out stack built on compare-and-set: no thread ever waits for another."""

    def __init__(self):
        """Create an empty stack."""
        # No locks. _top holds the top _Node (None when empty); it is the only shared state that
        # changes, and every change is one compare_and_set from the top a thread read to the top it
        # built on it. A failed compare_and_set means another thread got there first: read again.
        self._top = AtomicReference(None)

    def push(self, item) -> None:
        """Put item on top of the stack."""
        while True:
            top = self._top.get()
            node = _Node(item, top)  # linked below before anyone can see it
            if self._top.compare_and_set(top, node):
                return

    def pop(self):
        """Remove the item on top of the stack and return it.

        Raises:
            IndexError: the stack is empty.
        """
        while True:
            top = self._top.get()
            if top is None:
                raise IndexError("pop from an empty stack")
            if self._top.compare_and_set(top, top.below):
                return top.item  # only the thread whose compare_and_set removed top returns it
