"""No false failure: every reference and every second correct solution graded again and again at other base seeds
(100000, 101000, ...), each grading a fresh child as `grader test` makes; prints per problem how many gradings
earned full marks, and each that did not with its failing checks. Also the p95 of a reference's grading time.

    python bench/stability.py [--gradings 200] [--problem SLUG ...] [--jobs 2]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import catalog, runner, sandbox  # noqa: E402

FIRST_SEED = 100_000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gradings", type=int, default=200, help="gradings per solution")
    parser.add_argument("--problem", action="append", dest="problems")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    problems = [catalog.load(slug, ROOT) for slug in (args.problems or catalog.slugs(ROOT))]
    print(f"{args.gradings} gradings per solution at base seeds {FIRST_SEED}, {FIRST_SEED + 1000}, ...; "
          f"--jobs {args.jobs}; isolation: {sandbox.plan().summary}; load {os.getloadavg()[0]:.1f}", flush=True)
    total = failed = 0
    with ThreadPoolExecutor(args.jobs) as pool:
        for problem in problems:
            runner.grade(problem, problem.reference)  # calibrates, once
            second = ROOT / "tests" / "second_solutions" / f"{problem.slug}.py"
            for name, path in (("reference", problem.reference), ("second solution", second)):
                if not path.is_file():
                    continue

                def one(i, path=path):
                    start = time.perf_counter()
                    report = runner.grade(problem, path, base_seed=FIRST_SEED + 1000 * i)
                    return time.perf_counter() - start, report
                outcomes = list(pool.map(one, range(args.gradings)))
                bad = [(i, [c.name for c in report.checks if not c.passed]) for i, (_, report) in enumerate(outcomes)
                       if not report.full_marks]
                times = sorted(seconds for seconds, _ in outcomes)
                p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
                total += len(outcomes)
                failed += len(bad)
                print(f"{problem.slug:<20} {name:<16} full marks {len(outcomes) - len(bad)}/{len(outcomes)}  "
                      f"median {statistics.median(times):.2f} s  p95 {p95:.2f} s", flush=True)
                for i, checks in bad:
                    print(f"    base seed {FIRST_SEED + 1000 * i}: failed {', '.join(checks)}", flush=True)
    print(f"false failures: {failed} of {total} gradings; load {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
