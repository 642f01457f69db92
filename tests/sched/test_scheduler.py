"""The scheduler's own tests: what it must find, what it must never flag, and what it reports."""
import os
import subprocess
import sys
import threading
import time

import pytest

from grader.sched import ScheduleFailure, configure, explore, load_module

HERE = os.path.dirname(__file__)


def counting(s, cls, n=2):
    def scenario():
        c = cls()
        ts = [threading.Thread(target=c.increment, name=f"incrementer-{i}") for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert c.value == n, f"{n} increments, value is {c.value}"
    return scenario


def failure(scenario, **kw) -> ScheduleFailure:
    with pytest.raises(ScheduleFailure) as info:
        explore(scenario, **kw)
    return info.value


def test_lost_update_found(s):
    f = failure(counting(s, s.RacyCounter))
    assert f.kind == "assertion"
    assert "2 increments, value is 1" in str(f)
    assert "(lines of samples.py)" in str(f)
    assert "13 self.value += 1" in str(f)


def test_lost_update_found_in_every_seed_range(s):
    for base in range(0, 2000, 100):
        configure(base_seed=base)
        assert failure(counting(s, s.RacyCounter)).kind == "assertion"


def test_correct_code_never_flagged(s):
    explore(counting(s, s.LockedCounter, n=3), schedules=300)


def test_a_long_interleaving_shows_the_rows_around_its_switches(s):
    def scenario():
        c = s.LoopingRacyCounter()
        ts = [threading.Thread(target=c.add, args=(20,), name=f"adder-{i}") for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert c.value == 40, f"value is {c.value}"
    rows = str(failure(scenario)).splitlines()
    assert any(row.strip().startswith("(... ") for row in rows)     # the long runs of one thread are cut
    assert len(rows) < 40
    header = next(row for row in rows if "adder-0" in row and "adder-1" in row)
    column = {header.index(name): name for name in ("adder-0", "adder-1")}
    owners = [column.get(len(row) - len(row.lstrip())) for row in rows if "self.value +=" in row or "(... " in row]
    # the shrunk failure preempts once: one adder stops inside `+=`, the other runs, the first stores; both
    # switches are shown as adjacent rows, not hidden in a cut
    switches = [(a, b) for a, b in zip(owners, owners[1:]) if a and b and a != b]
    assert switches in ([("adder-0", "adder-1"), ("adder-1", "adder-0")],
                        [("adder-1", "adder-0"), ("adder-0", "adder-1")]), "\n".join(rows)


def test_two_lock_deadlock_reports_its_cycle(s):
    def scenario():
        accounts = s.TwoAccounts()
        a = threading.Thread(target=accounts.transfer, args=(0, 1), name="alice")
        b = threading.Thread(target=accounts.transfer, args=(1, 0), name="bob")
        a.start(); b.start(); a.join(); b.join()
    f = failure(scenario)
    assert f.kind == "deadlock"
    text = str(f)
    assert "alice waits at samples.py:35 `with self.locks[dst]:` for the lock bob took at samples.py:34 `with self.locks[src]:`" in text
    assert "bob waits at samples.py:35 `with self.locks[dst]:` for the lock alice took at samples.py:34 `with self.locks[src]:`" in text


def test_lost_wakeup_reported_as_blocked_forever(s):
    def scenario():
        box = s.Mailbox(lost=True)
        taker = threading.Thread(target=box.take, name="taker")
        taker.start()
        box.put("hello")
        taker.join()
    f = failure(scenario)
    assert f.kind == "lost wakeup"
    assert "taker waits in Condition.wait() at samples.py:57 `if not self._cond.wait(timeout):`" in str(f)


def test_condition_wait_with_timeout_uses_virtual_time(s):
    results = []

    def scenario():
        box = s.Mailbox(lost=True)
        start = time.monotonic()
        results.append((box.take(timeout=30), time.monotonic() - start))
    began = time.perf_counter()
    explore(scenario, schedules=5)
    assert time.perf_counter() - began < 5, "30 s timeouts must cost no real time"
    assert results[-1] == ("timeout", 30.0)


def test_sleep_does_not_fix_a_race(s):
    def scenario():
        flags = []
        late = threading.Thread(target=s.sleepy_flag, args=(flags,), name="sleeper")
        late.start()
        time.sleep(1)      # "surely the other thread is done by now"
        assert flags == [], "the sleeper ran first"
        late.join()
    explore(scenario, schedules=20)   # virtual 1 s < 5 s: the sleeper is never first


def test_a_sleep_in_the_submission_is_a_minimum_delay_not_an_order(s):
    """The clock may run ahead to the next sleeper's wake-up while the first is still in its `+=`."""
    def scenario():
        c = s.NappingCounter()
        ts = [threading.Thread(target=c.increment, args=(pause,), name=f"napper-{i}")
              for i, pause in enumerate((0.0003, 0.0007))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert c.value == 2, f"2 increments, value is {c.value}"
    f = failure(scenario)
    assert f.kind == "assertion"
    assert "wakes up" in str(f)


def test_a_timed_wait_still_ends_exactly_at_its_deadline(s):
    """Running the clock ahead never skips a deadline: a timeout that nothing ends takes exactly its time, from
    when the wait began (the clock may have run ahead to the napper's wake-up, at 0.5 s, before that)."""
    ended = []

    def scenario():
        box = s.Mailbox(lost=True)
        napper = threading.Thread(target=s.NappingCounter().increment, args=(0.5,), name="napper")
        napper.start()
        start = time.monotonic()
        ended.append((box.take(timeout=2), time.monotonic() - start))
        napper.join()
    explore(scenario, schedules=50)
    assert set(ended) == {("timeout", 2.0), ("timeout", 2.5)}


def test_reentrant_and_nested_locks(s):
    def scenario():
        r = s.Reentrant()
        ts = [threading.Thread(target=r.outer, name=f"t{i}") for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert sorted(r.log) == ["t0", "t1"]
    explore(scenario, schedules=100)


def test_a_plain_lock_taken_again_by_its_holder_is_a_deadlock_not_a_lost_wakeup(s):
    def scenario():
        t = threading.Thread(target=s.NotReentrant().outer, name="t0")
        t.start()
        t.join()
    f = failure(scenario)
    assert f.kind == "deadlock"
    assert ("t0 waits at samples.py:143 `with self._lock:` for a lock it already holds "
            "(took it at samples.py:139 `with self._lock:`)") in str(f)
    assert "waits for a lock it holds" in str(f)   # the interleaving's last row for t0


def test_threads_that_start_threads(s):
    def scenario():
        c = s.LockedCounter()
        s.spawn_tree(c, 2)
        assert c.value == 7
    explore(scenario, schedules=50)


def test_thread_pool_race_found_and_locked_pool_passes(s):
    def pool(cls):
        def scenario():
            c = cls()
            s.pool_sum(c, 3)
            assert c.value == 3, f"3 jobs, value is {c.value}"
        return scenario
    explore(pool(s.LockedCounter), schedules=50)
    assert failure(pool(s.RacyCounter)).kind == "assertion"


def test_daemon_threads_are_abandoned_not_waited_for(s):
    def scenario():
        flags = []
        d = threading.Thread(target=s.spin_until, args=(flags,), name="spinner", daemon=True)
        d.start()
    explore(scenario, schedules=20)


def test_exception_inside_a_thread_fails_the_check(s):
    def scenario():
        t = threading.Thread(target=s.crash, name="worker-1")
        t.start()
        t.join()
    f = failure(scenario)
    assert f.kind == "exception"
    assert str(f).startswith("KeyError: 'missing'\n  raised in worker-1 at samples.py:96 `return {}[\"missing\"]`")


def test_uncontrolled_thread_reported(s):
    def scenario():
        c = s.RacyCounter()
        s.start_raw_thread(c)
        time.sleep(0.01)
    f = failure(scenario)
    assert f.kind == "uncontrolled thread"


def test_busy_wait_hits_the_step_limit(s):
    def scenario():
        s.spin_until([])
    f = failure(scenario, max_steps=500)
    assert f.kind == "step limit"


def test_replay_seed_gives_the_same_report(s):
    first = failure(counting(s, s.RacyCounter))
    configure(seed=first.seed)
    again = failure(counting(s, s.RacyCounter))
    assert str(again) == str(first)


REPLAY_SCRIPT = """
import os, sys, threading
from grader.sched import configure, explore, load_module, ScheduleFailure
s = load_module(sys.argv[1], "samples")
configure(seed=int(sys.argv[2]) if len(sys.argv) > 2 else None)
def scenario():
    c = s.RacyCounter()
    ts = [threading.Thread(target=c.increment, name=f"incrementer-{i}") for i in range(3)]
    for t in ts: t.start()
    for t in ts: t.join()
    assert c.value == 3, f"3 increments, value is {c.value}"
try:
    explore(scenario)
except ScheduleFailure as f:
    print(f.seed); print(f)
"""


def _pythons():
    found = [sys.executable]
    root = os.path.expanduser("~/.pyenv/versions")
    for v in ("3.12", "3.13"):
        if os.path.isdir(root):
            found += [os.path.join(root, d, "bin", "python") for d in sorted(os.listdir(root)) if d.startswith(v + ".")][:1]
    return found


@pytest.mark.parametrize("python", _pythons())
def test_replay_is_byte_identical_in_a_fresh_process(python, tmp_path):
    script = tmp_path / "replay.py"
    script.write_text(REPLAY_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(HERE)), PYTHONHASHSEED="0")
    sample = os.path.join(HERE, "samples.py")
    found = subprocess.run([python, str(script), sample], capture_output=True, text=True, env=env, timeout=120)
    assert found.returncode == 0, found.stderr
    seed, report = found.stdout.split("\n", 1)
    replays = [subprocess.run([python, str(script), sample, seed], capture_output=True, text=True, env=env,
                              timeout=120).stdout for _ in range(2)]
    assert replays == [found.stdout, found.stdout]


def test_failure_shown_at_the_smallest_failing_size(s):
    def scenario(n):
        c = s.RacyCounter()
        ts = [threading.Thread(target=c.increment, name=f"incrementer-{i}") for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert c.value == n, f"{n} increments, value is {c.value}"
    f = failure(scenario, sizes=(4, 2, 3))
    assert str(f).startswith("2 increments, value is 1\n"), str(f)
    assert "shown at size 2" in str(f)
    configure(seed=f.seed)
    assert str(failure(scenario, sizes=(2, 3, 4))) == str(f)


def test_atomic_reference_cas_points_expose_a_read_then_set_race():
    from grader.sched import AtomicReference

    def scenario():
        ref = AtomicReference(0)

        def bump_without_cas():
            value = ref.get()
            ref.set(value + 1)
        ts = [threading.Thread(target=bump_without_cas, name=f"t{i}") for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert ref.get() == 2, f"value {ref.get()}"
    assert failure(scenario).kind == "assertion"


def test_stress_mode_runs_real_threads_for_a_budget(s):
    from grader.sched import configure_stress
    configure_stress(0.3, hang_after=0.3)
    try:
        explore(counting(s, s.LockedCounter))          # passes: a correct body on real threads

        def hangs():
            threading.Event().wait()
        f = failure(hangs)
        assert f.kind == "hang"
    finally:
        configure_stress(None)


def test_a_submission_that_rebinds_its_file_is_still_scheduled(tmp_path):
    """3.11's call hook picks the submission's frames by their module namespace, not by __file__."""
    path = tmp_path / "rebinds.py"
    path.write_text(
        "__file__ = '/elsewhere.py'\n\n\n"
        "class RacyCounter:\n"
        "    def __init__(self):\n"
        "        self.value = 0\n\n"
        "    def increment(self):\n"
        "        self.value += 1\n"
    )
    module = load_module(path, "rebinds")
    assert failure(counting(module, module.RacyCounter)).kind == "assertion"


def test_a_submission_loaded_again_is_instrumented_again():
    """Each check loads the submission fresh; equal code objects must not share instrumentation."""
    for _ in range(3):
        fresh = load_module(os.path.join(HERE, "samples.py"), "samples")
        assert failure(counting(fresh, fresh.RacyCounter)).kind == "assertion"


def _taken(semaphore):
    semaphore.acquire()
    return semaphore


@pytest.mark.parametrize("make_wait", [
    lambda: threading.Barrier(2).wait,
    lambda: threading.Event().wait,
    lambda: threading.Semaphore(0).acquire,
    lambda: _taken(threading.BoundedSemaphore(1)).acquire,
    lambda: __import__("queue").Queue().get,
    lambda: __import__("queue").LifoQueue().get,
    lambda: __import__("queue").PriorityQueue().get,
    lambda: __import__("queue").SimpleQueue().get,
], ids=["Barrier", "Event", "Semaphore", "BoundedSemaphore", "Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"])
def test_stdlib_waits_are_known_to_the_scheduler(make_wait):
    """A wait that nothing will end is reported, never a hang; with a timeout it ends in virtual time."""
    def forever():
        wait = make_wait()
        t = threading.Thread(target=wait, name="waiter")
        t.start()
        t.join()
    assert failure(forever).kind in ("lost wakeup", "blocked forever")

    ended = []

    def with_timeout():
        wait = make_wait()
        start = time.monotonic()
        try:
            wait(timeout=120)
        except Exception:
            pass
        ended.append(time.monotonic() - start)
    explore(with_timeout, schedules=3)
    assert ended[-1] == 120
