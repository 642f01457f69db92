"""A second correct readers-writer lock, written differently from the reference: no condition, but
direct handoff. A thread that must wait parks on its own Event; whoever releases decides who goes
next, updates the counts on their behalf, and sets their Events. Context managers are classes with
__enter__/__exit__. It must get full marks, so the checks cannot demand one design."""
import collections
import threading


class _Hold:
    def __init__(self, acquire, release):
        self._acquire, self._release = acquire, release

    def __enter__(self):
        self._acquire()
        return self

    def __exit__(self, *exc):
        self._release()
        return False


class RWLock:
    def __init__(self):
        # _mutex guards every field below and is never held while waiting. A waiting thread waits on
        # its own Event, outside _mutex. Releases hand the lock over: the last reader out sets the
        # first waiting writer's Event; a writer's release sets the Events of every waiting reader, or
        # else the first waiting writer's.
        self._mutex = threading.Lock()
        self._readers = 0
        self._writer = False
        self._waiting_readers: list[threading.Event] = []
        self._waiting_writers: collections.deque[threading.Event] = collections.deque()

    def acquire_read(self) -> None:
        with self._mutex:
            if not self._writer and not self._waiting_writers:
                self._readers += 1
                return
            turn = threading.Event()
            self._waiting_readers.append(turn)
        turn.wait()  # the releasing writer counted us in before setting it

    def release_read(self) -> None:
        with self._mutex:
            if self._readers <= 0:
                raise RuntimeError("release_read() without a read hold")
            self._readers -= 1
            if self._readers == 0 and self._waiting_writers:
                self._writer = True
                self._waiting_writers.popleft().set()

    def acquire_write(self) -> None:
        with self._mutex:
            if not self._writer and self._readers == 0 and not self._waiting_writers:
                self._writer = True
                return
            turn = threading.Event()
            self._waiting_writers.append(turn)
        turn.wait()  # the releaser made us the writer before setting it

    def release_write(self) -> None:
        with self._mutex:
            if not self._writer:
                raise RuntimeError("release_write() without the write hold")
            self._writer = False
            if self._waiting_readers:
                self._readers += len(self._waiting_readers)
                for turn in self._waiting_readers:
                    turn.set()
                self._waiting_readers.clear()
            elif self._waiting_writers:
                self._writer = True
                self._waiting_writers.popleft().set()

    def read_locked(self):
        return _Hold(self.acquire_read, self.release_read)

    def write_locked(self):
        return _Hold(self.acquire_write, self.release_write)
