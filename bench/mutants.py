"""The mutant gate on the whole catalog: per problem the mutants made, killed, listed as equivalent and
survived, the mutation score and the wall time; then the same per operator, and the survivors' ids.

    python bench/mutants.py [--problem SLUG ...] [--jobs 2]

Each problem's reference is graded first (the gate grades no mutant of a reference that fails); then its
mutants, `--jobs` at a time, each until its first failing check. The calibration cache is warmed first, so the
times are the steady state. Nothing is checked: `grader check --mutants` is the gate, tests/test_mutant_sample.py
runs it on a sample in CI.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speed import warm  # noqa: E402  (bench/, this script's folder)
from grader import catalog, mutants, report  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", action="append", metavar="SLUG", help="Only this problem (repeatable).")
    parser.add_argument("--jobs", type=int, default=2, help="Mutants graded at once (default 2).")
    args = parser.parse_args()
    problems = [catalog.load(slug, ROOT) for slug in args.problem] if args.problem else catalog.load_all(ROOT)
    print(f"load average at the start: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores; --jobs {args.jobs}")
    warm(problems)
    width = max([len("problem")] + [len(p.slug) for p in problems])
    print(report.mutant_header(width), flush=True)
    runs, started, cpu = [], time.perf_counter(), _children_cpu()
    for problem in problems:
        runs.append(mutants.check(problem, jobs=args.jobs))
        print(report.mutant_row(runs[-1], width), flush=True)
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
    outcomes = [o for run in runs for o in run.outcomes]
    graded = sum(o.verdict != "equivalent" for o in outcomes)
    killed = sum(o.verdict == "killed" for o in outcomes)
    print(f"total: {len(outcomes)} mutants, {killed} killed of {graded} graded "
          f"({100 * killed / max(graded, 1):.0f}%), {sum(o.verdict == 'equivalent' for o in outcomes)} equivalent; "
          f"{wall:.0f} s wall, {cpu:.0f} s CPU in the gradings' processes")
    slow = sorted((o for o in outcomes if o.seconds), key=lambda o: -o.seconds)[:5]
    print("slowest mutants: " + ", ".join(f"{o.mutant.id} {o.seconds:.1f} s ({o.verdict})" for o in slow))
    print()
    by_operator = {name: Counter() for name in mutants.OPERATORS}
    for outcome in outcomes:
        by_operator[outcome.mutant.operator][outcome.verdict] += 1
    name_width = max(len(name) for name in by_operator)
    print(f"{'operator':<{name_width}}  {'made':>5}  {'killed':>6}  {'equivalent':>10}  {'survived':>8}")
    for name, counts in by_operator.items():
        print(f"{name:<{name_width}}  {sum(counts.values()):>5}  {counts['killed']:>6}  {counts['equivalent']:>10}  "
              f"{counts['survived']:>8}")
    for run in runs:
        if run.survivors:
            print(f"\nsurvived in {run.problem.slug}: " + ", ".join(o.mutant.id for o in run.survivors))
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
