"""submit() starts a new thread for every task, so nothing limits how many tasks run at once.

With three slow tasks on a ThreadPool(2), all three run together: the pool's size is ignored.

Caught by: never_more_than_workers_at_once
"""
import threading
from concurrent.futures import Future


class ThreadPool:
    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError(f"a pool needs at least 1 worker, not {workers}")
        self._workers = workers  # BUG: never used to limit anything
        self._threads = []
        self._shut_down = False
        # _lock guards _threads and _shut_down. Nobody waits on a condition: shutdown() joins the threads.
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = Future()
        with self._lock:
            if self._shut_down:
                raise RuntimeError("submit() on a pool that has been shut down")
            thread = threading.Thread(target=self._run, args=(future, fn, args, kwargs),  # BUG: one thread per task
                                      name=f"task-{len(self._threads)}")
            self._threads.append(thread)
        thread.start()
        return future

    def map(self, fn, iterable) -> list:
        futures = [self.submit(fn, item) for item in iterable]
        return [future.result() for future in futures]

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        with self._lock:
            self._shut_down = True
            threads = list(self._threads)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.shutdown(wait=True)

    @staticmethod
    def _run(future, fn, args, kwargs):
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)
