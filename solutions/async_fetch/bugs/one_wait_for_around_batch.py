"""One wait_for() around the whole batch instead of one per fetch: timeout bounds all fetches together.

Fetches that each take less than timeout, but more than timeout in total (queued behind the limit),
are cancelled and reported as timeouts.

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
    done = {}

    async def fetch_one(url):
        async with slots:
            try:
                done[url] = Result(url, True, value=await fetch(url))
            except Exception as exc:
                done[url] = Result(url, False, error=f"{type(exc).__name__}: {exc}")

    async def fetch_every_url():
        async with asyncio.TaskGroup() as group:
            for url in dict.fromkeys(urls):
                group.create_task(fetch_one(url))

    try:
        await asyncio.wait_for(fetch_every_url(), timeout)  # BUG: one timeout for the whole batch
    except TimeoutError:
        pass
    return [done.get(url, Result(url, False, error="timeout")) for url in urls]
