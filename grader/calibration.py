"""Time limits calibrated on this machine: each check's limit is max(floor, MULTIPLE x the reference's time).

The floor is the problem's `time_limit`. The reference is graded once per problem, Python and machine (with
generous limits), and its time per check is cached under ~/.cache/concurrency-drills/calibration/ (or
$XDG_CACHE_HOME), keyed by a hash of the problem's files, the grader's own code and the Python version. A slow
machine then raises the limits instead of failing a correct solution as a timeout.
"""
from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import platform
import sys
from pathlib import Path

from grader.catalog import Problem

__all__ = ["MULTIPLE", "cache_dir", "check_limits"]

MULTIPLE = 5.0


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "concurrency-drills" / "calibration"


def check_limits(problem: Problem, measure) -> tuple[dict[str, float], dict]:
    """({check: seconds}, what the report records about it) for every check of `problem`.

    `measure()` grades the reference with generous limits and returns {check: seconds} for the checks it
    passed; it is called only when the cache has no entry for these files on this machine.
    """
    floor = problem.time_limit
    info = {"floor": floor, "multiple": MULTIPLE}
    if problem.reference is None:
        times, info["calibration"] = {}, "none: the problem has no reference solution"
    else:
        times, info["calibration"] = _reference_times(problem, measure)
    info["reference_seconds"] = times
    limits = {check.name: round(max(floor, MULTIPLE * times.get(check.name, 0.0)), 2) for check in problem.checks}
    return limits, info


def _reference_times(problem: Problem, measure) -> tuple[dict[str, float], str]:
    folder = cache_dir()
    path = folder / f"{problem.slug}-{_key(problem)}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one grading measures; the others wait and read
            cached = _read(path)
            if cached is not None:
                return cached, f"cached in {path}"
            times = measure()
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(times))
            os.replace(tmp, path)
            return times, f"measured now, cached in {path}"
    except OSError as exc:  # no usable cache: measure for this grading only
        return measure(), f"measured now, not cached ({exc.strerror or exc})"


def _read(path: Path) -> dict[str, float] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(isinstance(v, (int, float)) for v in data.values()):
        return None
    return {str(k): float(v) for k, v in data.items()}


def _key(problem: Problem) -> str:
    digest = hashlib.sha256()
    for path in (problem.folder / "problem.toml", problem.checks_file, problem.reference):
        digest.update(path.read_bytes())
    digest.update(_grader_hash().encode())
    digest.update(f"{sys.version}|{sys.executable}|{platform.node()}|{platform.machine()}".encode())
    return digest.hexdigest()[:16]


@functools.cache
def _grader_hash() -> str:
    """The grader's own code changes what a check costs (the scheduler, the plugin): part of the key."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    files = [package / "plugin.py", package / "integrity.py", package / "checking.py"]
    for path in files + sorted((package / "sched").glob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
