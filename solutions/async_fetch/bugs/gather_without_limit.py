"""Every fetch starts at once: gather() with no semaphore, so limit is ignored.

With 5 URLs and limit=2, all 5 fetches are in flight at t=0.

Caught by: at_most_limit_in_flight
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
    async def fetch_one(url):
        try:  # BUG: no semaphore: nothing holds a fetch back
            value = await asyncio.wait_for(fetch(url), timeout)
        except TimeoutError:
            return Result(url, False, error="timeout")
        except Exception as exc:
            return Result(url, False, error=f"{type(exc).__name__}: {exc}")
        return Result(url, True, value=value)

    distinct = list(dict.fromkeys(urls))
    async with asyncio.TaskGroup() as group:
        tasks = {url: group.create_task(fetch_one(url)) for url in distinct}
    return [tasks[url].result() for url in urls]
