"""Checks for async_fetch. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.

Every check runs fetch_all() under explore_async: virtual time, and the event loop's ready callbacks
in many seeded orders. The fake site's fetch takes exactly the virtual seconds it is given, so every
start, end and timeout happens at a known moment, and a verdict never depends on the machine's speed.
"""
import asyncio
import collections
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.checking import describe_error
from grader.sched import explore_async


class Site:
    """A fake web site: fetch(url) takes pages[url][0] virtual seconds, then returns "page <url>", or
    raises the (exception type, message) in pages[url][1]. Each fetch is recorded as a span."""

    def __init__(self, pages):
        self.pages = pages
        self.spans = []             # {"url", "start", "end", "how"} per fetch, in the order they started
        self.in_flight = []         # urls being fetched right now
        self.peak = (0, 0.0, [])    # (how many, when, which) at the most crowded moment
        self.zero = asyncio.get_running_loop().time()   # times are from here: the loop's clock does not start at 0

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self.zero

    async def fetch(self, url):
        seconds, failure = self.pages.get(url, (1, None))
        span = {"url": url, "start": self.now(), "end": None, "how": "running"}
        self.spans.append(span)
        self.in_flight.append(url)
        if len(self.in_flight) > self.peak[0]:
            self.peak = (len(self.in_flight), self.now(), list(self.in_flight))
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            span["how"] = "cancelled"
            raise
        finally:
            span["end"] = self.now()
            self.in_flight.remove(url)
        if failure:
            span["how"] = "raised"
            kind, message = failure
            raise kind(message)
        span["how"] = "returned"
        return f"page {url}"


def expected(impl, pages, urls, timeout):
    """The results the README promises for these pages."""
    results = []
    for url in urls:
        seconds, failure = pages[url]
        if seconds > timeout:
            results.append(impl.Result(url, False, error="timeout"))
        elif failure:
            results.append(impl.Result(url, False, error=f"{failure[0].__name__}: {failure[1]}"))
        else:
            results.append(impl.Result(url, True, value=f"page {url}"))
    return results


def t(seconds):
    """A virtual time for a message: 2.2, not 2.2000000000000006."""
    return f"{round(seconds, 6):g}"


def show(results):
    """Results as the student would write them: [Result('a', True, value='page a'), ...]."""
    if not isinstance(results, list):
        return repr(results)
    return "[" + ", ".join(_show_one(r) for r in results) + "]"


def _show_one(result):
    if not all(hasattr(result, field) for field in ("url", "ok", "value", "error")):
        return repr(result)
    parts = [repr(result.url), repr(result.ok)]
    parts += [f"value={result.value!r}"] if result.value is not None else []
    parts += [f"error={result.error!r}"] if result.error is not None else []
    return f"Result({', '.join(parts)})"


def describe(pages, urls):
    """`a takes 1 s, b takes 2 s and raises ValueError('bad page')` for the URLs asked for."""
    parts = []
    for url in dict.fromkeys(urls):
        seconds, failure = pages[url]
        parts.append(f"{url} takes {t(seconds)} s" + (f" and raises {failure[0].__name__}({failure[1]!r})" if failure else ""))
    return ", ".join(parts)


def times(n):
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def call(urls, limit, timeout):
    return f"fetch_all({urls}, limit={limit}, timeout={t(timeout)})"


async def fetch_all(impl, site, urls, limit, timeout):
    """Await impl.fetch_all; an exception it raises becomes a message naming the student's line."""
    __tracebackhide__ = True
    try:
        return await impl.fetch_all(urls, site.fetch, limit=limit, timeout=timeout)
    except Exception as exc:
        raise AssertionError(f"{call(urls, limit, timeout)}, where {describe(site.pages, urls)}: "
                             f"{describe_error(impl, exc)}; expected it to return one Result per URL") from exc


def idle_stretch(spans, start, urls, limit):
    """The first stretch of time in which fewer than limit fetches ran although a URL had not started
    yet: (t0, t1, running, waiting); None if there is none."""
    first = {}
    for span in spans:
        first.setdefault(span["url"], span["start"])
    times = sorted({start, *(s["start"] for s in spans), *(s["end"] for s in spans if s["end"] is not None)})
    for t0, t1 in zip(times, times[1:]):
        running = [s["url"] for s in spans if s["start"] <= t0 and (s["end"] is None or s["end"] >= t1)]
        waiting = [u for u in dict.fromkeys(urls) if first.get(u, math.inf) >= t1]
        if waiting and len(running) < limit:
            return t0, t1, running, waiting
    return None


def idle_message(idle, limit):
    t0, t1, running, waiting = idle
    now = f"only {len(running)} fetch was in flight ({', '.join(running)})" if running else "no fetch was in flight"
    return (f"from t={t(t0)} s to t={t(t1)} s {now} while {', '.join(waiting)} had not started; expected {limit} "
            "in flight whenever URLs are waiting (start the next fetch as soon as one finishes)")


# Results: what comes back, in which order.


