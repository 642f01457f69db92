"""Detection power and speed: the grader against the stress test a user would write without it.

    python bench/detection.py [--runs 20] [--baseline-runs K] [--reference-runs N] [--problem SLUG ...] [--jobs 2]

For every shipped bug, the grader runs the checks the bug's `Caught by:` line names, `--runs`
times with different base seeds, and we print its detection rate and median time to the first
failing check. The baseline runs the same checks' scenarios on plain threads (no scheduler),
again and again for the same time budget (the grader's median time on that bug, at least 0.2 s),
once with the default `sys.setswitchinterval` and once with 1 µs; each run sees the real clocks
(which, like the scheduler's, do not start at 0), and one still going after twice the reference's
slowest run of that scenario (at least 1 s) counts as a hang: the timeout a user would have to give it. We print
the same two figures and the ratio of detections per second of testing (ours over the
baseline's), per bug, over all bugs, over the thread race and deadlock bugs (those caught only by
checks that call explore()), over the bugs whose shrunk failing schedule needs a preemption in
every run (what no run without a thread switch shows), and over the async ones (explore_async()).
Each baseline first runs on the reference for 1 s per scenario: a bug whose checks it fails there
is left out of the overall rows, as that baseline cannot tell it from a correct solution. Each
reference is graded `--reference-runs` times too (default `--runs`); its failures are false ones.

With frontrun installed (`pip install -e '.[bench]'`, in a venv of its own: its pytest plugin
loads itself into every pytest run), a third baseline runs `frontrun.explore` on the scenarios of
bench/frontrun_scenarios.py, one per check, for the bugs whose every `Caught by:` check has one:
`--runs` times, each exploration limited to the same budget, in a process of its own. Its default
DPOR search is deterministic, so its runs differ only in timing. A run that stalls past the budget
is what frontrun calls inconclusive, and counts as not found; the footer lists them.
"""
from __future__ import annotations

import argparse
import ast
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import catalog, runner  # noqa: E402

import frontrun_scenarios  # noqa: E402  (bench/ is sys.path[0]); imports frontrun only when run

SCENARIOS = Path(frontrun_scenarios.__file__)

STRESS_PLUGIN = '''
import json
import os

import pytest

from grader import sched
from grader.sched.stress import stats as stress_stats

HANG_AFTER = json.loads(os.environ["BENCH_HANG_AFTER"])   # check -> seconds, and "*" for any other
longest = {}


def pytest_runtest_setup(item):
    interval = os.environ.get("BENCH_SWITCH_INTERVAL")
    check = item.name.removeprefix("test_")
    sched.configure_stress(float(os.environ["BENCH_STRESS_SECONDS"]), float(interval) if interval else None,
                           HANG_AFTER.get(check, HANG_AFTER["*"]))
    stress_stats["longest"] = 0.0


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item):
    longest[item.name.removeprefix("test_")] = stress_stats["longest"]


def pytest_sessionfinish(session):
    if os.environ.get("BENCH_STATS"):
        with open(os.environ["BENCH_STATS"], "w") as out:
            json.dump(longest, out)
'''


BASELINES = (("plain", None), ("tiny", 1e-6))    # sys.setswitchinterval: the default, and 1 µs
REFERENCE_BUDGET = 1.0    # seconds each baseline repeats each scenario on the reference, to see it pass
REFERENCE_HANG = 30.0     # seconds a reference's run may take there before it counts as hung
HANG_FLOOR = 1.0          # the least a bug's run gets before it counts as hung

PREEMPTIONS = re.compile(r"^\s*Interleaving \((\d+) preemptions?;", re.MULTILINE)


def ours(problem, bug_path, checks, runs, jobs):
    """[(detected, seconds to the first failing check)] for `runs` gradings at different base seeds, and
    whether every run failed on a schedule that needs a preemption (the report's shrunk interleaving)."""
    def one(i):
        report = runner.grade(problem, bug_path, base_seed=i * 1000, only=list(checks))
        elapsed = 0.0
        for check in report.checks:
            elapsed += check.duration or 0.0
            if not check.passed:
                counts = [int(n) for n in PREEMPTIONS.findall(check.message or "")]
                return True, elapsed, bool(counts) and min(counts) > 0
        return False, elapsed, False
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(one, range(runs)))
    return [(found, elapsed) for found, elapsed, _ in results], all(racy for _, _, racy in results)


