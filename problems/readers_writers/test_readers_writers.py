"""Checks for readers_writers. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.

Time in the scheduler is virtual: `time.sleep(1)` costs nothing, and a thread that sleeps until
second 2 arrives after every thread that arrived at second 1 has run until it had to wait. The
starvation checks use that to set who arrives when, then count who overtakes whom.
"""
import linecache
import os
import sys
import threading
import time

import pytest

from grader.checking import attempt, describe_error, raised, run_threads, said
from grader.sched import explore

PATIENCE = 1.0  # virtual seconds a check waits for a thread that should get in; no real time passes


def alone(body):
    """Run body once under the scheduler: a thread that waits forever is reported, not hung."""
    __tracebackhide__ = True
    explore(body, schedules=1)


def site(impl, thread):
    """`readers_writers.py:31 `self._cond.wait()`` for the innermost frame of thread in the student's file."""
    frame = sys._current_frames().get(thread.ident) if thread is not None else None
    target = os.path.abspath(impl.__file__)
    while frame is not None:
        if os.path.abspath(frame.f_code.co_filename) == target:
            text = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
            return f"{os.path.basename(target)}:{frame.f_lineno} `{text}`"
        frame = frame.f_back
    return "a place outside your file"


class Visitors:
    """Named daemon threads whose arrivals, entries and exits are logged with the virtual time.

    Daemon threads, so one left waiting forever is reported by the check in its own words rather
    than as a hang.
    """

    def __init__(self, impl, lock):
        self.impl = impl
        self.lock = lock
        self.log = []          # (time from the start, name, "arrives" | "in" | "out")
        self.start = time.monotonic()   # the clocks do not start at 0
        self.errors = {}
        self.threads = {}
        self.last_arrival = 0.0
        self.total_stay = 0.0  # with last_arrival: when every thread is done, even if they all take turns

    def note(self, name, what):
        self.log.append((time.monotonic() - self.start, name, what))

    def visit(self, name, kind, arrive=0.0, stay=0.0):
        """Start thread `name`: at second `arrive` it takes a `kind` ("read" or "write") hold for `stay` seconds."""
        def body():
            try:
                if arrive:
                    time.sleep(arrive)
                self.note(name, "arrives")
                with self.lock.read_locked() if kind == "read" else self.lock.write_locked():
                    self.note(name, "in")
                    time.sleep(stay)
                    self.note(name, "out")
            except Exception as exc:
                self.errors[name] = exc
        self.last_arrival = max(self.last_arrival, arrive)
        self.total_stay += stay
        self.threads[name] = threading.Thread(target=body, name=name, daemon=True)
        self.threads[name].start()

    def finish(self):
        """Wait for every thread (until all could have taken turns, and PATIENCE more); fail on errors; return those still waiting."""
        __tracebackhide__ = True
        deadline = time.monotonic() + self.last_arrival + self.total_stay + PATIENCE
        for t in self.threads.values():
            t.join(max(0.0, deadline - time.monotonic()))
        if self.errors:
            raise AssertionError("\n".join(f"{name}: {describe_error(self.impl, exc)}"
                                           for name, exc in self.errors.items()))
        return [name for name, t in self.threads.items() if t.is_alive()]

    def when(self, name, what):
        return next((t for t, who, w in self.log if who == name and w == what), None)

    def still_waiting(self, waiting):
        """`writer-0 still waits at readers_writers.py:40 `...``, or `a and b still wait, a at ...`."""
        where = site(self.impl, self.threads[waiting[0]])
        if len(waiting) == 1:
            return f"{waiting[0]} still waits at {where}"
        return f"{' and '.join(waiting)} still wait, {waiting[0]} at {where}"

    def story(self):
        """What happened, one line per event (`  t=1  writer-0 arrives`), in the student's terms."""
        return "\n".join(f"  t={t:<3g} {name} {'gets in' if what == 'in' else 'lets go' if what == 'out' else what}"
                         for t, name, what in self.log)


# Sequential checks: one thread (and, where needed, a probe thread), each call's result.


@pytest.mark.points(1)
@pytest.mark.hint("keep count of the read holds and of the write hold, and raise RuntimeError before changing anything when the one being released is not held")
def test_release_without_acquire_raises(impl):
    """release_read() with no read hold and release_write() with no write hold raise RuntimeError and change nothing."""
    def after(steps):
        return f", after {', '.join(steps)}," if steps else ""

    def body():
        lock = impl.RWLock()
        steps = []

        def expect_error(call, what):
            outcome = attempt(call)
            assert raised(outcome, RuntimeError), (
                f"on a new RWLock{after(steps)}, {what} {said(impl, outcome)}; expected RuntimeError"
            )
            steps.append(what)

        def expect_ok(call, what):
            outcome = attempt(call)
            assert outcome[0] == "returned", (
                f"on a new RWLock{after(steps)}, {what} {said(impl, outcome)}; expected it to succeed"
            )
            steps.append(what)

        expect_error(lock.release_read, "release_read()")
        expect_error(lock.release_write, "release_write()")
        expect_ok(lock.acquire_read, "acquire_read()")
        expect_error(lock.release_write, "release_write() while only a read hold is held")
        expect_ok(lock.release_read, "release_read()")
        expect_error(lock.release_read, "release_read() again")
        expect_ok(lock.acquire_write, "acquire_write()")
        expect_error(lock.release_read, "release_read() while only the write hold is held")
        expect_ok(lock.release_write, "release_write()")
        expect_error(lock.release_write, "release_write() again")
        # The refused releases changed nothing: the lock is free, for a writer and then for a reader.
        prober = Visitors(impl, lock)
        prober.visit("writer-0", "write")
        prober.visit("reader-0", "read", arrive=1.0)
        waiting = prober.finish()
        assert not waiting, (
            f"on a new RWLock{after(steps)} {' and '.join(waiting)} waited forever to get in "
            f"({site(impl, prober.threads[waiting[0]])}); expected the lock to be free: a refused release changes "
            "nothing"
        )
    alone(body)


