import asyncio


async def forever():
    await asyncio.Event().wait()


class AsyncTally:
    def __init__(self):
        self._value = 0
        self._tasks = []

    async def add(self, n=1):
        self._tasks.append(asyncio.create_task(forever()))
        self._value += n

    @property
    def value(self):
        return self._value
