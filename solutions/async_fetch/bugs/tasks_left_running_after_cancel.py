"""The fetches run as tasks awaited with asyncio.wait(); cancelling fetch_all cancels only that wait.

asyncio.wait() does not cancel the tasks it waits for. fetch_all raises CancelledError at once while
its fetches keep running, and the ones still queued start later: tasks left behind.

Caught by: cancel_cancels_fetches_in_flight
"""
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class Result:
    """What fetch_all() reports for one URL: ok and the value fetch returned, or not ok and why. Keep it as it is."""

    url: str
    ok: bool
    value: object = None
    error: str | None = None


async def fetch_all(urls: list[str], fetch: Callable[[str], Awaitable[object]], *,
                    limit: int, timeout: float) -> list[Result]:
    """Fetch each distinct URL once, at most limit at a time; return one Result per entry of urls, in order."""
    slots = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with slots:
            try:
                value = await asyncio.wait_for(fetch(url), timeout)
            except TimeoutError:
                return Result(url, False, error="timeout")
            except Exception as exc:
                return Result(url, False, error=f"{type(exc).__name__}: {exc}")
            return Result(url, True, value=value)

    distinct = list(dict.fromkeys(urls))
    tasks = {url: asyncio.create_task(fetch_one(url)) for url in distinct}
    if tasks:
        await asyncio.wait(tasks.values())  # BUG: if this is cancelled, the tasks are not
    return [tasks[url].result() for url in urls]
