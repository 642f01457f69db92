import threading

# the racy part lives in a module of its own, written beside this file at import
with open("helper.py", "w") as file:
    file.write("def add(counter, by):\n    counter._value += by\n    return counter._value\n")
import helper  # noqa: E402


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._lock = threading.Lock()

    def increment(self, by=1):
        return helper.add(self, by)

    @property
    def value(self):
        return self._value

    def compare_and_set(self, expected, new):
        with self._lock:
            if self._value == expected:
                self._value = new
                return True
            return False
