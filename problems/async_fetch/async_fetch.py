"""Fetch many URLs concurrently: at most `limit` at a time, each with its own timeout. See README.md."""
import asyncio  # noqa: F401  (you will need it)
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
    raise NotImplementedError("fetch_all() is yours to write; see README.md")
