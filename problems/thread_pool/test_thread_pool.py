"""Checks for thread_pool. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import ast
import collections
import linecache
import os
import threading
import time
from concurrent.futures import Future

import pytest

from grader.checking import Crew, attempt, describe_error, raised, said
from grader.sched import explore

WAIT = 10.0  # seconds of virtual time a check waits for a task before it calls the task stuck (costs nothing)


def settle():
    """Let every other thread run until it finishes or blocks: virtual time moves on only when no thread can run."""
    time.sleep(1.0)


def pool_threads(before):
    """The threads started since `before` (a set of threads) that are still alive: the pool's, in these checks."""
    return [t for t in threading.enumerate() if t not in before and t.is_alive()]


def result_of(impl, future, what):
    """future.result(timeout=WAIT), or a failure that says the task never finished."""
    __tracebackhide__ = True
    outcome = attempt(lambda: future.result(timeout=WAIT))
    if raised(outcome, TimeoutError):
        raise AssertionError(f"{what} never finished: its future had no result after {WAIT:g} s")
    return outcome


# Reading the file: the one thing this problem is about writing.

BANNED_NAMES = {"Executor", "ThreadPoolExecutor", "ProcessPoolExecutor", "InterpreterPoolExecutor"}
BANNED_MODULES = ("multiprocessing", "concurrent.futures.thread", "concurrent.futures.process")


def ready_made_pools(path):
    """(line number, text) of every use of a ready-made pool or executor in the file at path."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(alias.name.startswith(BANNED_MODULES) for alias in node.names):
                found.append(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.startswith(BANNED_MODULES) or any(
                    alias.name in BANNED_NAMES or f"{module}.{alias.name}".startswith(BANNED_MODULES)
                    for alias in node.names):
                found.append(node.lineno)
        elif isinstance(node, ast.Attribute) and (node.attr in BANNED_NAMES or node.attr == "multiprocessing"):
            found.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id in BANNED_NAMES:
            found.append(node.lineno)
    return [(line, linecache.getline(path, line).strip()) for line in sorted(set(found))]


@pytest.mark.points(1)
@pytest.mark.hint("start your own worker threads with threading.Thread and hand them tasks through a queue; Future is the only thing to take from concurrent.futures")
def test_builds_its_own_pool(impl):
    """thread_pool.py builds its own pool, without a concurrent.futures executor or multiprocessing, and runs a task on it."""
    uses = ready_made_pools(impl.__file__)
    name = os.path.basename(impl.__file__)
    assert not uses, (
        "\n".join(f"{name}:{line} `{text}` uses a ready-made pool" for line, text in uses)
        + "\nthis problem is writing the pool yourself: concurrent.futures executors and multiprocessing are not "
        "allowed (Future is fine)"
    )

    def scenario():
        pool = impl.ThreadPool(1)
        future = pool.submit(abs, -42)
        outcome = result_of(impl, future, "submit(abs, -42)")
        pool.shutdown()
        assert outcome == ("returned", 42), (
            f"on a ThreadPool(1), submit(abs, -42).result() {said(impl, outcome)}; expected 42"
        )
    explore(scenario, schedules=5)


# Interleaving checks: the scheduler runs each scenario under many interleavings, on virtual time.


@pytest.mark.points(1)
@pytest.mark.hint("keep `fn` positional-only, as in `def submit(self, fn, /, *args, **kwargs)`, and pass args and kwargs on unchanged")
def test_submit_returns_a_future(impl):
    """submit(fn, *args, **kwargs) returns a Future that gets fn(*args, **kwargs)'s result; ThreadPool(0) raises ValueError."""
    def scenario():
        outcome = attempt(lambda: impl.ThreadPool(0))
        assert raised(outcome, ValueError), (
            "ThreadPool(0) " + ("was accepted" if outcome[0] == "returned" else said(impl, outcome))
            + "; expected ValueError: a pool needs at least 1 worker"
        )
        pool = impl.ThreadPool(2)
        future = pool.submit(pow, 2, 10)
        assert isinstance(future, Future), (
            f"submit(pow, 2, 10) returned {future!r}; expected a concurrent.futures.Future"
        )
        outcome = result_of(impl, future, "submit(pow, 2, 10)")
        assert outcome == ("returned", 1024), f"submit(pow, 2, 10).result() {said(impl, outcome)}; expected 1024"
        outcome = attempt(lambda: pool.submit(dict, fn="f", args=(1,)))
        assert outcome[0] == "returned", (
            f"submit(dict, fn='f', args=(1,)) {said(impl, outcome)}; expected a future for dict(fn='f', args=(1,)): "
            "keyword arguments, even one named fn, go to the task"
        )
        outcome = result_of(impl, outcome[1], "submit(dict, fn='f', args=(1,))")
        assert outcome == ("returned", {"fn": "f", "args": (1,)}), (
            f"submit(dict, fn='f', args=(1,)).result() {said(impl, outcome)}; expected {{'fn': 'f', 'args': (1,)}}"
        )
        pool.shutdown()
    explore(scenario, schedules=20)


