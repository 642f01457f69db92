"""Results are appended to a list as fetches finish, so they come back in completion order, not in the order of urls.

Caught by: results_in_order_of_urls, random_batches
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
    results = []

    async def fetch_one(url):
        async with slots:
            try:
                value = await asyncio.wait_for(fetch(url), timeout)
            except TimeoutError:
                results.append(Result(url, False, error="timeout"))  # BUG: in the order fetches finish
                return
            except Exception as exc:
                results.append(Result(url, False, error=f"{type(exc).__name__}: {exc}"))
                return
            results.append(Result(url, True, value=value))

    async with asyncio.TaskGroup() as group:
        for url in dict.fromkeys(urls):
            group.create_task(fetch_one(url))
    return results
