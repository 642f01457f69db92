import threading

SECRET = "{0.__init__.__globals__}"


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self.seen = "{0.__class__.__mro__}".format(self._lock) + SECRET.format(self)

    value = 0

    def add(self, n=1):
        pass
