"""Run a scenario under many seeded schedules; shrink and report the first one that fails."""
from __future__ import annotations

import _thread
import collections
import functools
import sys

from grader.sched import explain, instrument, primitives, state, strategies
from grader.sched.report import ScheduleFailure, author_message, preemptions, run_failure
from grader.sched.runtime import JUMP, Abort, Failure, Run, clock_origin
from grader.sched.stress import stress

DEFAULT_SCHEDULES = 200
DEFAULT_MAX_STEPS = 20_000
SIZE_BUDGET = 50           # seeds tried at each smaller size after a failure
EXHAUSTIVE_BUDGET = (100, 300)   # runs that may enumerate every schedule with 0, then 1 preemption
SHRINK_BUDGET = 160         # replays spent on removing preemptions from a failing schedule after that
SHRINK_THREADS = 4_000      # with many threads: threads that replays while shrinking may start, in all
BOUND_TRIES = 25            # seeded tries per preemption bound while shrinking
STOP_GRACE = 5.0            # real seconds an aborted thread gets to unwind


def explore(scenario, *, schedules: int | None = None, max_steps: int | None = None, sizes=None) -> None:
    """Run scenario() under `schedules` seeded interleavings; raise ScheduleFailure on the first failure.

    With `sizes` (e.g. `(1, 2, 4)`), scenario takes a size and is explored at the largest; a failure
    is then retried at smaller sizes, and the smallest that still fails is the one reported. With a
    replay seed configured, only that schedule runs. Each schedule is fully determined by its seed.
    """
    __tracebackhide__ = True
    primitives.install()
    settings = state.settings
    max_steps = max_steps or DEFAULT_MAX_STEPS
    sizes = sorted(sizes) if sizes else [None]
    bodies = [scenario if n is None else functools.partial(scenario, n) for n in sizes]
    if settings.stress_seconds is not None:
        return stress(bodies[-1], settings.stress_seconds, settings.switch_interval, settings.hang_after)
    base = settings.base_seed
    probe = run_once(bodies[-1], strategies.Replay([]), max_steps)   # its clocks as for seed 0, whatever the base
    if probe.failure:
        raise run_failure(probe, base, "no thread switch needed", 1)
    profile = strategies.Profile(probe)
    seeds = [settings.seed] if settings.seed is not None else range(base, base + (schedules or DEFAULT_SCHEDULES))
    for count, seed in enumerate(seeds, start=1):
        run = run_once(bodies[-1], strategies.for_seed(seed, profile), max_steps, seed)
        if run.failure:
            body, run, shown = _smallest(bodies, run, seed, profile, max_steps)
            raise run_failure(shrink(body, run, max_steps, seed), seed, shown, count)


def profile_of(scenario, max_steps: int = DEFAULT_MAX_STEPS) -> strategies.Profile:
    """The profile the portfolio draws on: the scenario run once without preemptions, its clocks as for
    seed 0 (so that a replayed seed gets the same profile whatever the base seed)."""
    primitives.install()
    return strategies.Profile(run_once(scenario, strategies.Replay([]), max_steps))


def _smallest(bodies, run: Run, seed: int, profile, max_steps: int):
    """The smallest size that fails the same way within SIZE_BUDGET seeds from `seed` (replayable)."""
    name = strategies.for_seed(seed, profile).name
    for body in bodies[:-1]:
        small = profile_of(body, max_steps)
        for trial_seed in range(seed, seed + SIZE_BUDGET):
            trial = run_once(body, strategies.for_seed(trial_seed, small), max_steps, trial_seed)
            if trial.failure and trial.failure.kind == run.failure.kind:
                size = body.args[0]
                return body, trial, f"{name}; shown at size {size}, seed {trial_seed}"
    return bodies[-1], run, name


def run_once(scenario, strategy, max_steps: int, seed: int = 0) -> Run:
    """One controlled execution of scenario() in the calling thread, named "main"; its clocks start
    where `seed` puts them."""
    if state.active is not None:
        raise RuntimeError("explore() cannot be nested")
    run = Run(strategy, max_steps, explain.deadlock_failure)
    run.monotonic_origin, run.epoch_origin = clock_origin(seed)
    run.root_frame = sys._getframe()
    threads_before = _thread._count()
    state.set_active(run)
    main = run.adopt_current("main")
    instrument.run_started()
    try:
        try:
            scenario()
            _wait_for_threads(run, main)
        except Abort:
            pass
        except AssertionError as exc:
            run.failure = run.failure or Failure("assertion", author_message(exc))
        except Exception as exc:
            run.failure = run.failure or explain.exception_failure(exc, "main")
    finally:
        run.by_ident.pop(main.ident, None)
        run.abort()
        stuck = _stop_threads(run)
        instrument.run_finished()
        state.set_active(None)
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


def _wait_for_threads(run: Run, main) -> None:
    """As at interpreter exit: wait for the non-daemon threads; daemon threads are abandoned."""
    for t in run.threads[1:]:
        while t.started and not t.daemon and not t.finished:
            run.block(main, t, None)


