import asyncio
import time


class AsyncTally:
    def __init__(self):
        self._lock = asyncio.Lock()
        self._value = 0

    async def add(self, n=1):
        async with self._lock:
            time.sleep(5)
            self._value += n

    @property
    def value(self):
        return self._value