def stress(problem, impl_path, checks, budget, switch_interval, runs, jobs, plugin_dir, hang_after):
    """The same checks on plain threads, each scenario repeated for `budget` seconds, a run counting as
    hung after hang_after[check] (else hang_after["*"]) seconds: per run, whether some check failed, the seconds spent up to
    the first failing check, the names of the failing checks, and each check's longest run (seconds)."""
    def one(i):
        with tempfile.TemporaryDirectory() as tmp:
            xml = Path(tmp) / "out.xml"
            env = dict(os.environ, PYTHONPATH=f"{plugin_dir}{os.pathsep}{ROOT}", PYTHONHASHSEED="0",
                       BENCH_STRESS_SECONDS=str(budget), BENCH_HANG_AFTER=json.dumps(hang_after),
                       BENCH_STATS=str(Path(tmp) / "stats.json"))
            if switch_interval:
                env["BENCH_SWITCH_INTERVAL"] = str(switch_interval)
            selected = " or ".join(f"test_{name}" for name in checks)
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "grader.plugin", "-p", "bench_stress",
                   "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", tmp, "--impl", str(impl_path),
                   f"--timeout={budget * 3 + 30 + max(hang_after.values()):g}", "-k", selected, f"--junitxml={xml}",
                   str(problem.checks_file)]
            started = time.perf_counter()
            limit = sum(budget * 10 + hang_after.get(check, hang_after["*"]) for check in checks) + 120
            subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, timeout=limit)
            wall = time.perf_counter() - started
            try:
                cases = list(ET.parse(xml).getroot().iter("testcase"))
                longest = json.loads((Path(tmp) / "stats.json").read_text())
            except (ET.ParseError, FileNotFoundError, json.JSONDecodeError):
                return True, wall, {"(the run crashed or hung past its limit)"}, {}
            elapsed, first, failing = 0.0, None, set()
            for case in cases:
                if first is None:
                    elapsed += float(case.get("time", 0))
                if case.find("failure") is not None or case.find("error") is not None:
                    failing.add(case.get("name").removeprefix("test_"))
                    first = elapsed if first is None else first
            return bool(failing), elapsed, failing, longest
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, range(runs)))


def frontrun(problem, bug_path, checks, budget, runs, jobs):
    """frontrun.explore on the adapted scenario of each check in turn, until one fails, each limited to
    `budget` seconds: [(detected, seconds in explore)], and how often each (check, verdict) gave no verdict."""
    def one(i):
        spent, stalled = 0.0, []
        for check in checks:
            cmd = [sys.executable, str(SCENARIOS), problem.slug, str(bug_path), check, "--budget", f"{budget:g}"]
            started = time.perf_counter()
            try:
                done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=budget * 3 + 30)
                outcome = json.loads(done.stdout.splitlines()[-1])
            except subprocess.TimeoutExpired:
                outcome = {"verdict": "hung", "seconds": time.perf_counter() - started}
            except (IndexError, json.JSONDecodeError):
                outcome = {"verdict": "crashed", "seconds": time.perf_counter() - started}
            spent += outcome["seconds"]
            if outcome["verdict"] == "failed":
                return True, spent, stalled
            if outcome["verdict"] != "passed":
                stalled.append((check, outcome["verdict"]))
        return False, spent, stalled
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(one, range(runs)))
    return [(found, spent) for found, spent, _ in results], Counter(x for _, _, stalled in results for x in stalled)


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


