"""Wide bugs: races among many threads whose one critical thread is started last, against plain threads.

    python bench/wide_bugs.py [--sizes 3 10 20 50 100] [--seeds 5] [--budget 10000] [--plain-seconds 2]

Two shapes, each with N threads (tests/sched/wide.py is the code under test):
- reorder_N: N-1 writers each set `a` then `b` of one Pair, unlocked; a checker, started last, reads
  both once and must see them equal.
- twostage_N: N-1 producers each publish a slot in two stages, the ready flag before the item (the
  wrong order); a consumer, started last, reads every ready slot once and must find its item.
One preemption at the right moment shows either bug. For each shape and N, the grader explores with
--seeds base seeds (0, 1000, ...) and at most --budget schedules each; plain threads run the same
scenario again and again for --plain-seconds per base seed (the stress test a user would write). We
print, for each, in how many of the runs the bug was found, and the median schedules (runs) and
seconds to it (the grader's includes shrinking and the report). frontrun is not run here.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from grader.sched import ScheduleFailure, configure, configure_stress, explore, load_module, strategies  # noqa: E402

CODE = os.path.join(ROOT, "tests", "sched", "wide.py")


def reorder(module, n):
    def scenario():
        pair = module.Pair()
        seen = []
        threads = [threading.Thread(target=pair.write, args=(i + 1,), name=f"writer-{i}") for i in range(n - 1)]
        threads.append(threading.Thread(target=lambda: seen.append(pair.in_step()), name="checker"))
        module.start_all(threads)
        for t in threads:
            t.join()
        assert seen == [True], "the checker saw a and b out of step"
    return scenario


def twostage(module, n):
    def scenario():
        board = module.Board(n - 1)
        got = []
        threads = [threading.Thread(target=board.publish, args=(i, f"item-{i}"), name=f"producer-{i}")
                   for i in range(n - 1)]
        threads.append(threading.Thread(target=lambda: got.append(board.published()), name="consumer"))
        module.start_all(threads)
        for t in threads:
            t.join()
        missing = [slot for slot, item in got[0] if item is None]
        assert not missing, f"slots {missing} were ready without their items"
    return scenario


SHAPES = {"reorder": reorder, "twostage": twostage}


def grader_runs(scenario, seeds, budget):
    """[(found, schedules, seconds)] per base seed."""
    out = []
    for base in seeds:
        configure(base_seed=base)
        start = time.perf_counter()
        try:
            explore(scenario, schedules=budget)
            out.append((False, budget, time.perf_counter() - start))
        except ScheduleFailure as failure:
            out.append((True, failure.schedules, time.perf_counter() - start))
    configure(base_seed=0)
    return out


def plain_runs(scenario, tries, seconds):
    """[(found, runs, seconds)] per try of `seconds` on real threads."""
    out = []
    configure_stress(seconds, hang_after=30.0)
    try:
        for _ in range(tries):
            start = time.perf_counter()
            try:
                runs = explore(scenario)
                out.append((False, runs, time.perf_counter() - start))
            except ScheduleFailure as failure:
                out.append((True, failure.schedules, time.perf_counter() - start))
    finally:
        configure_stress(None)
    return out


def summary(results) -> str:
    found = [r for r in results if r[0]]
    if not found:
        return f"{0:>3}/{len(results)}{'-':>10}{'-':>9}"
    return (f"{len(found):>3}/{len(results)}{statistics.median(r[1] for r in found):>10.0f}"
            f"{statistics.median(r[2] for r in found):>9.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 10, 20, 50, 100])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--plain-seconds", type=float, default=2.0)
    parser.add_argument("--small-portfolio", action="store_true",
                        help="explore with the portfolio for few threads only (prob, uniform, PCT), for comparison")
    args = parser.parse_args()
    if args.small_portfolio:
        strategies.WIDE = 10**9
    module = load_module(CODE, "wide")
    seeds = [1000 * i for i in range(args.seeds)]
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    print(f"portfolio: {'for few threads only' if args.small_portfolio else 'the default'}; grader: base seeds {seeds}, at most {args.budget} schedules each; plain threads: {args.seeds} tries "
          f"of {args.plain_seconds:g} s. found = runs that found the bug; schedules and s = medians over those")
    print(f"{'scenario':<14}{'grader found':>13}{'schedules':>10}{'s':>9}   {'plain found':>12}{'runs':>10}{'s':>9}")
    for shape in args.shapes:
        for n in args.sizes:
            scenario = SHAPES[shape](module, n)
            ours = grader_runs(scenario, seeds, args.budget)
            plain = plain_runs(scenario, args.seeds, args.plain_seconds)
            print(f"{shape}_{n:<{13 - len(shape)}}{summary(ours):>32}   {summary(plain):>31}", flush=True)


if __name__ == "__main__":
    main()
