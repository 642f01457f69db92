"""What the OS sandbox costs: each reference graded in turn with the strongest isolation this machine gives and
with GRADER_ISOLATION=none, pair by pair (A B A B ...), in fresh grader processes; prints the median wall seconds
of each and their ratio per problem. Run it on a quiet machine; the calibration cache is warmed first.

    python bench/isolation.py [--runs 5] [--problem counter ...]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import catalog, sandbox  # noqa: E402


def seconds(slug: str, level: str | None) -> float:
    env = {**os.environ, "GRADER_ROOT": str(ROOT)}
    if level:
        env["GRADER_ISOLATION"] = level
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "test", slug, "--reference"], cwd=ROOT, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--problem", action="append", dest="problems")
    args = parser.parse_args()
    slugs = args.problems or catalog.slugs(ROOT)
    print(f"isolation: {sandbox.plan().summary}; baseline: GRADER_ISOLATION=none; {args.runs} pairs each")
    print(f"{'problem':<20} {'sandboxed s':>11} {'none s':>8} {'ratio':>6}")
    ratios = []
    for slug in slugs:
        seconds(slug, None)  # warm the calibration cache and the file system
        pairs = [(seconds(slug, None), seconds(slug, "none")) for _ in range(args.runs)]
        boxed, bare = (statistics.median(side) for side in zip(*pairs))
        ratio = statistics.median(a / b for a, b in pairs)
        ratios.append(ratio)
        print(f"{slug:<20} {boxed:>11.2f} {bare:>8.2f} {ratio:>6.2f}")
    print(f"median ratio over {len(slugs)} problem(s): {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
