import sys
import threading

NASTY = "\x00\x1b[2J\x1b[31mred\x07\udcff\u202e"
print(NASTY, "\x1b]0;a new terminal title\x07")
sys.stdout.buffer.write(b"\xff\xfe invalid UTF-8 \x00\n")


class Hangs:
    def __repr__(self):
        while True:
            pass


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._adds = 0

    def add(self, n=1):
        if n != 1:
            raise ValueError(NASTY)
        with self._lock:
            self._adds += 1

    @property
    def value(self):
        if not self._adds:
            raise RuntimeError(Hangs())  # its message never finishes printing
        return NASTY
