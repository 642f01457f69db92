"""Checks of the fixture problem async_tally."""
import asyncio

import pytest

from grader.sched import explore_async


@pytest.mark.points(2)
def test_counts_every_add(impl):
    """Ten concurrent add() calls are all counted, whatever order the event loop runs them in."""
    async def scenario():
        tally = impl.AsyncTally()
        await asyncio.gather(*(tally.add() for _ in range(10)))
        value = tally.value
        assert type(value) is int and value == 10, f"10 adds, but value is {value!r}"

    explore_async(scenario)


@pytest.mark.points(1)
def test_add_finishes(impl):
    """add(5) finishes within half a second on a real event loop, and adds 5."""
    async def main():
        tally = impl.AsyncTally()
        await asyncio.wait_for(tally.add(5), timeout=0.5)
        return tally.value

    value = asyncio.run(main())
    assert type(value) is int and value == 5, f"value is {value!r} after add(5)"
