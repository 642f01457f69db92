"""The fetches are awaited one after another in a loop: correct results, but never more than one in flight.

`await` in a for loop waits for each fetch before starting the next, so limit=2 runs one at a time.

Caught by: limit_in_flight_while_urls_wait
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

    by_url = {}
    for url in dict.fromkeys(urls):
        by_url[url] = await fetch_one(url)  # BUG: waits for this fetch before starting the next
    return [by_url[url] for url in urls]
