import asyncio


class AsyncTally:
    def __init__(self):
        self._value = 0

    async def add(self, n=1):
        await asyncio.Event().wait()
        self._value += n

    @property
    def value(self):
        return self._value
