"""Run a scenario under many seeded schedules; shrink and report the first one that fails."""
from __future__ import annotations

import _thread
import functools
import platform
import sys

from grader.sched import instrument, primitives, runtime, strategies, trace
from grader.sched.runtime import Abort, Failure, Run

DEFAULT_SCHEDULES = 200
DEFAULT_MAX_STEPS = 20_000
SIZE_BUDGET = 50           # seeds tried at each smaller size after a failure
SHRINK_BUDGET = 160         # replays spent on removing preemptions from a failing schedule
BOUND_TRIES = 25            # seeded tries per preemption bound while shrinking
STOP_GRACE = 5.0            # real seconds an aborted thread gets to unwind
HANG_AFTER = 2.0            # real seconds a stress run may take before it counts as hung (benchmarks set it)

config = {"seed": None, "base_seed": 0, "replay": "explore(..., seed={seed})",
          "stress_seconds": None, "switch_interval": None, "hang_after": HANG_AFTER}


stress_stats = {"longest": 0.0}   # real seconds of the longest stress run so far (benchmarks reset it)


class ScheduleFailure(AssertionError):
    """A schedule under which the scenario failed; str() is the student-facing report."""

    def __init__(self, report: str, *, seed: int | None, kind: str, strategy: str = "",
                 schedules: int = 0, preemptions: int = 0):
        super().__init__(report)
        self.seed = seed
        self.kind = kind
        self.strategy = strategy
        self.schedules = schedules
        self.preemptions = preemptions


def explore(scenario, *, schedules: int | None = None, max_steps: int | None = None, sizes=None) -> None:
    """Run scenario() under `schedules` seeded interleavings; raise ScheduleFailure on the first failure.

    With `sizes` (e.g. `(1, 2, 4)`), scenario takes a size and is explored at the largest; a failure
    is then retried at smaller sizes, and the smallest that still fails is the one reported. With a
    replay seed configured, only that schedule runs. Each schedule is fully determined by its seed.
    """
    __tracebackhide__ = True
    primitives.install()
    max_steps = max_steps or DEFAULT_MAX_STEPS
    sizes = sorted(sizes) if sizes else [None]
    bodies = [scenario if n is None else functools.partial(scenario, n) for n in sizes]
    if config["stress_seconds"] is not None:
        return stress(bodies[-1], config["stress_seconds"], config["switch_interval"], config["hang_after"])
    base = config["base_seed"]
    probe = run_once(bodies[-1], strategies.Replay([]), max_steps)
    if probe.failure:
        raise _failure(probe, base, "no thread switch needed", 1)
    k = len(probe.decisions) + 1
    if config["seed"] is not None:
        seeds = [config["seed"]]
    else:
        seeds = range(base, base + (schedules or DEFAULT_SCHEDULES))
    for count, seed in enumerate(seeds, start=1):
        strategy = strategies.for_seed(seed, k)
        run = run_once(bodies[-1], strategy, max_steps)
        if run.failure:
            body, run, shown = _smallest(bodies, run, seed, k, max_steps)
            raise _failure(shrink(body, run, max_steps), seed, shown, count)


def stress(scenario, seconds: float, switch_interval: float | None = None, hang_after: float = HANG_AFTER) -> int:
    """The baseline a user would write without the scheduler: run scenario() on real threads, again
    and again, for `seconds` of wall time, each run seeing the clock start at 0 as under the
    scheduler. Returns the number of runs; raises ScheduleFailure on the first failure. A run still
    going `hang_after` seconds after it started counts as a hang (one started near the end of the
    budget may finish past it).
    """
    old_interval = sys.getswitchinterval()
    if switch_interval:
        sys.setswitchinterval(switch_interval)
    try:
        end = primitives._real_monotonic() + seconds
        runs = 0
        while primitives._real_monotonic() < end:
            outcome = []

            def body():
                try:
                    scenario()
                    outcome.append(None)
                except BaseException as exc:
                    outcome.append(exc)
            primitives.stress_origin = started = primitives._real_monotonic()
            worker = primitives._RealThread(target=body, daemon=True, name="stress")
            worker.start()
            worker.join(hang_after)
            runs += 1
            stress_stats["longest"] = max(stress_stats["longest"], primitives._real_monotonic() - started)
            if not outcome:
                raise ScheduleFailure(f"hung: run {runs} on real threads did not finish within {hang_after:g} s",
                                      seed=None, kind="hang", strategy="stress", schedules=runs)
            if outcome[0] is not None:
                raise ScheduleFailure(f"{type(outcome[0]).__name__}: {outcome[0]}", seed=None, kind="stress",
                                      strategy="stress", schedules=runs)
        return runs
    finally:
        primitives.stress_origin = None
        sys.setswitchinterval(old_interval)


def _smallest(bodies, run: Run, seed: int, k: int, max_steps: int):
    """The smallest size that fails the same way within SIZE_BUDGET seeds from `seed` (replayable)."""
    name = strategies.for_seed(seed, k).name
    for body in bodies[:-1]:
        for trial_seed in range(seed, seed + SIZE_BUDGET):
            trial = run_once(body, strategies.for_seed(trial_seed, k), max_steps)
            if trial.failure and trial.failure.kind == run.failure.kind:
                size = body.args[0]
                return body, trial, f"{name}; shown at size {size}, seed {trial_seed}"
    return bodies[-1], run, name


