"""The URLs are fetched in batches of limit, each batch gathered before the next starts.

A batch waits for its slowest fetch while the slots of the fast ones stay idle.

Caught by: limit_in_flight_while_urls_wait, random_batches
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
        try:
            value = await asyncio.wait_for(fetch(url), timeout)
        except TimeoutError:
            return Result(url, False, error="timeout")
        except Exception as exc:
            return Result(url, False, error=f"{type(exc).__name__}: {exc}")
        return Result(url, True, value=value)

    distinct = list(dict.fromkeys(urls))
    by_url = {}
    for i in range(0, len(distinct), limit):
        batch = distinct[i:i + limit]
        async with asyncio.TaskGroup() as group:  # BUG: the next batch waits for this whole batch
            tasks = [group.create_task(fetch_one(url)) for url in batch]
        by_url.update((url, task.result()) for url, task in zip(batch, tasks))
    return [by_url[url] for url in urls]
