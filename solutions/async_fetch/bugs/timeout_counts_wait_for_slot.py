"""The timeout is put around the wait for a slot as well as the fetch, so time spent queued counts against it.

With limit=1, a fetch that takes 0.6 s but waited 0.6 s for its slot is cancelled as a timeout.

Caught by: slow_fetch_times_out
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

    async def fetch_in_slot(url):
        async with slots:
            return await fetch(url)

    async def fetch_one(url):
        try:
            value = await asyncio.wait_for(fetch_in_slot(url), timeout)  # BUG: the clock starts before the slot
        except TimeoutError:
            return Result(url, False, error="timeout")
        except Exception as exc:
            return Result(url, False, error=f"{type(exc).__name__}: {exc}")
        return Result(url, True, value=value)

    distinct = list(dict.fromkeys(urls))
    async with asyncio.TaskGroup() as group:
        tasks = {url: group.create_task(fetch_one(url)) for url in distinct}
    return [tasks[url].result() for url in urls]