@pytest.mark.points(1)
@pytest.mark.hint("collect the futures in the order you submitted them, and read their results in that order")
def test_map_returns_results_in_input_order(impl):
    """map(fn, iterable) returns fn(item) for every item, in the order of iterable, whatever order the tasks finish in."""
    def scenario():
        pool = impl.ThreadPool(3)

        def slow_square(x):
            time.sleep(x)  # virtual time: the task for 3 finishes last
            return x * x

        outcome = attempt(lambda: pool.map(slow_square, iter([3, 1, 2])))
        assert outcome == ("returned", [9, 1, 4]), (
            f"on a ThreadPool(3), map(slow_square, [3, 1, 2]) (the task for 3 takes longest) {said(impl, outcome)}; "
            "expected [9, 1, 4]: the results in the order of the items"
        )
        outcome = attempt(lambda: pool.map(slow_square, []))
        assert outcome == ("returned", []), f"map(slow_square, []) {said(impl, outcome)}; expected []"
        pool.shutdown()
    explore(scenario, schedules=20)


@pytest.mark.points(2)
@pytest.mark.hint("catch the task's exception around the call to fn, put it on the future with set_exception(), and let the worker go on to its next task")
def test_exception_lands_on_its_future(impl):
    """A task's exception goes to its future (and out of map()), and the worker that ran it goes on to run the next task."""
    def scenario():
        pool = impl.ThreadPool(1)
        error = ValueError("task failed on purpose")

        def fail():
            raise error

        failing = pool.submit(fail)
        after = pool.submit(abs, -5)
        outcome = result_of(impl, failing, "the failing task")
        assert outcome == ("raised", error), (
            f"a task raised ValueError('task failed on purpose'); its future.result() {said(impl, outcome)}; "
            "expected it to raise that ValueError"
        )
        outcome = attempt(lambda: after.result(timeout=WAIT))
        assert outcome == ("returned", 5), (
            "on a ThreadPool(1), a task raised ValueError, and the task submitted after it, abs(-5), "
            + (f"never ran (no result after {WAIT:g} s): did the only worker end?" if raised(outcome, TimeoutError)
               else f"{said(impl, outcome)}; expected 5")
        )

        def fail_on_2(x):
            if x == 2:
                raise error
            return x

        outcome = attempt(lambda: pool.map(fail_on_2, [1, 2, 3]))
        assert outcome == ("raised", error), (
            f"map(f, [1, 2, 3]) where f(2) raises ValueError('task failed on purpose') {said(impl, outcome)}; "
            "expected that ValueError"
        )
        outcome = result_of(impl, pool.submit(abs, -6), "abs(-6), submitted after map()")
        assert outcome == ("returned", 6), f"after that, submit(abs, -6).result() {said(impl, outcome)}; expected 6"
        pool.shutdown()
    explore(scenario, schedules=20)


@pytest.mark.points(3)
@pytest.mark.hint("start `workers` threads once and have them take tasks from a shared queue; never a thread per task")
def test_never_more_than_workers_at_once(impl):
    """No more than workers tasks ever run at the same time."""
    def scenario():
        pool = impl.ThreadPool(2)
        running, peak = [0], [0]

        def task(n):
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            time.sleep(1)  # virtual time: a task takes a while, and the others get every chance to start
            running[0] -= 1
            return n

        futures = [pool.submit(task, n) for n in range(3)]
        outcomes = [result_of(impl, f, f"task({n})") for n, f in enumerate(futures)]
        pool.shutdown()
        assert peak[0] <= 2, (
            f"on a ThreadPool(2), 3 tasks were submitted, and {peak[0]} of them ran at the same time; "
            "expected at most 2"
        )
        assert outcomes == [("returned", n) for n in range(3)], (
            f"task(0), task(1), task(2) gave {', '.join(said(impl, o) for o in outcomes)}; expected 0, 1, 2"
        )
    explore(scenario, schedules=50)