def _stop_threads(run: Run) -> list[str]:
    """Wait for every aborted thread to unwind; name those that would not."""
    stuck = []
    for t in run.threads[1:]:
        if t.launch is not None:           # never ran: its OS thread was never started
            t.launch = None
            t.thread.unlaunch()
        elif t.thread is not None and t.started:
            state.RealThread.join(t.thread, STOP_GRACE)
            if state.RealThread.is_alive(t.thread):
                stuck.append(t.name)
    return stuck


# -- shrinking ------------------------------------------------------------------------------------
class _Enumerate:
    """Follows a prefix of choices, then the default (keep running; else the first runnable thread),
    and records each decision's alternatives, for a depth-first walk over all schedules."""

    name = "exhaustive"

    def __init__(self, prefix: list[int]):
        self.prefix = prefix
        self.options: list[tuple[int | None, list[int], bool]] = []   # (current tid, runnable tids, could jump)
        self._jump_at = None        # (decision index, step) of the last chance to jump

    def jump(self, run) -> bool:
        index = len(run.decisions)
        if index < len(self.prefix) and self.prefix[index] == JUMP:
            self.options.append((run.current.tid, [], False))
            return True
        self._jump_at = (index, run.steps)
        return False

    def choose(self, run, runnable, current):
        index = len(run.decisions)
        could_jump = current is not None and self._jump_at == (index, run.steps)
        self.options.append((current.tid if current is not None else None, [t.tid for t in runnable], could_jump))
        if index < len(self.prefix):
            for t in runnable:
                if t.tid == self.prefix[index]:
                    return t
        return current if current is not None else runnable[0]


def _choices(run: Run) -> list[int]:
    return [decision[0] for decision in run.decisions]


class _Guided:
    """A failing schedule with only some of its preemptions: decisions are told apart by the moment they
    come at (a thread and how many steps it has taken), not by their index, which shifts as preemptions go.
    Where the failing run chose after a thread blocked or ended, the same thread is chosen if it can run."""

    name = "guided"

    def __init__(self, failing: Run, keep: set[int]):
        self.switch, self.free = {}, {}
        for i, (chosen, preempted, moment, could_run_on) in enumerate(failing.decisions):
            if not could_run_on:
                self.free[moment] = chosen
            elif (preempted is not None or chosen == JUMP) and i in keep:
                self.switch[moment] = chosen

    def jump(self, run) -> bool:
        return self.switch.get((run.current.tid, run.current.steps)) == JUMP

    def choose(self, run, runnable, current):
        if current is None:
            wanted = self.free.get((run.current.tid, run.current.steps)) if run.current is not None else None
        else:
            wanted = self.switch.get((current.tid, current.steps), current.tid)
        for t in runnable:
            if t.tid == wanted:
                return t
        return current if current is not None else runnable[0]


class _Transplant(_Enumerate):
    """The default schedule (keep running; else the first runnable thread) with one preemption: where
    thread `moment[0]` stands at its step `moment[1]`, switch to `to` (or run the clock ahead: JUMP)."""

    def __init__(self, moment: tuple[int, int], to: int):
        super().__init__([])
        self.moment, self.to = moment, to

    def jump(self, run) -> bool:
        return self.to == JUMP and (run.current.tid, run.current.steps) == self.moment

    def choose(self, run, runnable, current):
        if current is not None and (current.tid, current.steps) == self.moment:
            for t in runnable:
                if t.tid == self.to:
                    return t
        return super().choose(run, runnable, current)


def _fewer(scenario, failing: Run, max_steps: int, seed: int, budget: int) -> Run | None:
    """A schedule that fails the same way with fewer preemptions, among at most `budget` tries, taking
    preemptions the latest and the longest-waiting (after which the preempted thread waited longest to
    run again) in turn: the failing schedule keeping one; the default schedule with one of them,
    to the thread it went to or to one of the last that ran while the preempted one waited; the failing
    schedule keeping the latest 2, 4, ..."""
    kind, have = failing.failure.kind, preemptions(failing)
    points = [i for i, (chosen, preempted, _, could_run_on) in enumerate(failing.decisions)
              if could_run_on and (preempted is not None or chosen == JUMP)]
    def stalled(i: int) -> tuple[int, int]:
        """How long the preempted thread waited to run again (the longest waits first), then lateness."""
        tid = failing.decisions[i][2][0]
        again = next((j for j in range(i + 1, len(failing.decisions)) if failing.decisions[j][0] == tid),
                     len(failing.decisions))
        return again - i, i

    by_stall, by_lateness = sorted(points, key=stalled, reverse=True), points[::-1]
    order = list(dict.fromkeys(i for pair in zip(by_lateness, by_stall) for i in pair))
    tries = []
    for i in order:
        chosen, _, moment, _ = failing.decisions[i]
        ran = [d[0] for d in failing.decisions[i:i + stalled(i)[0]] if d[0] >= 0]   # while it waited
        tries.append(_Guided(failing, {i}))
        tries += [_Transplant(moment, to) for to in list(dict.fromkeys([chosen, *ran[::-1]]))[:4] if to != moment[0]]
    size = 2
    while size < len(points):
        tries.append(_Guided(failing, set(points[-size:])))
        size *= 2
    for strategy in tries[:budget]:
        trial = run_once(scenario, strategy, max_steps, seed)
        if trial.failure and trial.failure.kind == kind and preemptions(trial) < have:
            return trial
    return None


