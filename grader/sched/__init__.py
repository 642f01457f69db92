"""PLACEHOLDER while the deterministic scheduler is written: same API, runs the scenario once with real threads.

API (stable; the real module keeps it):
    explore(scenario, *, schedules=None, max_steps=None)  -- run scenario() under many controlled schedules;
        raises ScheduleFailure (an AssertionError) whose message is the student-facing report.
    track_file(path)       -- code in this file gets instruction-level scheduling points (the impl fixture calls it).
    configure(seed=None, base_seed=0)  -- seed: replay exactly that one schedule; base_seed: first seed of the range.
"""
import traceback

_files: set[str] = set()
_config = {"seed": None, "base_seed": 0}


class ScheduleFailure(AssertionError):
    """A schedule under which the scenario failed; str() is the student-facing report."""

    def __init__(self, report: str, seed: int | None = None, kind: str = "assertion"):
        super().__init__(report)
        self.seed = seed
        self.kind = kind


def track_file(path: str) -> None:
    _files.add(str(path))


def configure(seed: int | None = None, base_seed: int = 0) -> None:
    _config.update(seed=seed, base_seed=base_seed)


def explore(scenario, *, schedules: int | None = None, max_steps: int | None = None) -> None:
    try:
        scenario()
    except AssertionError as exc:
        raise ScheduleFailure(str(exc), seed=None) from None
