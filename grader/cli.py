"""The `grader` command: parse arguments, call the library, print. Errors are one line and exit code 2."""
from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import click

from grader import batch, catalog, export as exports, merge as merging, mutants, report, runner, sandbox, scaffold
from grader.catalog import GraderError
from grader.report import CheckResult

FORMATS = ("terminal", "json", "junit", "gradescope", "prairielearn", "exercism")
CORES = os.cpu_count() or 1


class _Group(click.Group):
    """Turns a GraderError anywhere in a command, or a bad option of a subcommand, into one line
    `Error: ...` on stderr and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "grader"
            click.echo(f"Error: {exc.format_message()} (see {command} --help)", err=True)
            ctx.exit(2)
        except (GraderError, OSError) as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, name="grader")
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
@click.option("--bug", metavar="NAME",
              help="Print the code of the bug NAME instead: its file, or the reference with its patch applied.")
def show(slug, bug):
    """Print the problem's spec (its README.md), or with --bug the code of a known-buggy variant."""
    problem = catalog.load(slug)
    if bug:
        click.echo(problem.bug(bug).source().decode("utf-8"), nl=False)
    else:
        click.echo(problem.readme.read_text(encoding="utf-8"), nl=False)


def _grade_live(problem, path, wanted=lambda: True, **options) -> report.Report:
    """Grade with one verdict line per check printed as its result arrives, then the failures in full; nothing
    is printed once wanted() is false (grader watch: a newer save is being graded)."""
    points = {check.name: check.points for check in problem.checks}
    shown = set()

    def progress(name, passed):
        shown.add(name)
        if wanted():
            click.echo(report.verdict_line(CheckResult(name, points[name], passed), color=True))

    result = runner.grade(problem, path, on_result=progress, **options)
    if wanted():
        for check in result.checks:  # checks whose result never came (a crash, a hang) are listed now
            if check.name not in shown:
                click.echo(report.verdict_line(check, color=True))
        click.echo(report.format_terminal(result, replay=options.get("replay"), verdicts=False, color=True))
    return result


def _render(fmt: str, reports: list, replays: dict, notes: list[str], hidden_visibility: str,
            not_started=()) -> str:
    """The reports of `grader test` in a format other than the live terminal one."""
    replay = lambda r: replays.get(r.problem)  # noqa: E731
    if fmt == "json":
        if len(reports) == 1:
            return report.format_json(reports[0])
        return json.dumps({"score": sum(r.score for r in reports), "max_score": sum(r.max_score for r in reports),
                           "reports": [report.to_json(r) for r in reports]}, indent=2)
    if fmt == "junit":
        return report.format_junit(reports, replay=replay)
    if fmt == "gradescope":
        return report.format_gradescope(reports, replay=replay, notes=notes, hidden_visibility=hidden_visibility)
    if fmt == "prairielearn":
        return report.format_prairielearn(reports, replay=replay, notes=notes)
    if fmt == "exercism":
        return report.format_exercism(reports, replay=replay, notes=notes)
    text = "\n\n".join(notes + [report.format_terminal(r, replay=replay(r)) for r in reports])
    return text + ("\n\n" + report.format_summary(reports, not_started) if len(reports) > 1 or not_started else "")


@main.command()
@click.argument("slugs", nargs=-1, metavar="[SLUG]...")
@click.option("--all", "every", is_flag=True,
              help="Grade every problem you have started (with --submission: every problem file in DIR).")
@click.option("--impl", "impl", metavar="FILE", help="Grade this file instead of problems/<slug>/<slug>.py.")
@click.option("--submission", metavar="DIR", help="Grade the files <slug>.py found in DIR (a student's folder).")
@click.option("--reference", is_flag=True, help="Grade the reference solution.")
@click.option("--bug", metavar="NAME",
              help="Grade the known-buggy variant solutions/<slug>/bugs/NAME.patch (or NAME.py).")
@click.option("--mutant", metavar="ID",
              help="Grade the generated mutant ID of the reference (grader check --mutants lists them).")
