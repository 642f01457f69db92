"""%%title. TODO(author): one line, the same as the summary in problem.toml."""


class %%Class:
    """TODO(author): what it is for; see README.md."""

    def __init__(self):
        raise NotImplementedError("%%Class() is yours to write; see README.md")

    def get(self):
        """TODO(author): rename, and add a method per operation of the spec."""
        raise NotImplementedError("get() is yours to write; see README.md")
