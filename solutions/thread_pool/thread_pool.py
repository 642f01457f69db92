"""Reference solution for thread_pool: fixed workers taking tasks from one deque, under one lock and a condition."""
import collections
import threading
from concurrent.futures import Future


class ThreadPool:
    """A fixed number of worker threads that run submitted tasks, at most workers at a time."""

    def __init__(self, workers: int):
        """Create a pool of workers worker threads.

        Raises:
            ValueError: workers is less than 1.
        """
        if workers < 1:
            raise ValueError(f"a pool needs at least 1 worker, not {workers}")
        self._tasks = collections.deque()  # (future, fn, args, kwargs) accepted and not yet taken by a worker
        self._shut_down = False
        # _lock guards _tasks and _shut_down. submit() notifies _work_ready once per task; shutdown()
        # notifies all of it, so that idle workers wake up, see the pool shut down, and end.
        self._lock = threading.Lock()
        self._work_ready = threading.Condition(self._lock)
        self._workers = [threading.Thread(target=self._work, name=f"worker-{i}") for i in range(workers)]
        for worker in self._workers:
            worker.start()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        """Accept the task fn(*args, **kwargs) and return at once a Future for its result.

        Raises:
            RuntimeError: the pool has been shut down.
        """
        future = Future()
        with self._lock:
            # Checked under the lock that shutdown() sets it under: once shutdown() has run, no task gets in.
            if self._shut_down:
                raise RuntimeError("submit() on a pool that has been shut down")
            self._tasks.append((future, fn, args, kwargs))
            self._work_ready.notify()
        return future

    def map(self, fn, iterable) -> list:
        """Run fn(item) for each item of iterable on the pool, and return the results in the order of iterable."""
        futures = [self.submit(fn, item) for item in iterable]
        return [future.result() for future in futures]  # in submission order; raises the first failure's exception

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        """Stop accepting tasks; the accepted ones still run (those not started are cancelled if cancel_pending)."""
        with self._lock:
            self._shut_down = True
            pending = []
            if cancel_pending:
                pending, self._tasks = list(self._tasks), collections.deque()
            self._work_ready.notify_all()  # idle workers must wake up to see the pool shut down
        for future, *_ in pending:
            future.cancel()  # outside the lock: cancel() runs the future's done-callbacks
        if wait:
            for worker in self._workers:
                if worker is not threading.current_thread():  # a task may shut its own pool down
                    worker.join()

    def __enter__(self):
        """Return the pool itself."""
        return self

    def __exit__(self, *exc_info):
        """Shut the pool down, waiting for its tasks and workers."""
        self.shutdown(wait=True)

    def _work(self) -> None:
        """A worker: run tasks one after another until the pool is shut down and no task is left."""
        while True:
            with self._lock:
                while not self._tasks and not self._shut_down:
                    self._work_ready.wait()
                if not self._tasks:  # shut down, and nothing left to run
                    return
                future, fn, args, kwargs = self._tasks.popleft()
            if not future.set_running_or_notify_cancel():  # cancelled while it waited: skip it
                continue
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:  # the task's failure belongs on its future; this worker carries on
                future.set_exception(exc)
            else:
                future.set_result(result)