@pytest.mark.points(2)
@pytest.mark.hint("start all `workers` threads: with only one, a task that waits for another task waits forever")
def test_runs_up_to_workers_tasks_at_once(impl):
    """Up to workers tasks run at the same time: on a pool of 2, two tasks that wait for each other both finish."""
    def scenario():
        pool = impl.ThreadPool(2)
        meet = threading.Barrier(2)

        def task(name):
            meet.wait(timeout=WAIT)  # returns once both tasks run at the same time
            return name

        futures = [pool.submit(task, name) for name in ["task-a", "task-b"]]
        outcomes = [attempt(lambda f=f: f.result(timeout=2 * WAIT)) for f in futures]
        pool.shutdown()
        if all(raised(o, threading.BrokenBarrierError) for o in outcomes):
            raise AssertionError(
                f"on a ThreadPool(2), two tasks each waited for the other to be running too, and they never ran at "
                f"the same time: each gave up after {WAIT:g} s; expected 2 workers to run them side by side"
            )
        assert outcomes == [("returned", "task-a"), ("returned", "task-b")], (
            "on a ThreadPool(2), two tasks that wait for each other gave "
            f"{', '.join(said(impl, o) for o in outcomes)}; "
            "expected 'task-a' and 'task-b'"
        )
    explore(scenario, schedules=50)


@pytest.mark.points(3)
@pytest.mark.hint("take a task from the queue in the same critical section where you checked that there is one")
def test_every_task_runs_once(impl):
    """With tasks submitted from several threads, each accepted task runs exactly once and its future gets its result."""
    def scenario():
        pool = impl.ThreadPool(2)
        ran = collections.Counter()
        futures = {}

        def task(name):
            ran[name] += 1
            return name

        def submit(prefix):
            for n in range(2):
                name = f"{prefix}-task-{n}"
                futures[name] = pool.submit(task, name)

        crew = Crew(impl, {"submitter": lambda: submit("submitter")})
        submit("main")
        crew.join().check()
        outcomes = {name: result_of(impl, f, name) for name, f in futures.items()}
        pool.shutdown()
        wrong = {name: n for name, n in ran.items() if n != 1}
        never = [name for name in futures if ran[name] == 0]
        assert not wrong and not never, (
            "on a ThreadPool(2), main and submitter each submitted 2 tasks; "
            + "; ".join([f"{name} ran {n} times" for name, n in wrong.items()]
                        + [f"{name} never ran" for name in never])
            + "; expected each to run exactly once"
        )
        bad = {name: o for name, o in outcomes.items() if o != ("returned", name)}
        assert not bad, "; ".join(f"the future of {name} {said(impl, o)}; expected {name!r}" for name, o in bad.items())
    explore(scenario, schedules=100)


@pytest.mark.points(1)
@pytest.mark.hint("shutdown() must mark the pool shut down for good, and submit() must check that mark; __exit__ must call shutdown()")
def test_submit_after_shutdown_raises(impl):
    """After shutdown(), or after a with block, submit() raises RuntimeError; shutting down twice is harmless."""
    def scenario():
        pool = impl.ThreadPool(2)
        outcome = result_of(impl, pool.submit(abs, -1), "submit(abs, -1)")
        assert outcome == ("returned", 1), f"submit(abs, -1).result() {said(impl, outcome)}; expected 1"
        pool.shutdown()
        outcome = attempt(lambda: pool.submit(abs, -2))
        assert raised(outcome, RuntimeError), (
            "after shutdown(), submit(abs, -2) " + ("was accepted" if outcome[0] == "returned" else said(impl, outcome))
            + "; expected RuntimeError"
        )
        outcome = attempt(pool.shutdown)
        assert outcome[0] == "returned", f"a second shutdown() {said(impl, outcome)}; expected it to do nothing"

        with impl.ThreadPool(1) as entered:
            outcome = result_of(impl, entered.submit(abs, -3), "submit(abs, -3) in the with block")
        assert outcome == ("returned", 3), (
            f"in `with ThreadPool(1) as pool:`, pool.submit(abs, -3).result() {said(impl, outcome)}; expected 3"
        )
        outcome = attempt(lambda: entered.submit(abs, -4))
        assert raised(outcome, RuntimeError), (
            "after `with ThreadPool(1) as pool:` ended, pool.submit(abs, -4) "
            + ("was accepted" if outcome[0] == "returned" else said(impl, outcome))
            + "; expected RuntimeError: leaving the with block shuts the pool down"
        )
    explore(scenario, schedules=20)


