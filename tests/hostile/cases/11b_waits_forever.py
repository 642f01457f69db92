import threading


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n=1):
        threading.Event().wait()

    @property
    def value(self):
        return self._value
