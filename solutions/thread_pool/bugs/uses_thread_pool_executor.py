"""Wraps concurrent.futures.ThreadPoolExecutor, the ready-made pool this problem asks you to write.

It behaves correctly, which is why only the check that reads the file catches it.

Caught by: builds_its_own_pool
"""
from concurrent.futures import Future, ThreadPoolExecutor


class ThreadPool:
    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError(f"a pool needs at least 1 worker, not {workers}")
        self._executor = ThreadPoolExecutor(max_workers=workers)  # BUG: not allowed

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return self._executor.submit(fn, *args, **kwargs)

    def map(self, fn, iterable) -> list:
        return list(self._executor.map(fn, iterable))

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=cancel_pending)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.shutdown(wait=True)
