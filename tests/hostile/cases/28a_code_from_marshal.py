import marshal
import threading

# an unlocked read-modify-write in code the scheduler never sees being loaded
ADD = marshal.loads(marshal.dumps(compile("self._value += n", "<add>", "exec")))


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._lock = threading.Lock()

    def increment(self, by=1):
        exec(ADD, {"self": self, "n": by})
        return self._value

    @property
    def value(self):
        return self._value

    def compare_and_set(self, expected, new):
        with self._lock:
            if self._value == expected:
                self._value = new
                return True
            return False
