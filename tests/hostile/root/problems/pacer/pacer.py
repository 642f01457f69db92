"""Calls spaced at least a tenth of a second apart."""


def pace(n):
    raise NotImplementedError("pace() is yours to write; see README.md")
