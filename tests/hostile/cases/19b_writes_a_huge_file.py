import threading

CHUNK = b"x" * 2**20


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n=1):
        with open("huge.bin", "wb") as file:
            for _ in range(1024):  # 1 GB
                file.write(CHUNK)

    @property
    def value(self):
        return self._value