def interleaving_checks(problem, explorer: str) -> set[str]:
    """Checks whose body calls `explorer` (explore or explore_async): the ones that need the scheduler."""
    tree = ast.parse(problem.checks_file.read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            calls = {getattr(n.func, "id", getattr(n.func, "attr", None)) for n in ast.walk(node)
                     if isinstance(n, ast.Call)}
            if explorer in calls:
                found.add(node.name.removeprefix("test_"))
    return found


def fmt(rate, seconds):
    return f"{rate:>5.0%} {('%.2f s' % seconds) if seconds is not None else '-':>8}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="gradings per bug and per reference (K)")
    parser.add_argument("--baseline-runs", type=int, help="runs of each baseline per bug (default: --runs)")
    parser.add_argument("--reference-runs", type=int, help="gradings per reference (default: --runs)")
    parser.add_argument("--problem", action="append", help="only these problems (repeatable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain-threads baseline")
    parser.add_argument("--no-frontrun", action="store_true", help="skip the frontrun baseline")
    args = parser.parse_args()
    baseline_runs = args.baseline_runs or args.runs
    reference_runs = args.reference_runs or args.runs

    slugs = args.problem or catalog.slugs(ROOT)
    plugin_dir = tempfile.mkdtemp()
    bugs_dir = tempfile.mkdtemp()  # each bug's code, <slug>/<bug>/<slug>.py: a patch bug applied to its reference
    Path(plugin_dir, "bench_stress.py").write_text(STRESS_PLUGIN)
    with_frontrun = not args.no_frontrun and importlib.util.find_spec("frontrun") is not None
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"K={args.runs} runs ({baseline_runs} per baseline, {reference_runs} per reference), --jobs {args.jobs}"
          + (f", frontrun {importlib.metadata.version('frontrun')}" if with_frontrun else ""))
    header = f"{'bug':<52} {'grader':>14}"
    if not args.no_baseline:
        header += f" {'threads':>14} {'threads 1us':>14} {'vs threads':>11} {'vs 1us':>8}"
    if with_frontrun:
        header += f" {'frontrun':>14} {'vs frontrun':>11}"
    print(header)
    overall = {kind: {"ours": [], "plain": [], "tiny": [], "frontrun": []}
               for kind in ("thread race/deadlock", "preemption-needing", "async scheduling", "all", "frontrun-adapted")}
    false_failures = {}
    no_verdicts, left_out = [], []
    for slug in slugs:
        problem = catalog.load(slug, ROOT)
        threads, tasks = interleaving_checks(problem, "explore"), interleaving_checks(problem, "explore_async")
        # A baseline that fails the reference on a check cannot tell a bug from a correct solution there.
        # A run counts as hung once it takes twice as long as the reference's slowest run of that scenario
        # (at least HANG_FLOOR): the timeout a user would give a stress test that must not fail a correct solution.
        baseline_fails_reference, hang_after = {}, {"*": HANG_FLOOR}
        if not args.no_baseline:
            checked = sorted({check for bug in problem.bugs for check in bug.caught_by})
            for key, interval in BASELINES:
                runs = stress(problem, problem.reference, checked, REFERENCE_BUDGET, interval, baseline_runs,
                              args.jobs, plugin_dir, {"*": REFERENCE_HANG})
                baseline_fails_reference[key] = set().union(*(failing for _, _, failing, _ in runs))
                for _, _, _, longest in runs:
                    for check, seconds in longest.items():
                        hang_after[check] = max(hang_after.get(check, HANG_FLOOR), 2 * seconds)
                if baseline_fails_reference[key]:
                    print(f"{slug + ' / reference':<52} {key} baseline fails it on: "
                          f"{', '.join(sorted(baseline_fails_reference[key]))}", flush=True)
        for bug in problem.bugs:
            bug_path = bug.write(Path(bugs_dir) / slug / bug.name)
            adapted = all((slug, check) in frontrun_scenarios.ADAPTERS for check in bug.caught_by)
            mine, needs_preemption = ours(problem, bug_path, bug.caught_by, args.runs, args.jobs)
            unjudged = any(set(bug.caught_by) & failing for failing in baseline_fails_reference.values())
            kinds = [] if unjudged else (
                ["all"] + (["thread race/deadlock"] if set(bug.caught_by) <= threads else [])
                + (["preemption-needing"] if needs_preemption else [])
                + (["async scheduling"] if set(bug.caught_by) <= tasks else [])
                + (["frontrun-adapted"] if with_frontrun and adapted else []))
            if unjudged:
                left_out.append(f"{slug} / {bug.name}")
            for kind in kinds:
                overall[kind]["ours"] += mine
            line = f"{slug + ' / ' + bug.name:<52} {fmt(*summary(mine))}"
            budget = max(0.2, statistics.median(t for _, t in mine))
            if not args.no_baseline:
                cells, ratios = [], []
                for key, interval in BASELINES:
                    base = [(found, spent) for found, spent, _, _ in
                            stress(problem, bug_path, bug.caught_by, budget, interval, baseline_runs, args.jobs,
                                   plugin_dir, hang_after)]
                    for kind in kinds:
                        overall[kind][key] += base
                    cells.append(fmt(*summary(base)))
                    ratios.append(ratio(per_second(mine), per_second(base)) if not unjudged else "ref fails")
                line += f" {cells[0]} {cells[1]} {ratios[0]:>11} {ratios[1]:>8}"
            if with_frontrun and adapted:
                checks = [check.name for check in problem.checks if check.name in bug.caught_by]
                theirs, no_verdict = frontrun(problem, bug_path, checks, budget, baseline_runs, args.jobs)
                for kind in kinds:
                    overall[kind]["frontrun"] += theirs
                no_verdicts += [(f"{slug} / {bug.name} › {check}", verdict, n)
                                for (check, verdict), n in no_verdict.items()]
                line += f" {fmt(*summary(theirs))} {ratio(per_second(mine), per_second(theirs)):>11}"
            elif with_frontrun:
                line += f" {'-':>14} {'-':>11}"
            print(line, flush=True)
        refs, _ = ours(problem, problem.reference, [c.name for c in problem.checks], reference_runs, args.jobs)
        false_failures[slug] = sum(found for found, _ in refs)
        print(f"{slug + ' / reference':<52} false failures: {false_failures[slug]} of {reference_runs}", flush=True)
    for kind, runs in overall.items():
        if not runs["ours"]:
            continue
        line = f"{'overall, ' + kind + ' bugs':<52} {fmt(*summary(runs['ours']))}"
        if not args.no_baseline:
            line += " " + " ".join(fmt(*summary(runs[k])) for k in ("plain", "tiny"))
            line += " " + " ".join(f"{ratio(per_second(runs['ours']), per_second(runs[k])):>{w}}"
                                   for k, w in (("plain", 11), ("tiny", 8)))
        if with_frontrun and kind == "frontrun-adapted":
            theirs = runs["frontrun"]
            line += f" {fmt(*summary(theirs))} {ratio(per_second(runs['ours']), per_second(theirs)):>11}"
        elif with_frontrun:
            line += f" {'-':>14} {'-':>11}"   # frontrun ran only some of these bugs: see its own row
        print(line)
    print(f"false failures of the references: {sum(false_failures.values())} in "
          f"{reference_runs * len(false_failures)} gradings ({reference_runs} per reference)")
    print("ratios: detections per second of testing, the grader's over the baseline's (inf: the baseline found none)")
    if left_out:
        print(f"left out of the overall rows, as a baseline fails the reference on their checks: {', '.join(left_out)}")
    if with_frontrun:
        print("frontrun: frontrun.explore (DPOR, default search: deterministic) on bench/frontrun_scenarios.py's "
              "version of each check, with the same budget per check; -: some check of the bug has no version there")
        for where, verdict, n in no_verdicts:
            print(f"  no verdict from frontrun ({verdict}, {n} of {baseline_runs} runs): {where}")
    elif not args.no_frontrun:
        print("frontrun baseline skipped: frontrun is not installed; pip install -e '.[bench]' (in a venv) enables it")


if __name__ == "__main__":
    main()
