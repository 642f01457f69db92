"""Student-like code with a bug that one preemption shows, in the shapes of a benchmark of many threads:
writers that update two fields one after the other, and a two-stage publication in the wrong order."""


class Pair:
    """Two fields that should always be equal; write() updates them one after the other, unlocked."""

    def __init__(self):
        self.a = 0
        self.b = 0

    def write(self, value):
        self.a = value
        self.b = value

    def in_step(self):
        return self.a == self.b


class Board:
    """Slots published in two stages: the flag first, then the item (the wrong order)."""

    def __init__(self, slots):
        self.ready = [False] * slots
        self.items = [None] * slots

    def publish(self, slot, item):
        self.ready[slot] = True
        self.items[slot] = item

    def published(self):
        return [(slot, self.items[slot]) for slot in range(len(self.ready)) if self.ready[slot]]


def start_all(threads):
    """Starts the threads in order (so the starting thread passes points of its own between them)."""
    for thread in threads:
        thread.start()