@pytest.mark.points(1)
@pytest.mark.hint("release in a `finally:` (or in __exit__), so that a block that raises still lets go of the lock")
def test_context_managers(impl):
    """read_locked() and write_locked() hold the lock for the block and release it on exit, also when the block raises."""
    class Oops(Exception):
        pass

    def body(kind, raises):
        lock = impl.RWLock()
        if kind == "read":
            other, prober_name, other_kind = "writer", "writer-0", "write"
        else:
            other, prober_name, other_kind = "reader", "reader-0", "read"
        block = f"`with lock.{kind}_locked(): {'raise Oops' if raises else '...'}`"
        prober = Visitors(impl, lock)
        try:
            with lock.read_locked() if kind == "read" else lock.write_locked():
                prober.visit(prober_name, other_kind)
                prober.threads[prober_name].join(PATIENCE)
                assert prober.when(prober_name, "in") is None, (
                    f"inside {block}, a {other} got in at once; expected it to wait until the block ends"
                )
                if raises:
                    raise Oops()
        except Oops:
            pass
        waiting = prober.finish()
        assert not waiting, (
            f"after {block}, a {other} that had been waiting for the block to end still could not get in "
            f"({site(impl, prober.threads[waiting[0]])}); expected the lock to be free: {kind}_locked() must "
            + ("release on exit, also when the block raises, " if raises else "release on exit, ")
            + f"and that release must let the waiting {other} in"
        )

    for kind, raises in [("read", False), ("write", False), ("read", True), ("write", True)]:
        alone(lambda: body(kind, raises))


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(3)
@pytest.mark.hint("acquire_write() must wait until no reader and no other writer holds the lock, and acquire_read() while a writer holds it")
def test_writer_is_alone(impl):
    """While a writer holds the lock, no other thread holds it, to read or to write."""
    def scenario():
        lock = impl.RWLock()
        inside = {}      # name -> "read" or "write"
        clashes = []

        def visit(name, kind):
            with lock.read_locked() if kind == "read" else lock.write_locked():
                for _ in range(2):   # look on entry and again on the way out
                    others = sorted(f"{n} ({k.removesuffix('e')}ing)" for n, k in inside.items() if n != name)
                    if others and (kind == "write" or "write" in inside.values()):
                        clashes.append(f"{name} got in to {kind} while {', '.join(others)} held the lock")
                    inside[name] = kind
                    time.sleep(0)    # a moment inside, for another thread to try to get in
                del inside[name]

        run_threads(impl, {
            "writer-0": lambda: visit("writer-0", "write"),
            "writer-1": lambda: visit("writer-1", "write"),
            "reader-0": lambda: visit("reader-0", "read"),
        })
        assert not clashes, (
            f"writer-0 and writer-1 each took write_locked() once and reader-0 took read_locked() once; "
            f"{clashes[0]}. Expected a writer to be alone"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("a reader must wait only for a writer (in, or waiting), never for other readers: count the readers inside")
def test_readers_share(impl):
    """Two readers can hold the lock at the same time: a reader never waits for another reader."""
    def scenario():
        lock = impl.RWLock()
        arrived = {"reader-0": threading.Event(), "reader-1": threading.Event()}
        threads = {}
        stuck = []

        def read(me, other):
            threads[me] = threading.current_thread()
            with lock.read_locked():
                arrived[me].set()
                if not arrived[other].wait(PATIENCE) and not stuck:
                    stuck.append((me, other, site(impl, threads.get(other))))

        run_threads(impl, {
            "reader-0": lambda: read("reader-0", "reader-1"),
            "reader-1": lambda: read("reader-1", "reader-0"),
        })
        if stuck:
            me, other, where = stuck[0]
            raise AssertionError(
                f"reader-0 and reader-1 each took read_locked(), with no writer about. {me} got in and waited for "
                f"{other} to join it, but {other} waited at {where} until {me} let go. Expected both to read at the "
                "same time: readers share the lock"
            )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("when release_read() lets the last reader out, wake the writers waiting for that (notify them)")
def test_last_reader_wakes_writer(impl):
    """A writer waiting for readers gets in when the last of them releases its read hold."""
    def scenario():
        lock = impl.RWLock()
        visitors = Visitors(impl, lock)
        visitors.visit("reader-0", "read", stay=2)
        visitors.visit("reader-1", "read", arrive=0.5, stay=2.5)
        visitors.visit("writer-0", "write", arrive=1)
        waiting = visitors.finish()
        left = [f"t={visitors.when(name, 'out'):g}" for name in ["reader-0", "reader-1"]
                if visitors.when(name, "out") is not None]
        assert not waiting, (
            visitors.still_waiting(waiting)
            + (f", although both readers let go (at {' and '.join(left)})" if len(left) == 2 else "")
            + f". Expected the last reader's release_read() to let the waiting writer in.\n{visitors.story()}"
        )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("once a writer waits, let readers that arrive after it wait too (count the waiting writers); otherwise a stream of readers keeps the writer out forever")
def test_waiting_writer_not_starved(impl):
    """Once a writer waits, readers that arrive after it wait until it has written."""
    def scenario():
        lock = impl.RWLock()
        visitors = Visitors(impl, lock)
        visitors.visit("reader-0", "read", stay=3)
        visitors.visit("writer-0", "write", arrive=1, stay=1)
        visitors.visit("reader-1", "read", arrive=2)
        waiting = visitors.finish()
        assert not waiting, (
            f"{visitors.still_waiting(waiting)}; expected every thread to get in.\n{visitors.story()}"
        )
        entries = [name for _, name, what in visitors.log if what == "in"]
        late = [name for name in ["reader-0", "reader-1"]
                if visitors.when(name, "arrives") > visitors.when("writer-0", "arrives")]
        overtook = [name for name in late if entries.index(name) < entries.index("writer-0")]
        assert not overtook, (
            f"{', '.join(overtook)} arrived after writer-0 had started waiting, yet got in before it. Expected "
            "readers that arrive while a writer waits to wait until it has written; otherwise a stream of readers "
            f"keeps the writer out forever.\n{visitors.story()}"
        )
    explore(scenario)


@pytest.mark.points(3)
@pytest.mark.hint("when a writer releases, let in every reader waiting at that moment before the next writer, even writers that were waiting first")
def test_readers_not_starved(impl):
    """When a writer releases, the readers waiting at that moment get in before the next writer."""
    def scenario():
        lock = impl.RWLock()
        visitors = Visitors(impl, lock)
        visitors.visit("writer-0", "write", stay=3)
        visitors.visit("writer-1", "write", arrive=1, stay=1)
        visitors.visit("reader-0", "read", arrive=2)
        waiting = visitors.finish()
        assert not waiting, (
            f"{visitors.still_waiting(waiting)}; expected every thread to get in.\n{visitors.story()}"
        )
        entries = [name for _, name, what in visitors.log if what == "in"]
        assert entries.index("reader-0") < entries.index("writer-1"), (
            "when writer-0 let go at t=3, reader-0 was waiting, yet writer-1 got in before it. Expected the readers "
            "waiting when a writer lets go to get in before the next writer, even one that was waiting first; "
            f"otherwise a stream of writers keeps the readers out forever.\n{visitors.story()}"
        )
    explore(scenario)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_READERS, STRESS_WRITERS, STRESS_ROUNDS, STRESS_TIMEOUT = 4, 2, 300, 20


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """4 real readers and 2 real writers taking the lock 300 times each: a writer is always alone, and every thread finishes."""
    lock = impl.RWLock()
    guard = threading.Lock()   # the check's own bookkeeping; it never waits while holding it
    inside = {"read": 0, "write": 0}
    clashes = []
    errors = {}
    go = threading.Event()     # every thread starts at once, so that they overlap

    def enter(kind):
        with guard:
            inside[kind] += 1
            if inside["write"] > 1 or (inside["write"] and inside["read"]):
                clashes.append(dict(inside))

    def leave(kind):
        with guard:
            inside[kind] -= 1

    def work(name, kind):
        go.wait()
        try:
            for _ in range(STRESS_ROUNDS):
                with lock.read_locked() if kind == "read" else lock.write_locked():
                    enter(kind)
                    time.sleep(0)
                    leave(kind)
        except Exception as exc:
            errors[name] = exc

    threads = [threading.Thread(target=work, args=(f"reader-{i}", "read"), name=f"reader-{i}", daemon=True)
               for i in range(STRESS_READERS)]
    threads += [threading.Thread(target=work, args=(f"writer-{i}", "write"), name=f"writer-{i}", daemon=True)
                for i in range(STRESS_WRITERS)]
    deadline = time.monotonic() + STRESS_TIMEOUT
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    running = [t.name for t in threads if t.is_alive()]
    assert not running, f"threads still running after {STRESS_TIMEOUT} s: {', '.join(running)} (a lost wakeup?)"
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    assert not clashes, (
        f"{STRESS_READERS} readers and {STRESS_WRITERS} writers took the lock {STRESS_ROUNDS} times each; at one "
        f"moment {clashes[0]['write']} writer(s) and {clashes[0]['read']} reader(s) held it together. Expected a "
        "writer to be alone"
    )
