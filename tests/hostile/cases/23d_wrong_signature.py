import threading


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0

    def add(self):
        with self._lock:
            self._value += 1

    @property
    def value(self):
        return self._value
