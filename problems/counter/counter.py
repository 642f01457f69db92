"""A counter that is safe to share between threads. See README.md for what each method guarantees."""
import threading  # noqa: F401  (you will need it)


class Counter:
    """An integer counter that any number of threads can use at once without losing an update."""

    def __init__(self, start: int = 0):
        """Create a counter whose value is start."""
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def increment(self, by: int = 1) -> int:
        """Add by to the value, and return the value this call produced.

        Two calls never return the same value when by > 0: each caller sees its own update.
        """
        raise NotImplementedError("increment() is yours to write; see README.md")

    @property
    def value(self) -> int:
        """The current value (read-only)."""
        raise NotImplementedError("value is yours to write; see README.md")

    def compare_and_set(self, expected: int, new: int) -> bool:
        """If the value equals expected, set it to new and return True; otherwise change nothing and return False.

        The comparison and the update happen as one step: no other call can change the value in between.
        """
        raise NotImplementedError("compare_and_set() is yours to write; see README.md")
