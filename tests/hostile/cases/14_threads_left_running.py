import threading
import time


def forever():
    while True:
        time.sleep(0.01)


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0
        threading.Thread(target=forever, name="left-running").start()  # not a daemon, never joined

    def add(self, n=1):
        with self._lock:
            self._value += n

    @property
    def value(self):
        return self._value