@pytest.mark.points(3)
@pytest.mark.hint("check for shutdown and add the task under the same lock that shutdown() takes to set its flag")
def test_no_task_lost_to_shutdown(impl):
    """A submit() racing shutdown() either raises RuntimeError or accepts a task that runs."""
    def scenario():
        pool = impl.ThreadPool(1)
        ran = []
        crew = Crew(impl, {"closer": lambda: pool.shutdown(wait=True)})
        submitted = {"outcome": attempt(lambda: pool.submit(ran.append, "task"))}
        crew.join().check()
        outcome = submitted["outcome"]
        if raised(outcome, RuntimeError):
            return
        assert outcome[0] == "returned", f"submit() {said(impl, outcome)}; expected a future, or RuntimeError"
        done = attempt(lambda: outcome[1].result(timeout=WAIT))
        assert done[0] == "returned" and ran == ["task"], (
            "main called submit() while closer called shutdown(wait=True); submit() accepted the task (it "
            "returned a future, not RuntimeError), but the task "
            + (f"never ran (no result after {WAIT:g} s)" if not ran
               else f"ran {len(ran)} times, and its future {said(impl, done)}")
            + "; expected an accepted task to run"
        )
    explore(scenario)


@pytest.mark.points(2)
@pytest.mark.hint("shutdown() must wake the idle workers (notify_all) so they see the pool shut down and end, and with wait=True join every one of them")
def test_shutdown_waits_and_leaves_no_thread_behind(impl):
    """shutdown(wait=True) returns once every accepted task has finished and every worker thread has ended."""
    def scenario():
        before = set(threading.enumerate())
        pool = impl.ThreadPool(2)
        futures = [pool.submit(time.sleep, 1), pool.submit(abs, -1)]
        pool.shutdown(wait=True)  # if it never returns, the scheduler reports who waits for what
        left = [t.name for t in pool_threads(before)]
        unfinished = [n for n, f in enumerate(futures) if not f.done()]
        assert not unfinished, (
            f"shutdown(wait=True) returned before the task(s) {unfinished} had finished; expected it to wait for them"
        )
        assert not left, (
            f"shutdown(wait=True) returned, but these threads of the pool were still alive: {', '.join(left)}; "
            "expected every worker to have ended (join them)"
        )
    explore(scenario, schedules=100)


@pytest.mark.points(2)
@pytest.mark.hint("with wait=False, shutdown() only marks the pool and wakes the idle workers; each worker ends once it finds no task left")
def test_shutdown_without_wait_returns_at_once(impl):
    """shutdown(wait=False) returns at once while a task runs; the queued tasks still run, and then every worker ends."""
    def scenario():
        before = set(threading.enumerate())
        busy = impl.ThreadPool(1)
        go = threading.Event()
        running = busy.submit(go.wait, WAIT)  # runs until main sets go (or gives up after WAIT)
        queued = busy.submit(abs, -2)
        start = time.monotonic()
        busy.shutdown(wait=False)
        took = time.monotonic() - start
        go.set()
        assert took == 0, (
            f"on a ThreadPool(1) running a task that waits for the caller, shutdown(wait=False) returned only after "
            f"{took:g} s; expected it to return at once"
        )
        outcome = result_of(impl, queued, "abs(-2), queued before shutdown(wait=False)")
        assert outcome == ("returned", 2), (
            f"a task queued before shutdown(wait=False) {said(impl, outcome)}; expected it to run and return 2"
        )
        result_of(impl, running, "the running task")

        idle = impl.ThreadPool(2)
        result_of(impl, idle.submit(abs, -3), "abs(-3)")
        settle()  # the workers are idle now, waiting for tasks
        idle.shutdown(wait=False)
        settle()
        left = pool_threads(before)
        assert not left, (
            f"after shutdown(wait=False), with no task left, these threads of the pool were still alive: "
            f"{', '.join(t.name for t in left)}; expected every worker to end on its own"
        )
    explore(scenario, schedules=20)