def _exhaust(scenario, kind: str, bound: int, budget: int, max_steps: int, seed: int):
    """Breadth-first over every schedule with at most `bound` preemptions (a clock run ahead counts as one),
    fewest deviations from the default schedule first: (the first that fails with `kind`, or None; whether
    every such schedule was tried)."""
    queue = collections.deque([((), 0, None, 0)])     # (parent's choices, index, choice there, preemptions)
    spent = 0
    while queue:
        if spent >= budget or len(queue) > 50 * budget:
            return None, False
        parent, j, choice, used = queue.popleft()
        prefix = list(parent[:j]) + [choice] if choice is not None else []
        strategy = _Enumerate(prefix)
        trial = run_once(scenario, strategy, max_steps, seed)
        spent += 1
        if trial.failure and trial.failure.kind == kind:
            return trial, True
        taken = tuple(_choices(trial))
        if len(strategy.options) != len(taken):
            return None, False
        for i in range(len(prefix), len(taken)):
            current, runnable, could_jump = strategy.options[i]
            for tid in runnable:
                if tid != taken[i]:
                    extra = 1 if current is not None and tid != current else 0
                    if used + extra <= bound:
                        queue.append((taken, i, tid, used + extra))
            if could_jump and used + 1 <= bound:
                queue.append((taken, i, JUMP, used + 1))
    return None, True


def shrink(scenario, failing: Run, max_steps: int, seed: int = 0) -> Run:
    """A schedule that fails the same way with as few preemptions as can be found.

    With few threads, every schedule without a preemption is tried first (EXHAUSTIVE_BUDGET[0] runs at
    most). Then fewer preemptions from the failing schedule itself (see `_fewer`), in up to three rounds;
    then, with few threads and when the first search was complete, every schedule with one preemption
    (EXHAUSTIVE_BUDGET[1]). Where the exhaustive searches end, the count reported is the true minimum.
    Last, preemptions at random places and dropped one by one (`_reduce`). Budgets count runs (with
    many threads, threads started), so a replay shrinks the same way.
    """
    kind = failing.failure.kind
    if preemptions(failing) == 0:
        return failing
    small = len(failing.threads) < strategies.WIDE     # with many threads, no bound is small enough to exhaust
    complete = False
    if small:
        found, complete = _exhaust(scenario, kind, 0, EXHAUSTIVE_BUDGET[0], max_steps, seed)
        if found is not None:
            return found
    if preemptions(failing) == 1:
        return failing
    budget = SHRINK_BUDGET if small else max(24, SHRINK_THREADS // len(failing.threads))
    best = failing
    for _ in range(3):
        fewer = _fewer(scenario, best, max_steps, seed, budget)
        if fewer is None:
            break
        best = fewer
        if preemptions(best) == 1:
            return best
    if complete:
        found, _ = _exhaust(scenario, kind, 1, EXHAUSTIVE_BUDGET[1], max_steps, seed)
        if found is not None:
            return found
    return _reduce(scenario, best, max_steps, seed, budget)


def _reduce(scenario, failing: Run, max_steps: int, seed: int, budget: int) -> Run:
    best, spent = failing, 0

    def attempt(choices) -> bool:
        nonlocal best, spent
        spent += 1
        trial = run_once(scenario, strategies.Replay(choices), max_steps, seed)
        if (trial.failure and trial.failure.kind == best.failure.kind
                and (preemptions(trial), trial.steps) < (preemptions(best), best.steps)):
            best = trial
            return True
        return False

    def choices_and_points():
        choices = _choices(best)
        return choices, [i for i, (chosen, preempted, _, _) in enumerate(best.decisions)
                         if preempted is not None or chosen == JUMP]

    # Iterative preemption bounding (as CHESS does): the fewest preemptions that fail the same way.
    k = len(best.decisions)
    for bound in range(1, preemptions(best)):
        for j in range(BOUND_TRIES):
            if spent >= budget // 2:
                break
            spent += 1
            trial = run_once(scenario, strategies.Bounded(bound * 1_000_003 + j, bound, k), max_steps, seed)
            if trial.failure and trial.failure.kind == best.failure.kind and preemptions(trial) < preemptions(best):
                best = trial
                break
        else:
            continue
        break
    i = len(choices_and_points()[1]) - 1
    while i >= 0 and spent < budget:
        choices, points = choices_and_points()
        if i < len(points):
            attempt(choices[:points[i]] + [strategies.STAY] + choices[points[i] + 1:])
        i -= 1
    return best