@click.option("--seed", type=int, help="Replay exactly this schedule seed.")
@click.option("--base-seed", type=int, default=0, show_default=True, help="First schedule seed to explore.")
@click.option("-k", "--check", "checks", multiple=True, metavar="NAME", help="Run only this check (repeatable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="terminal", show_default=True,
              help="How to print the report.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--out", metavar="FILE", help="Write the report to FILE instead of printing it.")
@click.option("--for-marks", is_flag=True,
              help="This grading counts (a course platform's autograder): refuse to run without an OS sandbox.")
@click.option("--allow-unsandboxed", is_flag=True, help="With --for-marks: grade even without an OS sandbox.")
@click.option("--hidden-visibility", type=click.Choice(report.HIDDEN_VISIBILITY), default="after_published",
              show_default=True, help="With --format gradescope: when Gradescope shows the student a hidden check.")
def test(slugs, every, impl, submission, reference, bug, mutant, seed, base_seed, checks, fmt, as_json, out,
         for_marks, allow_unsandboxed, hidden_visibility):
    """Grade your implementation of each SLUG (by default your working copy). Exit 0 only on full marks."""
    fmt = "json" if as_json else fmt
    _check_isolation(for_marks and not allow_unsandboxed, "grader test --for-marks")
    if sum(bool(x) for x in (impl, reference, bug, mutant, submission)) > 1:
        raise GraderError("use only one of --impl, --reference, --bug, --mutant and --submission")
    folder = Path(submission) if submission else None
    if folder is not None and not folder.is_dir():
        raise GraderError(f"no such folder: {submission}")
    if every and slugs:
        raise GraderError("name problems or use --all, not both")
    submitted = None  # the scan of --submission's folder
    not_started = ()  # with --all: the problems left out, as their file is still the stub
    if every:
        problems = catalog.load_all()
        if folder is not None:
            submitted = batch.scan(folder, folder.name, [p.slug for p in problems])
            problems = [p for p in problems if p.slug in submitted.files]
        else:
            not_started = tuple(p.slug for p in problems if not batch.started(p.stub))
            problems = [p for p in problems if p.slug not in not_started]
        if not problems:
            where = f"{submission} holds no problem file (<slug>.py)" if folder else "you have started no problem yet"
            raise GraderError(f"nothing to grade: {where}")
    elif slugs:
        problems = [catalog.load(slug) for slug in dict.fromkeys(slugs)]
    else:
        raise GraderError("name a problem to grade (grader test SLUG) or use --all; grader list shows the problems")
    if len(problems) > 1 and (impl or reference or bug or mutant or checks or seed is not None):
        raise GraderError("--impl, --reference, --bug, --mutant, --seed and -k grade one problem: name exactly one")
    if mutant:  # written to a temporary folder as <slug>.py, removed when the command ends
        folder_for_mutant = click.get_current_context().with_resource(tempfile.TemporaryDirectory())
        impl = _mutant_file(problems[0], mutant, folder_for_mutant)
    if folder is not None and submitted is None:
        submitted = batch.scan(folder, folder.name, [p.slug for p in problems])
    notes = [report.ignored_note(submitted.ignored)] if submitted and submitted.ignored else []
    reports, replays = [], {}
    live = fmt == "terminal" and out is None
    if live and notes:
        click.echo(notes[0])
    with tempfile.TemporaryDirectory(prefix="grader-bug-") as scratch:  # where the code of --bug is written
        for i, problem in enumerate(problems):
            path, replay, missing = _subject(problem, impl, reference, bug, submitted, scratch)
            if mutant:
                replay = f"grader test {problem.slug} --mutant {mutant}"
            replays[problem.slug] = replay
            if live and len(problems) > 1:
                click.echo(("\n" if i else "") + click.style(f"== {problem.slug} ==", bold=True))
            options = dict(seed=seed, base_seed=base_seed, only=list(checks) or None, replay=replay)
            if missing:
                result = batch.missing_report(problem, missing)
                if live:
                    click.echo(report.format_terminal(result, replay=replay, color=True))
            elif live:
                result = _grade_live(problem, path, **options)
            else:
                result = runner.grade(problem, path, **options)
            reports.append(result)
    if live:
        if len(reports) > 1 or not_started:
            click.echo("\n" + report.format_summary(reports, not_started))
    elif out:
        Path(out).write_text(_render(fmt, reports, replays, notes, hidden_visibility, not_started) + "\n",
                             encoding="utf-8")
    else:
        click.echo(_render(fmt, reports, replays, notes, hidden_visibility, not_started))
    sys.exit(0 if all(r.full_marks for r in reports) else 1)


