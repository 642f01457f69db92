"""Every entry of urls is fetched, so a URL listed twice is fetched twice.

Caught by: each_url_fetched_once
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

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch_one(url)) for url in urls]  # BUG: one fetch per entry, not per URL
    return [task.result() for task in tasks]
