"""The fetches are gathered with asyncio.gather(); when fetch_all is cancelled, gather cancels them but
does not wait for them.

Without return_exceptions=True, a cancelled gather() raises CancelledError as soon as its first child
is cancelled (here, one still waiting for a slot), while the fetches in flight are still unwinding.
fetch_all has raised, and its fetches are still running.

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
    results = await asyncio.gather(*(fetch_one(url) for url in distinct))  # BUG: cancelled, it does not wait for them
    by_url = dict(zip(distinct, results))
    return [by_url[url] for url in urls]
