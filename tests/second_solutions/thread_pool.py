"""A second correct thread pool, written differently from the reference: a queue.SimpleQueue of tasks, workers
started lazily (one per submit() until there are `workers`, as ThreadPoolExecutor does), and shutdown by one
None sentinel per worker instead of a condition. It must get full marks, so the checks cannot demand one design."""
import queue
import threading
from concurrent.futures import Future


class ThreadPool:
    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError(f"a pool needs at least 1 worker, not {workers}")
        self._size = workers
        self._tasks = queue.SimpleQueue()  # (future, fn, args, kwargs), then one None per worker at shutdown
        self._threads = []
        self._shut_down = False
        # _lock guards _threads and _shut_down, and makes "check the flag, queue the task" one step, so that
        # every task is queued before the sentinels that shutdown() queues under the same lock.
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = Future()
        with self._lock:
            if self._shut_down:
                raise RuntimeError("cannot submit after shutdown")
            self._tasks.put((future, fn, args, kwargs))
            if len(self._threads) < self._size:
                worker = threading.Thread(target=self._work, name=f"pool-worker-{len(self._threads)}")
                self._threads.append(worker)
                worker.start()
        return future

    def map(self, fn, iterable) -> list:
        futures = [self.submit(fn, item) for item in iterable]
        results = []
        for future in futures:
            results.append(future.result())
        return results

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        with self._lock:
            first = not self._shut_down
            self._shut_down = True
            threads = list(self._threads)
            cancelled = []
            if first and cancel_pending:
                while True:
                    try:
                        cancelled.append(self._tasks.get_nowait())
                    except queue.Empty:
                        break
            if first:
                for _ in threads:
                    self._tasks.put(None)
        for future, *_ in cancelled:
            future.cancel()
        if wait:
            for worker in threads:
                if worker is not threading.current_thread():
                    worker.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.shutdown()
        return False

    def _work(self):
        while (item := self._tasks.get()) is not None:
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except Exception as exc:
                    future.set_exception(exc)