@pytest.mark.points(2)
@pytest.mark.hint("keep each result at its URL's position: gather() returns results in the order of its arguments; appending as fetches finish gives completion order")
def test_results_in_order_of_urls(impl):
    """fetch_all() returns one Result per URL, in the order of urls, whatever order the fetches finish in."""
    pages = {"a": (4, None), "b": (1, None), "c": (3, None), "d": (2, None)}
    urls = ["a", "b", "c", "d"]

    async def main():
        got = await fetch_all(impl, Site(pages), urls, 4, 10)
        want = expected(impl, pages, urls, 10)
        assert got == want, (
            f"{call(urls, 4, 10)}, where {describe(pages, urls)}, returned {show(got)}; expected {show(want)}"
        )
        got = await fetch_all(impl, Site(pages), [], 2, 10)
        assert got == [], f"{call([], 2, 10)} returned {show(got)}; expected []"
    explore_async(main)


@pytest.mark.points(2)
@pytest.mark.hint("turn each fetch's exception into that URL's Result, and give its slot back on every path (async with semaphore), so a failed fetch neither stops nor holds up the others")
def test_error_does_not_disturb_others(impl):
    """A fetch that raises gives its URL an ok=False Result naming the error, and every other fetch runs and reports as usual."""
    pages = {"bad": (0.5, (ConnectionError, "connection refused")), "good": (1, None),
             "worse": (0.5, (ValueError, "no such page")), "fine": (1, None)}
    urls = ["bad", "good", "worse", "fine"]

    async def main():
        got = await fetch_all(impl, Site(pages), urls, 1, 10)
        want = expected(impl, pages, urls, 10)
        assert got == want, (
            f"{call(urls, 1, 10)}, where {describe(pages, urls)}, returned {show(got)}; expected {show(want)}"
        )
    explore_async(main)


@pytest.mark.points(1)
@pytest.mark.hint("fetch each distinct URL once (dict.fromkeys(urls) keeps the first-seen order), then give every position of a URL its result")
def test_each_url_fetched_once(impl):
    """A URL that appears several times in urls is fetched once, and each of its positions gets that result."""
    pages = {"a": (1, None), "b": (2, None), "c": (1, None)}
    urls = ["a", "b", "a", "c", "b", "a"]

    async def main():
        site = Site(pages)
        got = await fetch_all(impl, site, urls, 2, 10)
        counts = collections.Counter(span["url"] for span in site.spans)
        assert all(n == 1 for n in counts.values()), (
            f"{call(urls, 2, 10)} fetched " + ", ".join(f"{url} {times(n)}" for url, n in counts.items())
            + "; expected each distinct URL fetched once"
        )
        want = expected(impl, pages, urls, 10)
        assert got == want, f"{call(urls, 2, 10)}, where {describe(pages, urls)}, returned {show(got)}; expected {show(want)}"
    explore_async(main)


# Concurrency: the limit, both ways.


@pytest.mark.points(3)
@pytest.mark.hint("an asyncio.Semaphore(limit) held (async with) around each fetch keeps at most limit in flight")
def test_at_most_limit_in_flight(impl):
    """At most limit fetches are in flight at any moment."""
    pages = {"a": (1, None), "b": (2, None), "c": (1, None), "d": (3, None), "e": (1, None)}
    urls = ["a", "b", "c", "d", "e"]

    async def main():
        site = Site(pages)
        await fetch_all(impl, site, urls, 2, 10)
        count, when, which = site.peak
        assert count <= 2, (
            f"{call(urls, 2, 10)}, where {describe(pages, urls)}: at t={t(when)} s {count} fetches were in flight "
            f"at once ({', '.join(which)}); expected at most 2"
        )
    explore_async(main)


@pytest.mark.points(2)
@pytest.mark.hint("start every fetch at once and let a Semaphore(limit) hold back the rest: each one that finishes lets the next start, with no waiting for a whole batch")
def test_limit_in_flight_while_urls_wait(impl):
    """Whenever fewer than limit fetches are in flight and a URL has not started, the next fetch starts at once."""
    pages = {"a": (1, None), "b": (3, None), "c": (1, None), "d": (1, None)}
    urls = ["a", "b", "c", "d"]

    async def main():
        site = Site(pages)
        start = site.now()
        await fetch_all(impl, site, urls, 2, 10)
        idle = idle_stretch(site.spans, start, urls, 2)
        assert idle is None, f"{call(urls, 2, 10)}, where {describe(pages, urls)}: {idle_message(idle, 2)}"
    explore_async(main)


# Timeouts and cancellation.


