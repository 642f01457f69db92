import threading


class Counter:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0