def run_once(scenario, strategy, max_steps: int) -> Run:
    """One controlled execution of scenario() in the calling thread, named "main"."""
    if runtime.active is not None:
        raise RuntimeError("explore() cannot be nested")
    run = Run(strategy, max_steps)
    run.root_frame = sys._getframe()
    threads_before = _thread._count()
    runtime.active = run
    main = run.adopt_current("main")
    instrument.run_started()
    try:
        try:
            scenario()
            _wait_for_threads(run, main)
        except Abort:
            pass
        except AssertionError as exc:
            run.failure = run.failure or Failure("assertion", _author_message(exc))
        except Exception as exc:
            run.failure = run.failure or trace.exception_failure(exc, "main")
    finally:
        run.by_ident.pop(main.ident, None)
        run.abort()
        stuck = _stop_threads(run)
        instrument.run_finished()
        runtime.active = None
    if stuck:
        raise ScheduleFailure(
            f"{', '.join(stuck)} kept running after the test was over: it catches BaseException "
            "(or uses a bare `except:`) and so swallows the scheduler's stop. Catch Exception instead.",
            seed=None, kind="unstoppable thread")
    if run.failure is None and _thread._count() > threads_before:
        run.failure = Failure(
            "uncontrolled thread",
            "A thread was started without threading.Thread (e.g. with _thread), so the scheduler "
            "cannot control it. Use threading.Thread.")
    return run


def _author_message(exc: AssertionError) -> str:
    """The check's own message, without pytest's rewritten explanation (it shows object addresses)."""
    text = str(exc)
    if "\nassert " in text:
        text = text.split("\nassert ", 1)[0]
    elif text.startswith("assert "):
        text = "assertion failed: " + text.split("\n", 1)[0]
    return text or "assertion failed"


def _wait_for_threads(run: Run, main) -> None:
    """As at interpreter exit: wait for the non-daemon threads; daemon threads are abandoned."""
    for t in run.threads[1:]:
        while t.started and not t.daemon and not t.finished:
            run.block(main, t, None)


def _stop_threads(run: Run) -> list[str]:
    """Wait for every aborted thread to unwind; name those that would not."""
    stuck = []
    for t in run.threads[1:]:
        if t.thread is not None and t.started:
            primitives._RealThread.join(t.thread, STOP_GRACE)
            if primitives._RealThread.is_alive(t.thread):
                stuck.append(t.name)
    return stuck


def preemptions(run: Run) -> int:
    return sum(1 for _, preempted in run.decisions if preempted is not None)


def shrink(scenario, failing: Run, max_steps: int) -> Run:
    """Remove preemptions from a failing schedule while it still fails the same way.

    First look for a schedule with 1, 2, ... preemptions placed at random (seeded), then drop single
    preemptions from the last to the first. Deterministic: a replay shrinks the same way.
    """
    best, spent = failing, 0

    def attempt(choices) -> bool:
        nonlocal best, spent
        spent += 1
        trial = run_once(scenario, strategies.Replay(choices), max_steps)
        if (trial.failure and trial.failure.kind == best.failure.kind
                and (preemptions(trial), trial.steps) < (preemptions(best), best.steps)):
            best = trial
            return True
        return False

    def choices_and_points():
        choices = [chosen for chosen, _ in best.decisions]
        return choices, [i for i, (_, preempted) in enumerate(best.decisions) if preempted is not None]

    # Iterative preemption bounding (as CHESS does): the fewest preemptions that fail the same way.
    k = len(best.decisions)
    for bound in range(1, preemptions(best)):
        for j in range(BOUND_TRIES):
            if spent >= SHRINK_BUDGET // 2:
                break
            spent += 1
            trial = run_once(scenario, strategies.Bounded(bound * 1_000_003 + j, bound, k), max_steps)
            if trial.failure and trial.failure.kind == best.failure.kind and preemptions(trial) < preemptions(best):
                best = trial
                break
        else:
            continue
        break
    i = len(choices_and_points()[1]) - 1
    while i >= 0 and spent < SHRINK_BUDGET:
        choices, points = choices_and_points()
        if i < len(points):
            attempt(choices[:points[i]] + [strategies.STAY] + choices[points[i] + 1:])
        i -= 1
    return best


def replay_line(seed: int) -> str:
    """`Replay: <command with the seed>   (Python x.y.z)`: bytecode differs between Pythons."""
    return f"Replay: {config['replay'].format(seed=seed)}   (Python {platform.python_version()})"


def _failure(run: Run, seed: int, strategy: str, count: int) -> ScheduleFailure:
    failure = run.failure
    lines = [failure.message]
    lines += [f"  {d}" for d in failure.details]
    columns = trace.interleaving(run)
    n = preemptions(run)
    if len(run.threads) > 1 and columns:
        lines.append(f"Interleaving ({n} preemption{'s' if n != 1 else ''}; seed {seed}, {strategy}):")
        lines += [f"  {c}" for c in columns]
    lines.append(replay_line(seed))
    return ScheduleFailure("\n".join(lines), seed=seed, kind=failure.kind, strategy=strategy,
                           schedules=count, preemptions=n)
