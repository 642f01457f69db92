"""A gate that lets hydrogen and oxygen threads through in whole water molecules. See README.md for the guarantees."""
import threading  # noqa: F401  (you will need it)
from collections.abc import Callable


class H2O:
    """Lets atoms through two hydrogens and one oxygen at a time, one molecule after another."""

    def __init__(self):
        """Create a gate with no atoms waiting."""
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def hydrogen(self, release: Callable[[], None]) -> None:
        """Wait until this hydrogen can join a whole molecule, call release() once in this thread, and return."""
        raise NotImplementedError("hydrogen() is yours to write; see README.md")

    def oxygen(self, release: Callable[[], None]) -> None:
        """Wait until this oxygen can join a whole molecule, call release() once in this thread, and return."""
        raise NotImplementedError("oxygen() is yours to write; see README.md")
