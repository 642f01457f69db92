"""Reference solution for async_fetch: a semaphore for the limit, wait_for per fetch, a TaskGroup for cancellation."""
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
    """Fetch each distinct URL once, at most limit at a time; return one Result per entry of urls, in order.

    A fetch that raises gives Result(url, False, error="<ExceptionType>: <message>"); one still running
    timeout seconds after it started is cancelled and gives Result(url, False, error="timeout").
    Cancelling fetch_all() cancels every fetch in flight and waits for them before raising CancelledError.
    """
    # slots counts the free places for a fetch in flight. A fetch takes one before it starts and gives
    # it back (async with) when it has finished, however it finished: that wakes the next waiter.
    slots = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with slots:
            try:
                # wait_for starts the clock here, once we hold a slot, and on timeout cancels the fetch
                # and waits for the cancellation to complete before raising TimeoutError.
                value = await asyncio.wait_for(fetch(url), timeout)
            except TimeoutError:
                return Result(url, False, error="timeout")
            except Exception as exc:  # the fetch failed: report it, keep the others going
                return Result(url, False, error=f"{type(exc).__name__}: {exc}")
            return Result(url, True, value=value)

    distinct = list(dict.fromkeys(urls))  # each URL once, in first-seen order
    # If fetch_all is cancelled, the TaskGroup cancels every task in it and waits until all of them have
    # finished before the CancelledError goes on. (gather() would cancel them too, but without
    # return_exceptions=True it raises as soon as the first one is cancelled, while others still run.)
    async with asyncio.TaskGroup() as group:
        tasks = {url: group.create_task(fetch_one(url)) for url in distinct}
    return [tasks[url].result() for url in urls]