def _check_isolation(required: bool, command: str) -> None:
    """Refuse (GraderError) where there is no OS sandbox and one is required; else say once that there is none."""
    plan = sandbox.plan()
    if plan.level != "none":
        return
    if required:
        raise GraderError(f"no OS sandbox here ({plan.user}), and {command} runs students' code only in one: "
                          "install bubblewrap (apt-get install bubblewrap) or run as root, or pass "
                          "--allow-unsandboxed to grade with time and memory limits only")
    click.echo(f"Note: no OS sandbox on this machine ({plan.user}): the code runs as you, with time and memory "
               "limits only.", err=True)


def _mutant_file(problem, mutant_id, folder) -> Path:
    """The mutant mutant_id of problem's reference, written as folder/<slug>.py."""
    path = Path(folder) / f"{problem.slug}.py"
    path.write_text(mutants.find(problem, mutant_id).source, encoding="utf-8")
    return path


def _subject(problem, impl, reference, bug, submitted, scratch):
    """(file to grade, replay command, why there is none) for one problem and the options of `grader test`.
    A bug's code is written to the temporary folder `scratch`."""
    replay = f"grader test {problem.slug}"
    if reference:
        if problem.reference is None:
            raise GraderError(f"{problem.slug} has no reference solution (solutions/{problem.slug}/{problem.slug}.py)")
        return problem.reference, replay + " --reference", ""
    if bug:
        return problem.bug(bug).write(Path(scratch)), replay + f" --bug {bug}", ""
    if impl:
        return impl, replay + f" --impl {impl}", ""
    if submitted is not None:
        return submitted.files.get(problem.slug), replay, submitted.notes.get(problem.slug, "")
    return problem.stub, replay, ""


