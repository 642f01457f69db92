"""A stack that threads share without locks. See README.md for what each method guarantees."""
from grader.sched import AtomicReference  # noqa: F401  (you will need it)


class LockFreeStack:
    """A last-in, first-out stack built on compare-and-set: no thread ever waits for another."""

    def __init__(self):
        """Create an empty stack."""
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def push(self, item) -> None:
        """Put item on top of the stack. Any object may be an item, None included."""
        raise NotImplementedError("push() is yours to write; see README.md")

    def pop(self):
        """Remove the item on top of the stack and return it.

        Raises:
            IndexError: the stack is empty.
        """
        raise NotImplementedError("pop() is yours to write; see README.md")
