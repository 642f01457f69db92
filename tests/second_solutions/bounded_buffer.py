"""A second correct bounded buffer, written differently from the reference: two counting semaphores
(free slots, filled slots) and a plain lock, no condition. It must get full marks, so the checks
cannot demand one design."""
import collections
import threading


class Closed(Exception):
    pass


class BoundedBuffer:
    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self._items = collections.deque()
        self._closed = False
        # _lock guards _items and _closed; it is never held while waiting on a semaphore.
        self._lock = threading.Lock()
        # _free counts empty slots: put() takes one, get() gives one back.
        self._free = threading.Semaphore(capacity)
        # _filled counts items: put() gives one, get() takes one.
        # close() adds one extra permit to each. A thread that wakes on it and finds the buffer
        # closed (and, for get, empty) passes it on with release() and raises Closed, so the one
        # permit wakes every waiter in turn.
        self._filled = threading.Semaphore(0)

    def put(self, item, timeout: float | None = None) -> None:
        if not self._free.acquire(timeout=timeout):
            raise TimeoutError(f"put() waited {timeout} s and the buffer stayed full")
        with self._lock:
            if self._closed:
                self._free.release()  # pass the wakeup on to the next waiting producer
                raise Closed("put() on a closed buffer")
            self._items.append(item)
        self._filled.release()

    def get(self, timeout: float | None = None):
        if not self._filled.acquire(timeout=timeout):
            raise TimeoutError(f"get() waited {timeout} s and the buffer stayed empty")
        with self._lock:
            if not self._items:  # only possible once closed: this is close()'s permit
                self._filled.release()  # pass the wakeup on to the next waiting consumer
                raise Closed("get() on a closed, empty buffer")
            item = self._items.popleft()
        self._free.release()
        return item

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._filled.release()
        self._free.release()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
