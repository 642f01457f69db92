import threading

CHUNK = "x" * 2**20


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n=1):
        for _ in range(100):  # 100 MB
            print(CHUNK)

    @property
    def value(self):
        return self._value
