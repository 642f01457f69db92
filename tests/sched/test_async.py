"""explore_async: seeded callback order, virtual time, deadlocks, blocking calls, tasks left behind."""
import asyncio
import time

import pytest

from grader.sched import ScheduleFailure, configure, explore_async



async def echo(url):
    await asyncio.sleep(0)
    return url


def failure(main, **kw) -> ScheduleFailure:
    with pytest.raises(ScheduleFailure) as info:
        explore_async(main, **kw)
    return info.value


def test_completion_order_bug_found_by_reordering(s):
    async def main():
        got = await s.fetch_in_order(["a", "b", "c"], echo)
        assert got == ["a", "b", "c"], f"results {got}, expected in the order of urls"
    f = failure(main)
    assert f.kind == "assertion"


def test_ordered_gather_never_flagged():
    async def main():
        got = await asyncio.gather(*(echo(u) for u in "abc"))
        assert got == ["a", "b", "c"]
    explore_async(main, schedules=100)


def test_timeouts_take_virtual_time():
    async def main():
        start = asyncio.get_running_loop().time()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.sleep(3600), timeout=30)
        assert asyncio.get_running_loop().time() - start == 30
    began = time.perf_counter()
    explore_async(main, schedules=20)
    assert time.perf_counter() - began < 10


def test_deadlock_reports_each_task_await_point(s):
    async def main():
        await asyncio.create_task(s.wait_forever(asyncio.Event()), name="waiter")
    f = failure(main)
    assert f.kind == "deadlock"
    assert "waiter waits at samples.py:125 `await event.wait()`" in str(f)


def test_blocking_sleep_in_a_coroutine_fails(s):
    f = failure(s.blocking_nap)
    assert f.kind == "blocking call"
    assert "time.sleep(2) at samples.py:129 `time.sleep(2)` blocks the whole event loop" in str(f)


def test_task_left_behind_fails(s):
    async def main():
        asyncio.create_task(s.wait_forever(asyncio.Event()), name="orphan")
        await asyncio.sleep(1)
    f = failure(main)
    assert f.kind == "task left behind"
    assert "orphan waits at samples.py:125" in str(f)


def test_replay_seed_reproduces_the_failure(s):
    async def main():
        got = await s.fetch_in_order(list("abcd"), echo)
        assert got == list("abcd"), f"results {got}"
    first = failure(main)
    configure(seed=first.seed)
    assert str(failure(main)) == str(first)
