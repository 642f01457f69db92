"""Detection power and speed: the grader against the stress test a user would write without it.

    python bench/detection.py [--runs 20] [--problem SLUG ...] [--jobs 2]

For every shipped bug, the grader runs the checks the bug's `Caught by:` line names, `--runs`
times with different base seeds, and we print its detection rate and median time to the first
failing check. The baseline runs the same checks' scenarios on plain threads (no scheduler),
again and again for the same time budget (the grader's median time on that bug), once with the
default `sys.setswitchinterval` and once with 1 µs, and we print the same two figures and the
ratio of detections per second of testing (ours over the baseline's), per bug, over all bugs, and
over the race and deadlock bugs (those caught only by checks that use the scheduler). Each
reference is graded `--runs` times too; its failures are false ones.
"""
from __future__ import annotations

import argparse
import ast
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import catalog, runner  # noqa: E402

STRESS_PLUGIN = '''
import os
from grader import sched

def pytest_configure(config):
    interval = os.environ.get("BENCH_SWITCH_INTERVAL")
    sched.configure_stress(float(os.environ["BENCH_STRESS_SECONDS"]), float(interval) if interval else None)
'''


def ours(problem, bug_path, checks, runs, jobs):
    """[(detected, seconds to the first failing check)] for `runs` gradings at different base seeds."""
    def one(i):
        report = runner.grade(problem, bug_path, base_seed=i * 1000, only=list(checks))
        elapsed = 0.0
        for check in report.checks:
            elapsed += check.duration or 0.0
            if not check.passed:
                return True, elapsed
        return False, elapsed
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, range(runs)))


def stress(problem, bug_path, checks, budget, switch_interval, runs, jobs, plugin_dir):
    """The same checks on plain threads, each scenario repeated for `budget` seconds."""
    def one(i):
        with tempfile.TemporaryDirectory() as tmp:
            xml = Path(tmp) / "out.xml"
            env = dict(os.environ, PYTHONPATH=f"{plugin_dir}{os.pathsep}{ROOT}", PYTHONHASHSEED="0",
                       BENCH_STRESS_SECONDS=str(budget))
            if switch_interval:
                env["BENCH_SWITCH_INTERVAL"] = str(switch_interval)
            selected = " or ".join(f"test_{name}" for name in checks)
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "grader.plugin", "-p", "bench_stress",
                   "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", tmp, "--impl", str(bug_path),
                   f"--timeout={budget * 3 + 30:g}", "-k", selected, f"--junitxml={xml}", str(problem.checks_file)]
            started = time.perf_counter()
            subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, timeout=budget * 10 * len(checks) + 120)
            wall = time.perf_counter() - started
            elapsed = 0.0
            try:
                cases = ET.parse(xml).getroot().iter("testcase")
            except (ET.ParseError, FileNotFoundError):
                return True, wall      # the run crashed or hung past its limit: count it as found
            for case in cases:
                elapsed += float(case.get("time", 0))
                if case.find("failure") is not None or case.find("error") is not None:
                    return True, elapsed
            return False, elapsed
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, range(runs)))


def summary(results):
    rate = sum(found for found, _ in results) / len(results)
    times = [t for found, t in results if found]
    return rate, (statistics.median(times) if times else None)


def per_second(results):
    """Detections per second of testing: runs that found the bug over all the time spent, found or not."""
    spent = sum(t for _, t in results)
    return sum(found for found, _ in results) / spent if spent else 0.0


def ratio(a, b):
    if b == 0:
        return "inf" if a > 0 else "-"
    return f"{a / b:.0f}x" if a / b >= 10 else f"{a / b:.1f}x"


def interleaving_checks(problem) -> set[str]:
    """Checks whose body calls explore() or explore_async(): the ones that need the scheduler."""
    tree = ast.parse(problem.checks_file.read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            calls = {getattr(n.func, "id", getattr(n.func, "attr", None)) for n in ast.walk(node)
                     if isinstance(n, ast.Call)}
            if calls & {"explore", "explore_async"}:
                found.add(node.name.removeprefix("test_"))
    return found


def fmt(rate, seconds):
    return f"{rate:>5.0%} {('%.2f s' % seconds) if seconds is not None else '-':>8}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="gradings per bug and per reference (K)")
    parser.add_argument("--problem", action="append", help="only these problems (repeatable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain-threads baseline")
    args = parser.parse_args()

    slugs = args.problem or catalog.slugs(ROOT)
    plugin_dir = tempfile.mkdtemp()
    Path(plugin_dir, "bench_stress.py").write_text(STRESS_PLUGIN)
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"K={args.runs} runs, --jobs {args.jobs}")
    print(f"{'bug':<52} {'grader':>14} {'threads':>14} {'threads 1us':>14} {'vs threads':>11} {'vs 1us':>8}")
    overall = {kind: {"ours": [], "plain": [], "tiny": []} for kind in ("race/deadlock", "all")}
    false_failures = {}
    for slug in slugs:
        problem = catalog.load(slug, ROOT)
        needs_scheduler = interleaving_checks(problem)
        for bug in problem.bugs:
            kinds = ["all"] + (["race/deadlock"] if set(bug.caught_by) <= needs_scheduler else [])
            mine = ours(problem, bug.path, bug.caught_by, args.runs, args.jobs)
            for kind in kinds:
                overall[kind]["ours"] += mine
            line = f"{slug + ' / ' + bug.name:<52} {fmt(*summary(mine))}"
            if not args.no_baseline:
                budget = max(0.2, statistics.median(t for _, t in mine))
                cells, ratios = [], []
                for key, interval in (("plain", None), ("tiny", 1e-6)):
                    base = stress(problem, bug.path, bug.caught_by, budget, interval, args.runs, args.jobs,
                                  plugin_dir)
                    for kind in kinds:
                        overall[kind][key] += base
                    cells.append(fmt(*summary(base)))
                    ratios.append(ratio(per_second(mine), per_second(base)))
                line += f" {cells[0]} {cells[1]} {ratios[0]:>11} {ratios[1]:>8}"
            print(line, flush=True)
        refs = ours(problem, problem.reference, [c.name for c in problem.checks], args.runs, args.jobs)
        false_failures[slug] = sum(found for found, _ in refs)
    for kind, runs in overall.items():
        if not runs["ours"]:
            continue
        line = f"{'overall, ' + kind + ' bugs':<52} {fmt(*summary(runs['ours']))}"
        if not args.no_baseline:
            line += " " + " ".join(fmt(*summary(runs[k])) for k in ("plain", "tiny"))
            line += " " + " ".join(f"{ratio(per_second(runs['ours']), per_second(runs[k])):>{w}}"
                                   for k, w in (("plain", 11), ("tiny", 8)))
        print(line)
    print("false failures of the references (out of K each): "
          + ", ".join(f"{slug} {n}" for slug, n in false_failures.items()))
    print("ratios: detections per second of testing, the grader's over the baseline's (inf: the baseline found none)")


if __name__ == "__main__":
    main()