class _Progress:
    """One line per finished grading; on a terminal also a progress bar with the time left (rich)."""

    def __init__(self):
        self.bar = None
        self.total = self.done = 0

    def start(self, total):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.total = total
        click.echo(f"{total} grading(s) to run.")
        if sys.stdout.isatty() and total:
            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TextColumn("time left"),
                                TimeRemainingColumn(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("grading", total=total)

    def advance(self, student, slug, graded):
        self.done += 1
        line = f"[{self.done}/{self.total}] {student}  {slug}  {graded.score}/{graded.max_score}"
        if self.bar:
            self.bar.console.print(line, highlight=False, markup=False)
            self.bar.advance(self.task)
        else:
            click.echo(line)

    def stop(self):
        if self.bar:
            self.bar.stop()
            self.bar = None


@main.command()
@click.argument("submissions", metavar="SUBMISSIONS_DIR")
@click.option("--problem", "-p", "slugs", multiple=True, metavar="SLUG",
              help="Grade this problem (repeatable). Default: every problem some student submitted.")
@click.option("--jobs", "-j", type=int, default=CORES, show_default=True, help="Gradings to run at once.")
@click.option("--out", default="grades", show_default=True, metavar="DIR",
              help="Where to write gradebook.csv and reports/.")
@click.option("--resume", is_flag=True, help="Keep the reports of an earlier run for unchanged files; grade the rest.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="terminal", show_default=True,
              help="Besides reports/<student>.json, write each student's report in this format.")
@click.option("--allow-unsandboxed", is_flag=True,
              help="Grade even where the machine gives no OS sandbox (time and memory limits only).")
@click.option("--shard", metavar="I/N",
              help="Grade only the I-th of N deterministic shares of the gradings (one machine of N); "
                   "grader merge combines the N output folders.")
def grade(submissions, slugs, jobs, out, resume, fmt, allow_unsandboxed, shard):
    """Grade a class: SUBMISSIONS_DIR holds one folder per student with their <slug>.py files."""
    if jobs < 1:
        raise GraderError(f"--jobs must be at least 1, not {jobs}")
    share = batch.parse_shard(shard) if shard is not None else None
    progress = _Progress()
    try:
        book = batch.grade_class(Path(submissions), list(slugs), Path(out), jobs=jobs, resume=resume, fmt=fmt,
                                 on_start=progress.start, on_graded=progress.advance,
                                 allow_unsandboxed=allow_unsandboxed, shard=share)
    except batch.Interrupted as stop:
        progress.stop()
        book = stop.gradebook
        click.echo(f"Interrupted: {book.ran} of {book.to_run} gradings ran and are written to {out}. Run the same "
                   f"command with --resume to grade the other {book.to_run - book.ran}.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:  # a second Ctrl-C: stop the running gradings too
        progress.stop()
        sandbox.stop_all()
        click.echo(f"Stopped: the gradings that were running are lost; what had ended is in {out}. Run the same "
                   "command with --resume to grade the rest.", err=True)
        os._exit(130)  # the grading threads would wait for their test processes, which are gone
    finally:
        progress.stop()
    if book.tampered:
        click.echo(f"Note: the stored report of {', '.join(book.tampered)} was not written by this grader (its "
                   "HMAC does not match), so it was not trusted: graded again.")
    reused = f" ({book.reused} kept from the earlier run)" if book.reused else ""
    if share is not None:
        click.echo(f"Graded shard {shard}: {len(book.owned)} of the class's {len(book.order)} gradings{reused}.")
        click.echo(f"Reports: {Path(out) / 'reports'}/  When all {share[1]} shards are done: "
                   "grader merge SHARD_DIR... --out DIR")
        return
    click.echo(f"Graded {len(book.submissions)} student(s) on {', '.join(p.slug for p in book.problems)}{reused}.")
    click.echo(f"Gradebook: {Path(out) / 'gradebook.csv'} (and .ods)  Reports: {Path(out) / 'reports'}/")


@main.command()
@click.argument("shards", nargs=-1, metavar="SHARD_DIR...")
@click.option("--out", default="grades", show_default=True, metavar="DIR",
              help="Where to write gradebook.csv and reports/ (a new folder, or one holding only .grader-key).")
def merge(shards, out):
    """Combine the output folders of grader grade --shard 1/N ... N/N into one run's gradebook and reports."""
    merged = merging.merge([Path(folder) for folder in shards], Path(out))
    click.echo(f"Merged {merged.shards} shard(s): {len(merged.students)} student(s) on {', '.join(merged.problems)}.")
    click.echo(f"Gradebook: {Path(out) / 'gradebook.csv'} (and .ods)  Reports: {Path(out) / 'reports'}/")


@main.command()
@click.argument("slug")
@click.option("--impl", "impl", metavar="FILE", help="Watch this file instead of problems/<slug>/<slug>.py.")
@click.option("--interval", type=float, default=0.5, show_default=True, help="Seconds between looks at the file.")
def watch(slug, impl, interval):
    """Grade SLUG each time its file is saved. Ctrl-C stops."""
    problem = catalog.load(slug)
    path = Path(impl) if impl else problem.stub
    if not path.is_file():
        raise GraderError(f"no such file: {path}")
    replay = f"grader test {slug}" + (f" --impl {impl}" if impl else "")
    runner.calibrate(problem)
    click.echo(f"Watching {path}: it is graded each time you save it. Ctrl-C stops.")
    seen, worker, current = None, None, [0]  # current[0]: the number of the save being graded

    def grade(number):
        _grade_live(problem, path, wanted=lambda: current[0] == number, replay=replay)
        if current[0] == number:
            click.echo("Waiting for the next save...")

    try:
        while True:
            stamp = _stamp(path)
            if stamp is not None and stamp != seen:
                time.sleep(interval)
                if _stamp(path) != stamp:  # still being written: wait until it settles
                    continue
                seen = stamp
                current[0] += 1
                if worker is not None and worker.is_alive():  # a newer save: the older grading is of no use now
                    click.echo("Saved again: that grading is stopped, the new version is graded instead.")
                    sandbox.stop_all()
                    worker.join()
                saved = time.strftime("%H:%M:%S", time.localtime(stamp[0] / 1e9))
                click.echo(click.style(f"\n== {slug}, saved at {saved} ==", bold=True))
                worker = threading.Thread(target=grade, args=(current[0],), daemon=True)
                worker.start()
            time.sleep(interval)
    except KeyboardInterrupt:
        current[0] += 1
        sandbox.stop_all()
        click.echo("Stopped watching.")


def _stamp(path: Path):
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


@main.command()
@click.argument("slugs", nargs=-1)
@click.option("--jobs", "-j", type=int, default=CORES, show_default=True, help="Gradings to run at once.")
@click.option("--mutants", "mutated", is_flag=True,
              help="Instead: grade generated concurrency mutants of each reference; fail on an unexplained survivor.")
def check(slugs, jobs, mutated):
    """Check that each problem is sound: reference full marks, stub fails all, each bug is caught."""
    problems = [catalog.load(slug) for slug in slugs] if slugs else catalog.load_all()
    if not problems:
        raise GraderError("no problems to check")
    if mutated:
        _check_mutants(problems, jobs)
    with tempfile.TemporaryDirectory(prefix="grader-bugs-") as folder:
        tasks, unapplied = [], {}  # unapplied: (slug, bug name) -> why its patch does not apply
        for problem in problems:
            subjects = [problem.reference, problem.stub]
            for bug in problem.bugs:
                try:
                    subjects.append(bug.write(Path(folder) / problem.slug / bug.name))
                except catalog.ProblemError as exc:
                    unapplied[problem.slug, bug.name] = str(exc)
            tasks += [(problem, path) for path in subjects if path is not None]
        reports = iter(runner.grade_all(tasks, jobs=jobs))
    rows = []
    for problem in problems:
        reference = next(reports) if problem.reference is not None else None
        stub = next(reports)
        bugs = {bug.name: unapplied.get((problem.slug, bug.name)) or next(reports) for bug in problem.bugs}
        rows += report.soundness(problem, reference, stub, bugs, scaffold.unfinished(problem))
    click.echo(report.format_soundness(rows))
    sys.exit(0 if all(row.ok for row in rows) else 1)


def _check_mutants(problems, jobs):
    """`grader check --mutants`: a row per problem as it finishes, then the survivors; exit 1 on any."""
    width = max([len("problem")] + [len(p.slug) for p in problems])
    click.echo(report.mutant_header(width))
    runs = []
    for problem in problems:
        runs.append(mutants.check(problem, jobs=jobs))
        click.echo(report.mutant_row(runs[-1], width))
    click.echo(report.format_mutant_details(runs))
    sys.exit(0 if all(run.ok for run in runs) else 1)


@main.command()
@click.argument("slug")
@click.option("--title", help="The problem's title (default: from the slug).")
def new(slug, title):
    """Start a new problem: problems/SLUG/ and solutions/SLUG/ from a template, TODOs where you write."""
    created = scaffold.new(slug, title=title)
    click.echo("Created:")
    for path in created:
        click.echo(f"  {path}")
    click.echo(scaffold.next_steps(slug))


@main.group(cls=_Group)
def export():
    """Bundles for course platforms and student handouts."""


def _export_problems(slugs):
    if not slugs:
        raise GraderError("name the problems to export (grader list shows them)")
    return [catalog.load(slug) for slug in dict.fromkeys(slugs)]


@export.command("gradescope")
@click.argument("slugs", nargs=-1, metavar="SLUG...")
@click.option("--out", default="autograder.zip", show_default=True, metavar="FILE", help="The zip to write.")
@click.option("--hidden-visibility", type=click.Choice(report.HIDDEN_VISIBILITY), default="after_published",
              show_default=True, help="When Gradescope shows students the checks marked hidden (name, points, "
              "guarantee; never their details): once you publish the grades, or never.")
def export_gradescope(slugs, out, hidden_visibility):
    """A Gradescope autograder zip: setup.sh, run_autograder, the grader and the checks (no solutions)."""
    problems = _export_problems(slugs)
    exports.gradescope(problems, Path(out), hidden_visibility=hidden_visibility)
    click.echo(f"Wrote {out}: upload it as the assignment's autograder (Gradescope: Configure Autograder, "
               f"zip file upload). Students submit {', '.join(p.slug + '.py' for p in problems)}.")


_UNSANDBOXED = click.option("--allow-unsandboxed", is_flag=True,
                            help="Let the bundle grade where the container gives no OS sandbox (time and memory "
                                 "limits only). Without it, it refuses and says why.")


@export.command("prairielearn")
@click.argument("slugs", nargs=-1, metavar="SLUG...")
@click.option("--image", required=True, metavar="NAME", help="The grading image's name on Docker Hub (you push it).")
@click.option("--timeout", type=int, default=300, show_default=True, help="Seconds PrairieLearn allows a grading.")
@click.option("--out", default="prairielearn", show_default=True, metavar="DIR", help="The folder to write.")
@_UNSANDBOXED
def export_prairielearn(slugs, image, timeout, out, allow_unsandboxed):
    """PrairieLearn external grading: a grading image's build context and one question per problem."""
    problems = _export_problems(slugs)
    exports.prairielearn(problems, Path(out), image=image, timeout=timeout, allow_unsandboxed=allow_unsandboxed)
    click.echo(f"Wrote {out}/: build and push {out}/image/ as {image}, then copy {out}/questions/* into your "
               "course's questions/ (see its README.md).")


@export.command("exercism")
@click.argument("slugs", nargs=-1, metavar="SLUG...")
@click.option("--out", default="exercism-test-runner", show_default=True, metavar="DIR", help="The folder to write.")
@_UNSANDBOXED
def export_exercism(slugs, out, allow_unsandboxed):
    """An Exercism test runner: an image's build context whose bin/run.sh SLUG INPUT_DIR OUTPUT_DIR grades."""
    problems = _export_problems(slugs)
    exports.exercism(problems, Path(out), allow_unsandboxed=allow_unsandboxed)
    click.echo(f"Wrote {out}/: build it as the test runner's image; its entry point is bin/run.sh SLUG INPUT_DIR "
               "OUTPUT_DIR (see its README.md).")


@export.command("classroom")
@click.argument("slugs", nargs=-1, metavar="SLUG...")
@click.option("--out", default="classroom", show_default=True, metavar="DIR", help="The folder to write.")
def export_classroom(slugs, out):
    """A GitHub Classroom template repository: the student handout plus an autograding workflow."""
    problems = _export_problems(slugs)
    exports.classroom(problems, Path(out))
    click.echo(f"Wrote {out}/: push it to a template repository and use it for a GitHub Classroom assignment. "
               f"Its workflow .github/workflows/classroom.yml grades each visible check.")


@export.command("student")
@click.argument("slugs", nargs=-1, metavar="SLUG...")
@click.option("--out", default="handout", show_default=True, metavar="DIR", help="The folder to write.")
def export_student(slugs, out):
    """A student handout: stubs, specs, visible checks and the grader; no solutions, no hidden checks."""
    problems = _export_problems(slugs)
    exports.student(problems, Path(out))
    click.echo(f"Wrote {out}/: give it to students. They run: pip install -e . && grader test "
               f"{problems[0].slug}")
