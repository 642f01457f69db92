"""Scheduler overhead: scheduling points per second, and slowdown against a plain run of the same body.

    python bench/scheduler_overhead.py [--repeat 20]

The body is a locked counter incremented by 2 threads; "plain" runs it on ordinary threads,
"controlled" runs it under one seeded schedule per repeat. Figures are ratios measured in this run.
"""
import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from grader.sched import load_module, strategies  # noqa: E402
from grader.sched.explore import run_once  # noqa: E402

BODY = '''
import threading

class Counter:
    def __init__(self):
        self.value = 0
        self._lock = threading.Lock()

    def increment(self):
        with self._lock:
            self.value += 1

def work(counter, n):
    for _ in range(n):
        counter.increment()
'''


def scenario_for(module, threads, n):
    def scenario():
        counter = module.Counter()
        ts = [threading.Thread(target=module.work, args=(counter, n)) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert counter.value == threads * n
    return scenario


def measure(repeat=20, increments=500):
    """(median seconds of the plain run, [(strategy, median seconds, median scheduling points)])."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(BODY)
    module = load_module(f.name, "overhead_body")
    scenario = scenario_for(module, 2, increments)

    plain = []
    for _ in range(repeat):
        start = time.perf_counter()
        scenario()
        plain.append(time.perf_counter() - start)

    rows = []
    for name, make in [("prob", lambda s: strategies.Prob(s, 0.1)), ("random", strategies.Uniform),
                       ("pct", lambda s: strategies.PCT(s, 3, 1000))]:
        times, points = [], []
        for seed in range(repeat):
            start = time.perf_counter()
            run = run_once(scenario, make(seed), 10**7)
            times.append(time.perf_counter() - start)
            points.append(run.steps)
            assert run.failure is None, run.failure.message
        rows.append((name, statistics.median(times), statistics.median(points)))
    os.unlink(f.name)
    return statistics.median(plain), rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--increments", type=int, default=500)
    args = parser.parse_args()
    base, rows = measure(args.repeat, args.increments)
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
          f"2 threads x {args.increments} locked increments; medians of {args.repeat}")
    print(f"{'run':<12}{'time (ms)':>12}{'points':>10}{'points/s':>12}{'slowdown':>10}")
    print(f"{'plain':<12}{base * 1e3:>12.2f}{'-':>10}{'-':>12}{1:>9.1f}x")
    for name, t, p in rows:
        print(f"{name:<12}{t * 1e3:>12.2f}{p:>10.0f}{p / t:>12,.0f}{t / base:>9.1f}x")


if __name__ == "__main__":
    main()
