import time


class Times:
    """Says it holds n well-spaced readings of the clock; it never waited for any of them."""

    def __init__(self, n):
        self.n = n
        self.start = time.monotonic()

    def __len__(self):
        return self.n

    def __iter__(self):
        return iter([self.start + 0.1 * i for i in range(self.n)])


def pace(n):
    return Times(n)
