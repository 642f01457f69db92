"""The semaphore is acquired and released by hand, and the path for a fetch that raises forgets the release.

Each failed fetch keeps its slot forever. With limit=1, the first error leaves every other fetch
waiting in acquire(): a deadlock. `async with slots:` releases on every path.

Caught by: error_does_not_disturb_others
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
        await slots.acquire()
        try:
            value = await asyncio.wait_for(fetch(url), timeout)
        except TimeoutError:
            slots.release()
            return Result(url, False, error="timeout")
        except Exception as exc:
            return Result(url, False, error=f"{type(exc).__name__}: {exc}")  # BUG: the slot is never given back
        slots.release()
        return Result(url, True, value=value)

    distinct = list(dict.fromkeys(urls))
    async with asyncio.TaskGroup() as group:
        tasks = {url: group.create_task(fetch_one(url)) for url in distinct}
    return [tasks[url].result() for url in urls]
