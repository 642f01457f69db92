"""A deterministic scheduler for checks: every race and deadlock found every time, replayable by seed.

A check hands `explore` a scenario: a function that starts threads through the ordinary
`threading` API and asserts on the outcome. `explore` runs it hundreds of times, one thread at a
time, switching threads at bytecode instructions of the submission's code and at every lock,
condition, semaphore, event, queue, join and sleep, as a seeded strategy decides. Time is virtual:
`sleep` and timeouts cost nothing, and the clocks start at plausible readings drawn from the seed. A
sleep in the submission fixes nothing: the clock may run ahead to it while other threads still run. The first failing schedule is shrunk to few
preemptions and reported in the student's terms, with the replay seed::

    import threading
    from grader.sched import explore

    def test_no_lost_update(impl):
        \"\"\"Increments from concurrent threads are never lost.\"\"\"
        def scenario():
            counter = impl.Counter()
            threads = [threading.Thread(target=counter.increment, name=f"incrementer-{i}")
                       for i in range(2)]
            for t in threads: t.start()
            for t in threads: t.join()
            assert counter.value == 2, f"2 increments, but value is {counter.value}"
        explore(scenario)

Keep scenarios small (2-3 threads, a few operations each): the scheduler explores the
interleavings that a stress test would need luck to hit; with many threads its portfolio turns to
strategies whose power does not fall with their number. Threads left blocked when the others are
done are reported as a deadlock (with the wait-for cycle) or a lost wakeup; an exception in any
thread fails the check; more than `max_steps` steps is reported as a busy wait or livelock. The
same scenario can run once on real threads by calling it directly. For asyncio, see
`explore_async`.

The grader's plugin loads the submission with `load_module` (which marks its file for
instruction-level points) and sets replay options with `configure`.

Layers, each importing only those before it: `state` (the stdlib's originals, the submission's
registry, the active run, the settings), `places` (places in the student's file), `strategies`,
`runtime` (one run: threads, baton, clock), `explain` (deadlock text, interleavings), `instrument`
(instruction-level points), `primitives` (the patched stdlib), `report` (failures and replay lines),
`stress` (real threads), then `explore` and `aio`.
"""
import importlib.util
import os
import sys

from grader.sched import state
from grader.sched.aio import explore_async, run_seed
from grader.sched.explore import explore
from grader.sched.primitives import AtomicReference, install, loading_submission
from grader.sched.report import ScheduleFailure
from grader.sched.state import HANG_AFTER, tracked_files, tracked_globals

__all__ = ["AtomicReference", "explore", "explore_async", "ScheduleFailure", "configure", "configure_stress", "load_module",
           "seeds", "run_seed", "loading_submission", "tracked_files", "tracked_globals"]


def configure(seed: int | None = None, base_seed: int = 0, replay: str | None = None) -> None:
    """seed: replay exactly that schedule; base_seed: first seed tried; replay: command shown, with {seed}."""
    state.update_settings(seed=seed, base_seed=base_seed)
    if replay is not None:
        state.update_settings(replay=replay)


def seeds(count: int):
    """The seeds a check that draws its own random plan (not threads: a simulated network, say) should try:
    the replayed seed alone under `--seed`, else `count` seeds from the grading's base seed. A failure that
    names its seed in the message replays with `grader test <slug> --seed S`."""
    settings = state.settings
    if settings.seed is not None:
        return [settings.seed]
    return range(settings.base_seed, settings.base_seed + count)


def configure_stress(seconds: float | None, switch_interval: float | None = None,
                     hang_after: float = HANG_AFTER) -> None:
    """For benchmarks: instead of exploring, run each scenario on real threads (an async one with plain
    asyncio.run) again and again for `seconds` (the baseline a user would write), optionally with
    sys.setswitchinterval(switch_interval); a run still going after `hang_after` seconds counts as a
    hang. None restores exploring."""
    state.update_settings(stress_seconds=seconds, switch_interval=switch_interval, hang_after=hang_after)


def load_module(path, name: str):
    """Load a submission fresh from `path` as module `name`, under the scheduler's control."""
    install()
    tracked_files.update((str(path), os.path.abspath(path)))   # its code gets instruction-level scheduling points
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    tracked_globals.add(state.identity(module.__dict__))
    sys.modules[name] = module
    with loading_submission():
        spec.loader.exec_module(module)
    return module
