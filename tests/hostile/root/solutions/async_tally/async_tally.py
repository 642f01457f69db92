"""A counter that many coroutines can add to."""
import asyncio


class AsyncTally:
    def __init__(self):
        # _lock guards _value across the await in add().
        self._lock = asyncio.Lock()
        self._value = 0

    async def add(self, n=1):
        async with self._lock:
            current = self._value
            await asyncio.sleep(0)
            self._value = current + n

    @property
    def value(self):
        return self._value
