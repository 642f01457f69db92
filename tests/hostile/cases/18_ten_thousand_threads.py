import threading
import time


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n=1):
        for i in range(10_000):
            threading.Thread(target=time.sleep, args=(10**6,), name=f"sleeper-{i}").start()

    @property
    def value(self):
        return self._value
