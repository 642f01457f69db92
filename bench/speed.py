"""Grading speed on this machine: each reference, the whole catalog, the scheduler, and a class.

    python bench/speed.py [--problem SLUG ...] [--jobs 1 2] [--class-size 50] [--batch-problems SLUG ...] [--skip-batch]

1. Each problem's reference graded once by runner.grade: wall time, and CPU time of the grading's child
   processes (getrusage(RUSAGE_CHILDREN) before and after) and of this process.
2. The references of the catalog (or of --problem) graded together by runner.grade_all, as `grader check`
   does, once per --jobs: wall and CPU time, and every reference without full marks (a false failure).
3. The scheduler, measured by bench/scheduler_overhead.py's measure(): scheduling points per second and
   slowdown against plain threads running the same scenario.
4. A class of --class-size students, each handing in the reference, a shipped bug or the stub of each
   --batch-problems, made in a temporary folder and graded by batch.grade_class (as `grader grade` does)
   at --jobs 2 and at the CPU count: submissions graded per minute.
The calibration cache is warmed first (a problem's first grading after a change also times its reference
to set its limits), so the figures are the steady state. Every figure is printed, none is checked; the load
average at the start and the end says how busy the machine was.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scheduler_overhead  # noqa: E402  (bench/, this script's folder)
from grader import batch, calibration, catalog, runner, sandbox  # noqa: E402
from grader.catalog import GraderError  # noqa: E402


class _Uncalibrated(Exception):
    """calibration.check_limits() asked to time the reference: the cache has no entry for the problem."""


def _refuse():
    raise _Uncalibrated


def warm(problems) -> list[str]:
    """Grade the reference of each problem the calibration cache does not cover yet (that fills it); their slugs."""
    sandbox.plan()  # decided once per process, probing `unshare`: kept out of the first timing
    cold = []
    for problem in problems:
        try:
            calibration.check_limits(problem, _refuse)
        except _Uncalibrated:
            cold.append(problem.slug)
            runner.grade(problem, problem.reference)
    return cold


def _cpu(usage) -> float:
    return usage.ru_utime + usage.ru_stime


def timed(work):
    """(work(), wall seconds, CPU seconds of the child processes that ended meanwhile, CPU seconds of this one)."""
    children, own = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = work()
    wall = time.perf_counter() - start
    return (result, wall, _cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - _cpu(children),
            _cpu(resource.getrusage(resource.RUSAGE_SELF)) - _cpu(own))


def failures(report) -> str:
    """The checks a report failed, each with the first line of its message."""
    return "; ".join(f"{c.name}: {c.message.splitlines()[0] if c.message else '(no message)'}"
                     for c in report.checks if not c.passed)


def machine(when: str) -> str:
    one, five, fifteen = os.getloadavg()
    return f"{when}: load average {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} CPUs"


def references(problems):
    print("\n1. Each reference graded once (runner.grade)")
    print(f"{'problem':<22}{'checks':>7}{'wall s':>9}{'in checks s':>13}{'child CPU s':>13}{'own CPU s':>11}"
          f"{'score':>9}")
    totals = [0.0, 0.0, 0.0, 0.0]
    for problem in problems:
        report, wall, cpu, own = timed(lambda: runner.grade(problem, problem.reference))
        in_checks = sum(c.duration or 0.0 for c in report.checks)
        for i, value in enumerate((wall, in_checks, cpu, own)):
            totals[i] += value
        score = f"{report.score}/{report.max_score}"
        print(f"{problem.slug:<22}{len(report.checks):>7}{wall:>9.2f}{in_checks:>13.2f}{cpu:>13.2f}{own:>11.2f}"
              f"{score:>9}", flush=True)
        if str(report.limits.get("calibration", "")).startswith("measured"):
            print(f"  (this grading also calibrated the limits: {report.limits['calibration']})")
        if not report.full_marks:
            print(f"  FALSE FAILURE: {failures(report)}")
    wall, in_checks, cpu, own = totals
    print(f"{'total':<22}{'':>7}{wall:>9.2f}{in_checks:>13.2f}{cpu:>13.2f}{own:>11.2f}")


def catalog_runs(problems, jobs_list):
    tasks = [(problem, problem.reference) for problem in problems]
    print(f"\n2. The {len(tasks)} references graded together (runner.grade_all, as grader check does)")
    print(f"{'--jobs':<8}{'wall s':>9}{'child CPU s':>13}{'own CPU s':>11}{'CPU/wall':>10}{'full marks':>12}")
    for jobs in jobs_list:
        reports, wall, cpu, own = timed(lambda: runner.grade_all(tasks, jobs=jobs))
        full = sum(r.full_marks for r in reports)
        print(f"{jobs:<8}{wall:>9.2f}{cpu:>13.2f}{own:>11.2f}{(cpu + own) / wall:>10.2f}{f'{full}/{len(reports)}':>12}",
              flush=True)
        for r in reports:
            if not r.full_marks:
                print(f"  FALSE FAILURE {r.problem} ({r.score}/{r.max_score}): {failures(r)}")


def scheduler():
    repeat, increments = 20, 500
    plain, rows = scheduler_overhead.measure(repeat, increments)
    print(f"\n3. The scheduler (bench/scheduler_overhead.py): 2 threads x {increments} locked increments, "
          f"medians of {repeat} runs, in this process")
    print(f"{'run':<12}{'ms':>10}{'points':>10}{'points/s':>12}{'slowdown':>10}")
    print(f"{'plain':<12}{plain * 1e3:>10.2f}{'-':>10}{'-':>12}{'1.0x':>10}")
    for name, seconds, points in rows:
        print(f"{name:<12}{seconds * 1e3:>10.2f}{points:>10.0f}{points / seconds:>12,.0f}"
              f"{f'{seconds / plain:.1f}x':>10}")


def make_class(folder: Path, problems, size: int) -> dict[tuple[str, str], str]:
    """One folder per student with a file per problem: the reference, a shipped bug or the stub, at random
    (seed 0). {(student, slug): 'reference' | 'bug NAME' | 'stub'}."""
    rng = random.Random(0)
    handed_in = {}
    for i in range(size):
        student = f"student{i + 1:03d}"
        (folder / student).mkdir(parents=True)
        for problem in problems:
            kind = rng.choice(["reference", "bug", "stub"] if problem.bugs else ["reference", "stub"])
            if kind == "bug":
                bug = rng.choice(problem.bugs)
                kind, source = f"bug {bug.name}", bug.source()  # a patch bug: applied to the reference
            else:
                source = (problem.reference if kind == "reference" else problem.stub).read_bytes()
            (folder / student / f"{problem.slug}.py").write_bytes(source)
            handed_in[(student, problem.slug)] = kind
    return handed_in


def class_runs(problems, size: int):
    jobs_list = sorted({2, os.cpu_count() or 1})
    with tempfile.TemporaryDirectory(prefix="speed-class-") as tmp:
        handed_in = make_class(Path(tmp) / "submissions", problems, size)
        mix = Counter(kind.split()[0] for kind in handed_in.values())
        print(f"\n4. A class of {size} students on {', '.join(p.slug for p in problems)} (batch.grade_class, "
              f"as grader grade does): {len(handed_in)} submissions, "
              + ", ".join(f"{mix[k]} {k}" for k in ("reference", "bug", "stub")))
        print(f"{'--jobs':<8}{'wall s':>9}{'child CPU s':>13}{'own CPU s':>11}{'CPU/wall':>10}{'per minute':>12}")
        for jobs in jobs_list:
            out = Path(tmp) / f"grades-{jobs}"
            book, wall, cpu, own = timed(lambda: batch.grade_class(Path(tmp) / "submissions",
                                                                   [p.slug for p in problems], out, jobs=jobs))
            count = sum(r is not None for r in book.reports.values())
            print(f"{jobs:<8}{wall:>9.2f}{cpu:>13.2f}{own:>11.2f}{(cpu + own) / wall:>10.2f}"
                  f"{count / wall * 60:>12.1f}", flush=True)
            for (student, slug), kind in sorted(handed_in.items()):
                graded = book.reports[(student, slug)]
                if kind == "reference" and not graded.full_marks:
                    print(f"  FALSE FAILURE {student} {slug} (reference): {failures(graded)}")
                elif kind.startswith("bug") and graded.full_marks:
                    print(f"  MISSED {student} {slug} ({kind}) got full marks")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", action="append", metavar="SLUG",
                        help="parts 1-2: only these problems (repeatable)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="part 2: the --jobs values to run")
    parser.add_argument("--class-size", type=int, default=50, help="part 4: students in the class")
    parser.add_argument("--batch-problems", nargs="+", default=["counter", "paxos"], metavar="SLUG",
                        help="part 4: the problems each student hands in (default: counter paxos)")
    parser.add_argument("--skip-batch", action="store_true", help="skip part 4")
    args = parser.parse_args()
    try:
        problems = [catalog.load(slug) for slug in args.problem] if args.problem else catalog.load_all()
        in_class = [] if args.skip_batch else [catalog.load(slug) for slug in args.batch_problems]
    except GraderError as exc:
        parser.error(str(exc))
    unreferenced = [p.slug for p in problems + in_class if p.reference is None]
    problems = [p for p in problems if p.reference is not None]
    in_class = [p for p in in_class if p.reference is not None]

    started = time.perf_counter()
    plan = sandbox.plan()
    print(f"Python {platform.python_version()} ({sys.executable}), {platform.machine()}, "
          f"{os.cpu_count()} CPUs; sandbox: PID namespace {'yes' if plan.namespace else 'no'}, "
          f"own uid {'yes' if plan.own_uid else 'no'}")
    print(machine("start"))
    if unreferenced:
        print(f"no reference solution, left out: {', '.join(sorted(set(unreferenced)))}")
    cold = warm({p.slug: p for p in problems + in_class}.values())
    print("Calibration cache warmed first (" + (f"calibrated now: {', '.join(cold)}" if cold else "all cached")
          + "): every figure below is the steady state, with no grading timing the reference.")
    print("Times are seconds; child CPU is user+sys of the grading processes (RUSAGE_CHILDREN), own CPU is "
          "this process's (the runner's threads).")

    references(problems)
    catalog_runs(problems, args.jobs)
    scheduler()
    if not args.skip_batch:
        class_runs(in_class, args.class_size)

    print(f"\n{machine('end')}; the benchmark took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
