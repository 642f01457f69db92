"""Student-like code that the scheduler's tests load as a submission (instruction-level points)."""
import _thread
import concurrent.futures
import threading
import time


class RacyCounter:
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value += 1


class LockedCounter:
    def __init__(self):
        self.value = 0
        self._lock = threading.Lock()   # guards value

    def increment(self):
        with self._lock:
            self.value += 1


class TwoAccounts:
    """Transfers lock the source, then the destination: opposite transfers deadlock."""

    def __init__(self):
        self.locks = [threading.Lock(), threading.Lock()]
        self.balances = [10, 10]

    def transfer(self, src, dst):
        with self.locks[src]:
            with self.locks[dst]:
                self.balances[src] -= 1
                self.balances[dst] += 1


class Mailbox:
    """One slot; notify() fires before anyone waits when `lost` is set (a lost wakeup)."""

    def __init__(self, lost=False):
        self._cond = threading.Condition()
        self.item = None
        self.lost = lost

    def put(self, item):
        with self._cond:
            if not self.lost:
                self.item = item
            self._cond.notify()

    def take(self, timeout=None):
        with self._cond:
            while self.item is None:
                if not self._cond.wait(timeout):
                    return "timeout"
            return self.item


class Reentrant:
    def __init__(self):
        self._lock = threading.RLock()
        self.log = []

    def outer(self):
        with self._lock:
            self.inner()

    def inner(self):
        with self._lock:
            self.log.append(threading.current_thread().name)


def spawn_tree(counter, depth):
    """A thread that starts two threads that each start ... down to depth 0."""
    counter.increment()
    if depth == 0:
        return
    children = [threading.Thread(target=spawn_tree, args=(counter, depth - 1), name=f"d{depth}-{i}")
                for i in range(2)]
    for c in children:
        c.start()
    for c in children:
        c.join()


def pool_sum(counter, jobs):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(jobs):
            pool.submit(counter.increment)


def crash():
    return {}["missing"]


def start_raw_thread(counter):
    _thread.start_new_thread(counter.increment, ())


def sleepy_flag(flags):
    time.sleep(5)
    flags.append("late")


def spin_until(flags):
    while not flags:
        pass


async def fetch_in_order(urls, fetch):
    """Results in completion order: wrong whenever fetches finish out of order."""
    import asyncio
    results = []

    async def one(url):
        results.append(await fetch(url))
    await asyncio.gather(*(one(u) for u in urls))
    return results


async def wait_forever(event):
    await event.wait()


async def blocking_nap():
    time.sleep(2)


class NotReentrant:
    """Reentrant's mistake: a plain Lock taken again by the thread that holds it."""

    def __init__(self):
        self._lock = threading.Lock()

    def outer(self):
        with self._lock:
            self.inner()

    def inner(self):
        with self._lock:
            pass


class LoopingRacyCounter:
    """RacyCounter's mistake in a loop: a long trace whose one switch is what matters."""

    def __init__(self):
        self.value = 0

    def add(self, n):
        for _ in range(n):
            self.value += 1


class NappingCounter:
    """RacyCounter's mistake with a sleep first, as if the threads then took turns."""

    def __init__(self):
        self.value = 0

    def increment(self, pause):
        time.sleep(pause)
        self.value += 1
