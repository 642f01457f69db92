"""The `grader` command: parse arguments, call the library, print. Errors are one line and exit code 2."""
from __future__ import annotations

import os
import sys

import click

from grader import catalog, report, runner
from grader.catalog import GraderError


class _Group(click.Group):
    """Turns a GraderError anywhere in a command into `Error: ...` on stderr and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (GraderError, OSError) as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group)
def main():
    """Concurrency exercises and their grader."""


@main.command("list")
def list_problems():
    """List the problems: slug, difficulty, points, title and topics."""
    for problem in catalog.load_all():
        stars = "*" * problem.difficulty
        click.echo(f"{problem.slug:<20} {stars:<3} {problem.max_score:>3} pts  {problem.title}"
                   f"  [{', '.join(problem.topics)}]")
        click.echo(f"{'':<20} {problem.summary}")


@main.command()
@click.argument("slug")
def show(slug):
    """Print the problem's spec (its README.md)."""
    problem = catalog.load(slug)
    click.echo(problem.readme.read_text(encoding="utf-8"), nl=False)


@main.command()
@click.argument("slug")
@click.option("--impl", "impl", metavar="FILE", help="Grade this file instead of problems/<slug>/<slug>.py.")
@click.option("--reference", is_flag=True, help="Grade the reference solution.")
@click.option("--bug", metavar="NAME", help="Grade the known-buggy variant solutions/<slug>/bugs/NAME.py.")
@click.option("--seed", type=int, help="Replay exactly this schedule seed.")
@click.option("--base-seed", type=int, default=0, show_default=True, help="First schedule seed to explore.")
@click.option("-k", "--check", "checks", multiple=True, metavar="NAME", help="Run only this check (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def test(slug, impl, reference, bug, seed, base_seed, checks, as_json):
    """Grade an implementation of SLUG (by default your working copy). Exit 0 only on full marks."""
    problem = catalog.load(slug)
    if sum(bool(x) for x in (impl, reference, bug)) > 1:
        raise GraderError("use only one of --impl, --reference and --bug")
    replay = f"grader test {slug}"
    if reference:
        if problem.reference is None:
            raise GraderError(f"{slug} has no reference solution (solutions/{slug}/{slug}.py)")
        path, replay = problem.reference, replay + " --reference"
    elif bug:
        path, replay = problem.bug(bug).path, replay + f" --bug {bug}"
    elif impl:
        path, replay = impl, replay + f" --impl {impl}"
    else:
        path = problem.stub
    result = runner.grade(problem, path, seed=seed, base_seed=base_seed, only=list(checks) or None, replay=replay)
    click.echo(report.format_json(result) if as_json else report.format_terminal(result, replay=replay))
    sys.exit(0 if result.full_marks else 1)


@main.command()
@click.argument("slugs", nargs=-1)
@click.option("--jobs", "-j", type=int, default=os.cpu_count() or 1, show_default=True,
              help="Gradings to run at once.")
def check(slugs, jobs):
    """Check that each problem is sound: reference full marks, stub fails all, each bug is caught."""
    problems = [catalog.load(slug) for slug in slugs] if slugs else catalog.load_all()
    if not problems:
        raise GraderError("no problems to check")
    tasks = []
    for problem in problems:
        subjects = [problem.reference, problem.stub, *(bug.path for bug in problem.bugs)]
        tasks += [(problem, path) for path in subjects if path is not None]
    reports = iter(runner.grade_all(tasks, jobs=jobs))
    rows = []
    for problem in problems:
        reference = next(reports) if problem.reference is not None else None
        stub = next(reports)
        bugs = {bug.name: next(reports) for bug in problem.bugs}
        rows += report.soundness(problem, reference, stub, bugs)
    click.echo(report.format_soundness(rows))
    sys.exit(0 if all(row.ok for row in rows) else 1)
