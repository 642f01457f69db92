"""A second correct async_fetch, written differently from the reference: `limit` worker tasks take URLs
from a shared deque, each fetch under asyncio.timeout(), the workers gathered with return_exceptions=True.
It must get full marks, so the checks cannot demand one design."""
import asyncio
import collections
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class Result:
    url: str
    ok: bool
    value: object = None
    error: str | None = None


async def fetch_all(urls: list[str], fetch: Callable[[str], Awaitable[object]], *,
                    limit: int, timeout: float) -> list[Result]:
    todo = collections.deque(dict.fromkeys(urls))
    done = {}

    async def worker():
        # No lock: every worker runs on the one event loop, and nothing awaits between the check of
        # `todo` and popleft(), so two workers never take the same URL.
        while todo:
            url = todo.popleft()
            try:
                async with asyncio.timeout(timeout):
                    value = await fetch(url)
            except TimeoutError:
                done[url] = Result(url, False, error="timeout")
            except Exception as exc:
                done[url] = Result(url, False, error=f"{type(exc).__name__}: {exc}")
            else:
                done[url] = Result(url, True, value=value)

    workers = [asyncio.create_task(worker()) for _ in range(min(limit, len(todo)))]
    # With return_exceptions=True, a cancelled gather waits for every worker to finish its cancellation
    # before it raises CancelledError.
    await asyncio.gather(*workers, return_exceptions=True)
    return [done[url] for url in urls]