@pytest.mark.points(2)
@pytest.mark.hint("shutdown(cancel_pending=True) must cancel() the futures still queued; a worker must skip a task whose set_running_or_notify_cancel() returns False")
def test_cancel_pending_cancels_queued_tasks(impl):
    """A task whose future was cancelled before it started, or that shutdown(cancel_pending=True) cancelled, never runs."""
    def scenario():
        ran = []

        def busy_pool():
            """A ThreadPool(1) whose only worker runs a task until main sets the event it returns."""
            pool = impl.ThreadPool(1)
            started, go = threading.Event(), threading.Event()

            def first():
                started.set()
                go.wait(WAIT)
                return "first"

            running = pool.submit(first)
            started.wait(WAIT)
            return pool, running, go

        pool, running, go = busy_pool()
        cancelled = pool.submit(ran.append, "cancelled")
        after = pool.submit(ran.append, "after")
        assert cancelled.cancel(), (
            "on a ThreadPool(1) busy with a task, cancel() on a queued task's future returned False"
        )
        go.set()
        result_of(impl, running, "the running task")
        result_of(impl, after, "the task queued after the cancelled one")
        pool.shutdown()
        assert "cancelled" not in ran, (
            "on a ThreadPool(1) busy with a task, a queued task's future was cancelled, and the task ran anyway; "
            "expected a task cancelled before it started never to run"
        )

        pool, running, go = busy_pool()
        queued = pool.submit(ran.append, "queued")
        pool.shutdown(wait=False, cancel_pending=True)
        was_cancelled = queued.cancelled()
        go.set()
        assert was_cancelled, (
            "on a ThreadPool(1) busy with a task, with another task queued, shutdown(cancel_pending=True) returned "
            "and the queued task's future was not cancelled; expected future.cancelled() to be True"
        )
        outcome = result_of(impl, running, "the running task")
        assert outcome == ("returned", "first"), (
            f"the task that was running during shutdown(cancel_pending=True) {said(impl, outcome)}; expected 'first': "
            "a running task finishes"
        )
        settle()
        assert "queued" not in ran, (
            "a task queued when shutdown(cancel_pending=True) was called ran anyway; expected it never to run"
        )
    explore(scenario, schedules=20)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_WORKERS, STRESS_SUBMITTERS, STRESS_TASKS, STRESS_TIMEOUT = 4, 3, 100, 10


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """3 real threads submitting 100 tasks each to a ThreadPool(4), 1 in 7 failing: every future right, at most 4 at once, no thread left."""
    before = set(threading.enumerate())
    pool = impl.ThreadPool(STRESS_WORKERS)
    guard = threading.Lock()
    running, peak = [0], [0]
    futures = {}
    errors = {}

    def task(s, n):
        with guard:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            if n % 7 == 3:
                raise ValueError(f"task {s}-{n} failed on purpose")
            return s, n
        finally:
            with guard:
                running[0] -= 1

    def submit(s):
        try:
            for n in range(STRESS_TASKS):
                futures[s, n] = pool.submit(task, s, n)
        except Exception as exc:
            errors[f"submitter-{s}"] = exc

    def shutdown():
        try:
            pool.shutdown(wait=True)
        except Exception as exc:
            errors["closer"] = exc

    deadline = time.monotonic() + STRESS_TIMEOUT
    submitters = [threading.Thread(target=submit, args=(s,), name=f"submitter-{s}", daemon=True)
                  for s in range(STRESS_SUBMITTERS)]
    for t in submitters:
        t.start()
    for t in submitters:
        t.join(max(0.0, deadline - time.monotonic()))
    closer = threading.Thread(target=shutdown, name="closer", daemon=True)
    closer.start()
    closer.join(max(0.0, deadline - time.monotonic()))
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    assert not closer.is_alive(), f"shutdown(wait=True) had not returned after {STRESS_TIMEOUT} s"
    total = STRESS_SUBMITTERS * STRESS_TASKS
    unfinished = [key for key, f in futures.items() if not f.done()]
    assert len(futures) == total and not unfinished, (
        f"{total} tasks were submitted and shutdown(wait=True) returned, but {len(unfinished)} of their futures "
        f"had no result, e.g. task {unfinished[0] if unfinished else None}"
    )
    for (s, n), f in futures.items():
        if n % 7 == 3:
            assert isinstance(f.exception(), ValueError), (
                f"task {s}-{n} raised ValueError, but its future.exception() is {f.exception()!r}"
            )
        else:
            assert f.exception() is None and f.result() == (s, n), (
                f"task {s}-{n} returned {(s, n)}, but its future gave {said(impl, attempt(f.result))}"
            )
    assert peak[0] <= STRESS_WORKERS, (
        f"on a ThreadPool({STRESS_WORKERS}), {peak[0]} tasks ran at the same time; expected at most {STRESS_WORKERS}"
    )
    left = [t.name for t in pool_threads(before) if t.name != "closer" and t not in submitters]
    assert not left, f"after shutdown(wait=True) returned, these threads were still alive: {', '.join(left)}"