@pytest.mark.points(3)
@pytest.mark.hint("put the timeout around each fetch, after it has its slot (asyncio.wait_for(fetch(url), timeout)), not around the whole batch")
def test_slow_fetch_times_out(impl):
    """A fetch still running timeout seconds after it started is cancelled and reported as error="timeout"; the others are not affected."""
    pages = {"fast": (0.6, None), "quick": (0.6, None), "slow": (5, None), "brisk": (0.5, None)}
    urls = ["fast", "quick", "slow", "brisk"]

    async def main():
        site = Site(pages)
        got = await fetch_all(impl, site, urls, 1, 1)
        want = expected(impl, pages, urls, 1)
        assert got == want, (
            f"{call(urls, 1, 1)}, where {describe(pages, urls)}, returned {show(got)}; expected {show(want)} "
            "(each fetch has its own 1 s, counted from when it starts)"
        )
        slow = [span for span in site.spans if span["url"] == "slow"][0]
        late = slow["end"] is not None and slow["end"] > slow["start"] + 1 + 1e-6
        if slow["how"] == "running":
            problem = "was still running when fetch_all returned"
        elif slow["how"] != "cancelled":
            problem = f"ran to the end (it {slow['how']} at t={t(slow['end'])} s)"
        elif late:
            problem = f"was cancelled only at t={t(slow['end'])} s"
        else:
            return
        raise AssertionError(
            f"in {call(urls, 1, 1)}, the fetch of slow started at t={t(slow['start'])} s and {problem}; expected it to "
            f"be cancelled at t={t(slow['start'] + 1)} s, when its 1 s ran out"
        )
    explore_async(main)


@pytest.mark.points(2)
@pytest.mark.hint("on cancellation, cancel the tasks fetch_all started and wait until they have finished before re-raising: a TaskGroup does both; gather() without return_exceptions=True stops waiting at the first cancelled task; asyncio.wait() does neither")
def test_cancel_cancels_fetches_in_flight(impl):
    """Cancelling fetch_all() cancels every fetch in flight and waits for them before raising CancelledError; nothing starts afterwards."""
    pages = {url: (10, None) for url in "abcd"}
    urls = ["a", "b", "c", "d"]

    async def main():
        site = Site(pages)
        task = asyncio.create_task(impl.fetch_all(urls, site.fetch, limit=2, timeout=100), name="fetch_all")
        await asyncio.sleep(1)
        started = [span["url"] for span in site.spans]
        task.cancel()
        try:
            outcome = f"returned {show(await task)}"
        except asyncio.CancelledError:
            outcome = None
        except Exception as exc:
            outcome = describe_error(impl, exc)
        situation = (f"{call(urls, 2, 100)}, where each fetch takes 10 s, was cancelled at t=1 s while fetching "
                     f"{', '.join(started) or 'nothing'}")
        running = [span["url"] for span in site.spans if span["how"] == "running"]
        assert not running, (
            f"{situation}; when it had finished, " + (f"the fetch of {running[0]} was" if len(running) == 1 else
                                                     f"the fetches of {', '.join(running)} were")
            + " still running; expected every fetch in flight to be cancelled, and finished, before fetch_all raises "
            "CancelledError"
        )
        assert outcome is None, f"{situation}; then it {outcome}; expected it to raise CancelledError"
        await asyncio.sleep(30)
        late = [span for span in site.spans if span["start"] > 1]
        assert not late, (
            f"{situation}; after that, the fetch of {late[0]['url']} started at t={t(late[0]['start'])} s; "
            "expected no fetch to start after the cancellation"
        )
    explore_async(main)


# Everything at once, on random inputs.

DURATIONS = [0.5, 1, 2, 3]           # never equal to a timeout below: no tie to decide
FAILURES = [None, None, (ConnectionError, "connection refused"), (ValueError, "bad page")]
TIMEOUTS = [1.5, 2.5]


@st.composite
def batches(draw):
    names = ["a", "b", "c", "d", "e"][: draw(st.integers(1, 5))]
    pages = {name: (draw(st.sampled_from(DURATIONS)), draw(st.sampled_from(FAILURES))) for name in names}
    urls = draw(st.lists(st.sampled_from(names), max_size=7))
    return urls, pages, draw(st.integers(1, 3)), draw(st.sampled_from(TIMEOUTS))


@pytest.mark.points(2)
@pytest.mark.hint("each guarantee of README.md holds together: one fetch per distinct URL, its own timeout, its own error, results in order, the limit")
def test_random_batches(impl):
    """On random URL lists with repeats, errors and slow fetches, every guarantee holds at once: results, order, one fetch per URL, the limit."""
    async def main(urls, pages, limit, timeout):
        site = Site(pages)
        start = site.now()
        got = await fetch_all(impl, site, urls, limit, timeout)
        situation = f"{call(urls, limit, timeout)}, where {describe(pages, urls) or 'nothing is fetched'}"
        want = expected(impl, pages, urls, timeout)
        assert got == want, f"{situation}, returned {show(got)}; expected {show(want)}"
        counts = collections.Counter(span["url"] for span in site.spans)
        assert all(n == 1 for n in counts.values()), (
            f"{situation}: fetched " + ", ".join(f"{url} {times(n)}" for url, n in counts.items())
            + "; expected each distinct URL fetched once"
        )
        count, when, which = site.peak
        assert count <= limit, (
            f"{situation}: at t={t(when)} s {count} fetches were in flight at once ({', '.join(which)}); "
            f"expected at most {limit}"
        )
        idle = idle_stretch(site.spans, start, urls, limit)
        assert idle is None, f"{situation}: {idle_message(idle, limit)}"

    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(batches())
    def run(batch):
        explore_async(lambda: main(*batch), schedules=5)
    run()
