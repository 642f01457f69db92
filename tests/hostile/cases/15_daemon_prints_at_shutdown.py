import atexit
import sys
import threading


def chatter():
    while True:
        print("\x1b[31mstill here\x1b[0m during shutdown", file=sys.stderr)


threading.Thread(target=chatter, name="chatter", daemon=True).start()
atexit.register(print, "atexit ran")


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n=1):
        with self._lock:
            self._value += n

    @property
    def value(self):
        return self._value

