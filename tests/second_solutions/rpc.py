"""A second correct RPC client, written differently from the reference: no dispatcher thread. Waiting
callers take turns as the one reader of the replies queue (leader/follower): the reader files every
reply it takes under its correlation id and wakes the others through one Condition. It must get full
marks, so the checks cannot demand one design."""
import itertools
import queue
import threading
import time

_WAKE = object()   # close() puts it into replies: a reader blocked in get() wakes and sees _closed


class RpcClient:
    def __init__(self, requests, replies):
        self._requests = requests
        self._replies = replies
        # _lock guards _waiting, _answers, _reading and _closed. _changed (on it) is notified when a
        # reply is filed, when the reader steps down (another caller may take over), and on close().
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self._waiting = set()      # correlation ids of calls still waiting
        self._answers = {}         # correlation id -> result, for waiting calls only
        self._reading = False      # some caller is reading replies right now
        self._closed = False

    def call(self, payload, timeout):
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._closed:
                raise ConnectionError("the client is closed")
            me = next(self._ids)
            self._waiting.add(me)
        try:
            self._requests.put((me, payload))
            with self._lock:
                while True:
                    if self._closed:
                        raise ConnectionError("the client was closed while this call waited")
                    if me in self._answers:
                        return self._answers.pop(me)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(f"no reply to call {me} within {timeout} s")
                    if self._reading:
                        self._changed.wait(remaining)
                    else:
                        self._read_one(remaining)
        finally:
            with self._lock:
                self._waiting.discard(me)
                self._answers.pop(me, None)

    def _read_one(self, remaining):
        """As the reader, take at most one reply (lock released while blocked) and file it. Lock held on entry and exit."""
        self._reading = True
        self._lock.release()
        try:
            reply = self._replies.get(timeout=remaining)
        except queue.Empty:
            reply = None
        finally:
            self._lock.acquire()
            self._reading = False
        if isinstance(reply, tuple) and len(reply) == 2:
            try:
                if reply[0] in self._waiting:
                    self._answers[reply[0]] = reply[1]
            except TypeError:      # an unhashable id: not one of ours
                pass
        self._changed.notify_all()   # an answer filed, or the reader's seat free: let the others look

    def close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
            reading = self._reading
            self._changed.notify_all()
        if reading:
            self._replies.put(_WAKE)
