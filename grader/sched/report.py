"""Failures as a student reads them: the message, the interleaving, and the line that replays it."""
from __future__ import annotations

import platform

from grader.sched import explain, state
from grader.sched.runtime import JUMP, Failure, Run


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


def author_message(exc: AssertionError) -> str:
    """The check's own message, without pytest's rewritten explanation (it shows object addresses)."""
    text = str(exc)
    if "\nassert " in text:
        text = text.split("\nassert ", 1)[0]
    elif text.startswith("assert "):
        text = "assertion failed: " + text.split("\n", 1)[0]
    return text or "assertion failed"


def replay_line(seed: int) -> str:
    """`Replay: <command with the seed>   (Python x.y.z)`: bytecode differs between Pythons."""
    return f"Replay: {state.settings.replay.format(seed=seed)}   (Python {platform.python_version()})"


def preemptions(run: Run) -> int:
    """Switches away from a thread that could have run on (a clock run ahead of it counts as none)."""
    return sum(1 for chosen, preempted, _, _ in run.decisions if preempted is not None and chosen != JUMP)


def run_failure(run: Run, seed: int, strategy: str, count: int) -> ScheduleFailure:
    """The report of a failed run: what happened, the interleaving if threads took turns, the replay line."""
    failure = run.failure
    lines = [failure.message]
    lines += [f"  {d}" for d in failure.details]
    columns = explain.interleaving(run)
    n = preemptions(run)
    if len(run.threads) > 1 and columns:
        lines.append(f"Interleaving ({n} preemption{'s' if n != 1 else ''}; seed {seed}, {strategy}):")
        lines += [f"  {c}" for c in columns]
    lines.append(replay_line(seed))
    return ScheduleFailure("\n".join(lines), seed=seed, kind=failure.kind, strategy=strategy,
                           schedules=count, preemptions=n)


def loop_failure(failure: Failure, seed: int, strategy: str, count: int) -> ScheduleFailure:
    """The report of a failed asyncio run: what happened and the replay line."""
    lines = [failure.message] + [f"  {d}" for d in failure.details] + [replay_line(seed)]
    return ScheduleFailure("\n".join(lines), seed=seed, kind=failure.kind, strategy=strategy, schedules=count)
