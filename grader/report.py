"""Scores and every output format: the terminal text a student reads, JSON, JUnit XML, the results.json of
Gradescope, PrairieLearn and Exercism, and the soundness table of `grader check`.

Each platform format follows that platform's published schema (tests/schemas/ holds them, with their sources)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field

import click

__all__ = [
    "CheckResult", "Report", "verdict_line", "explain", "format_terminal", "format_summary", "to_json", "from_json",
    "format_json", "status", "not_gradable", "format_junit", "HIDDEN_VISIBILITY", "to_gradescope", "format_gradescope",
    "to_prairielearn", "format_prairielearn", "to_exercism", "format_exercism", "ignored_note", "Soundness", "soundness",
    "format_soundness", "mutant_header", "mutant_row", "format_mutant_details", "format_mutants",
]


@dataclass
class CheckResult:
    """The outcome of one check. `points` are the points awarded: `max_points` or 0."""

    name: str
    max_points: int
    passed: bool
    message: str = ""
    doc: str = ""
    hint: str | None = None
    seed: int | None = None
    duration: float | None = None
    hidden: bool = False

    @property
    def points(self) -> int:
        return self.max_points if self.passed else 0


@dataclass
class Report:
    """The grading of one implementation of one problem."""

    problem: str
    impl: str
    checks: list[CheckResult]
    import_error: str | None = None
    stdout: str = ""
    stderr: str = ""
    limits: dict = field(default_factory=dict)
    returncode: int | None = None
    rejected_lines: int = 0
    review: list[str] = field(default_factory=list)  # "needs review" notes (file:line: what); never scored
    refused: list[str] = field(default_factory=list)  # why the source was not run: its lines outside the allowlist

    @property
    def score(self) -> int:
        return sum(check.points for check in self.checks)

    @property
    def max_score(self) -> int:
        return sum(check.max_points for check in self.checks)

    @property
    def full_marks(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)


def _points(n: int) -> str:
    return f"{n} point" if n == 1 else f"{n} points"


def _indent(text: str, prefix: str = "  ") -> list[str]:
    return [prefix + line if line else "" for line in text.splitlines()]


HIDDEN_NOTE = "This check is hidden: its details are not shown."


def verdict_line(check: CheckResult, *, color: bool = False) -> str:
    """`PASS name (N points)` or `FAIL name (N points)`, the verdict green or red with `color`."""
    verdict = "PASS" if check.passed else "FAIL"
    if color:
        verdict = click.style(verdict, fg="green" if check.passed else "red", bold=True)
    return f"{verdict} {check.name} ({_points(check.max_points)})"


def explain(check: CheckResult, *, replay: str | None = None) -> list[str]:
    """A failed check's details for the student: the guarantee, what went wrong, how to replay, the hint.

    A hidden check shows its guarantee only.
    """
    lines = [f"Expected: {check.doc}"] if check.doc else []
    if check.hidden:
        return lines + [HIDDEN_NOTE]
    if _not_written(check):  # code still to write: no schedule to replay, and a hint would give the answer away
        return lines + [line for line in check.message.splitlines() if not line.startswith("Replay:")]
    if check.message:
        lines += check.message.splitlines()
    if check.seed is not None and replay and "Replay:" not in check.message:
        lines.append(f"Replay: {replay} --seed {check.seed} -k {check.name}")
    if check.hint:
        lines.append(f"Hint: {check.hint}")
    return lines


def format_terminal(report: Report, *, replay: str | None = None, verdicts: bool = True, color: bool = False) -> str:
    """The student's report: one verdict line per check, then each failure in full, then `Score: x/y`.

    `replay` is the command that regrades this file (e.g. `grader test counter`); with it, a failure
    found by a schedule seed gets a `Replay:` line unless its message already has one. `verdicts=False`
    leaves out the verdict lines (already printed one by one while the checks ran).
    """
    lines = [verdict_line(check, color=color) for check in report.checks] if verdicts else []
    if report.import_error:
        lines += ["", "Could not import the submission:", *_indent(report.import_error)]
    reason = _shared_reason(report)
    if report.refused:
        reason = "Not run: the grader does not run a file that uses what a submission may not use"
        lines += ["", f"{reason} (README.md, Allowed, says what this problem allows). Change these lines and "
                  "grade again:", *_indent("\n".join(report.refused)), "No check could run, so each one fails."]
    elif reason is not None:  # said once: the same reason for every check, and no check's hint fits it
        after = ("Every check fails until then." if reason.startswith("Not written yet")
                 else "No check could run, so each one fails.")
        lines += ([] if report.import_error else ["", reason]) + [after]
    for check in report.checks if reason is None else ():
        if not check.passed:
            header = f"FAIL {report.problem} › {check.name} ({_points(check.max_points)})"
            lines += ["", click.style(header, fg="red", bold=True) if color else header]
            lines += _indent("\n".join(explain(check, replay=replay)))
    if report.rejected_lines:
        lines.append(f"Note: ignored {report.rejected_lines} result line(s) that did not come from the grader.")
    if report.review:
        lines += ["Needs review (the score is not affected):", *_indent("\n".join(report.review))]
    isolation = report.limits.get("sandbox", {}).get("summary") if isinstance(report.limits, dict) else None
    if isolation:
        lines.append(f"Isolation: {isolation}")
    lines.append(f"Score: {report.score}/{report.max_score}")
    return "\n".join(lines)


def _shared_reason(report: Report) -> str | None:
    """The one reason every check failed for, when the file was not run at all (it does not import, the grader
    refused it, there is no file): "Not run: ..." or "Not graded: ...", else None."""
    if not report.checks or any(check.passed for check in report.checks):
        return None
    if all(_not_written(check) for check in report.checks):
        first = report.checks[0].message.splitlines()[0]
        return f"Not written yet: {first}. Write what README.md asks for, then grade again."
    messages = {check.message for check in report.checks}
    if len(messages) != 1:
        return None
    message = messages.pop()
    if report.import_error and message.startswith("not run: "):
        return "" if "\n" not in message else None
    if message.startswith(("not run: ", "not graded: ")) and "\n" not in message:
        return message[:1].upper() + message[1:]
    return None


def _not_written(check: CheckResult) -> bool:
    """Whether the check failed on a NotImplementedError: the stub's code, not a bug (no hint fits it)."""
    return "NotImplementedError" in check.message.partition("\n")[0] or (
        "NotImplementedError" in check.message and "raised in" in check.message.partition("\n")[2][:200])


def format_summary(reports: list[Report], not_started: tuple[str, ...] = ()) -> str:
    """A table of problems and scores, with a total line; the problems in `not_started` (grader test --all) are
    listed as such, and the total says that it counts the started ones only."""
    rows = [(r.problem, f"{r.score}/{r.max_score}") for r in reports] + [(slug, "not started") for slug in not_started]
    total = f"{sum(r.score for r in reports)}/{sum(r.max_score for r in reports)}"
    rows.append((f"total of the {len(reports)} started" if not_started else "total", total))
    width = max(len(name) for name, _ in rows + [("problem", "")])
    score_width = max(len(score) for _, score in rows + [("", "score")])
    lines = [f"{'problem':<{width}}  {'score':>{score_width}}"]
    lines += [f"{name:<{width}}  {score:>{score_width}}" for name, score in rows]
    return "\n".join(lines)


def to_json(report: Report) -> dict:
    """A JSON-ready dict: `problem`, `score`, `max_score`, `checks` (name, points, max_points, passed, message...)."""
    checks = []
    for check in report.checks:
        item = asdict(check)
        item["points"] = check.points
        checks.append(item)
    return {
        "problem": report.problem,
        "impl": report.impl,
        "score": report.score,
        "max_score": report.max_score,
        "checks": checks,
        "import_error": report.import_error,
        "limits": report.limits,
        "returncode": report.returncode,
        "rejected_lines": report.rejected_lines,
        "review": report.review,
        "refused": report.refused,
        "stdout": report.stdout,
        "stderr": report.stderr,
    }


def from_json(data: dict) -> Report:
    """The Report that to_json() turned into `data` (for reports read back from disk)."""
    fields = {name: data[name] for name in
              ("problem", "impl", "import_error", "limits", "returncode", "rejected_lines", "stdout", "stderr")}
    checks = [CheckResult(**{k: v for k, v in item.items() if k != "points"}) for item in data["checks"]]
    return Report(checks=checks, review=data.get("review", []), refused=data.get("refused", []), **fields)


def format_json(report: Report) -> str:
    return json.dumps(to_json(report), indent=2)


def status(report: Report, check: CheckResult) -> str:
    """"passed"; "failed" (the check ran and its guarantee did not hold, a time limit included); or "error":
    no verdict, because the file did not import or was not run (no file, a forbidden module, a void run), or
    the test process crashed or was killed before the check sent its result, or the check did not run to
    its end."""
    if check.passed:
        return "passed"
    if report.import_error is not None or check.duration is None or check.message.startswith("the check did not run"):
        return "error"
    return "failed"


def not_gradable(report: Report) -> str | None:
    """Why no code of the submission could run at all (it does not import, there is no file, the grader
    refused it), or None when it was graded. A crash or a hang during the checks is graded: it is the
    submission's own doing."""
    if not report.checks:
        return None
    if report.import_error is not None:
        return f"{report.problem}: could not import the submission: {report.import_error}"
    if report.returncode is None and all(c.duration is None and not c.passed for c in report.checks):
        return f"{report.problem}: {report.checks[0].message.splitlines()[0]}" if report.checks[0].message else None
    return None


def _first_line(check: CheckResult) -> str:
    if check.hidden:
        return HIDDEN_NOTE
    return check.message.splitlines()[0] if check.message else "failed"


def format_junit(reports: list[Report], *, replay=None) -> str:
    """JUnit XML valid against Jenkins' junit-10.xsd: one <testsuite> per problem, one <testcase> per check,
    a <failure> for a check that failed and an <error> for one with no verdict (see status()). Points are
    <properties> of the suite (`score`, `max_score`, and `<check>.points` and `<check>.max_points` for each
    check), since that schema allows none in a <testcase>.

    `replay(report)` gives the command that regrades a report's file, for Replay: lines.
    """
    counts = lambda checks, kind: str(sum(status(r, c) == kind for r, c in checks))  # noqa: E731
    every = [(r, c) for r in reports for c in r.checks]
    seconds = lambda checks: f"{sum(c.duration or 0.0 for _, c in checks):.3f}"  # noqa: E731
    suites = ET.Element("testsuites", name="grader", tests=str(len(every)), failures=counts(every, "failed"),
                        errors=counts(every, "error"), time=seconds(every))
    for report in reports:
        mine = [(report, c) for c in report.checks]
        suite = ET.SubElement(suites, "testsuite", name=report.problem, tests=str(len(mine)),
                              failures=counts(mine, "failed"), errors=counts(mine, "error"), skipped="0",
                              time=seconds(mine))
        properties = ET.SubElement(suite, "properties")
        pairs = [("score", report.score), ("max_score", report.max_score)]
        for check in report.checks:
            pairs += [(f"{check.name}.points", check.points), (f"{check.name}.max_points", check.max_points)]
        isolation = report.limits.get("sandbox", {}).get("summary") if isinstance(report.limits, dict) else None
        pairs += [("isolation", isolation)] if isolation else []
        properties.extend(ET.Element("property", name=name, value=str(value)) for name, value in pairs)
        for check in report.checks:
            case = ET.SubElement(suite, "testcase", classname=report.problem, name=check.name,
                                 time=f"{check.duration or 0.0:.3f}")
            kind = status(report, check)
            if kind != "passed":
                text = "\n".join(explain(check, replay=replay(report) if replay else None))
                ET.SubElement(case, "failure" if kind == "failed" else "error", message=_first_line(check)).text = text
        if report.import_error:
            ET.SubElement(suite, "system-err").text = f"Could not import the submission:\n{report.import_error}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode")


# How Gradescope shows a check marked hidden, the instructor's choice (grader export gradescope --hidden-visibility):
# "after_published": once the instructor publishes the grades; "hidden": never. Either way its details are withheld.
HIDDEN_VISIBILITY = ("after_published", "hidden")


def _summary(reports: list[Report], notes=()) -> list[str]:
    """The overall lines of a platform's results: each problem's score, import errors, notes, the isolation."""
    summary = [f"{r.problem}: {r.score}/{r.max_score}" for r in reports]
    summary += [f"{r.problem}: could not import the submission: {r.import_error}" for r in reports if r.import_error]
    summary += notes
    isolation = sorted({r.limits["sandbox"]["summary"] for r in reports
                        if isinstance(r.limits, dict) and "summary" in r.limits.get("sandbox", {})})
    return summary + ([f"Isolation: {', '.join(isolation)}"] if isolation else [])


def _feedback(report: Report, check: CheckResult, replay) -> str:
    """A check's text for a platform: `Passed: guarantee`, or explain()'s lines."""
    if check.passed:
        return f"Passed: {check.doc}" if check.doc else "Passed"
    return "\n".join(explain(check, replay=replay(report) if replay else None))


def to_gradescope(reports: list[Report], *, replay=None, notes=(), hidden_visibility: str = "after_published") -> dict:
    """Gradescope's results.json: one test per check (`problem › check`), all or nothing. A check marked
    hidden has the visibility `hidden_visibility` (one of HIDDEN_VISIBILITY), every other check is visible.
    Every text is plain text (output_format, test_output_format and test_name_format "text"), never HTML.

    `replay(report)` gives the command that regrades a report's file, for Replay: lines; `notes` are lines
    added to the overall output (e.g. the files of the submission that were ignored).
    """
    if hidden_visibility not in HIDDEN_VISIBILITY:
        raise ValueError(f"hidden_visibility must be one of {HIDDEN_VISIBILITY}, not {hidden_visibility!r}")
    tests = []
    for report in reports:
        for check in report.checks:
            tests.append({
                "name": f"{report.problem} › {check.name}",
                "score": check.points,
                "max_score": check.max_points,
                "status": "passed" if check.passed else "failed",
                "output": _feedback(report, check, replay),
                "visibility": hidden_visibility if check.hidden else "visible",
            })
    seconds = sum(c.duration or 0.0 for r in reports for c in r.checks)
    return {
        "score": sum(r.score for r in reports),
        "execution_time": round(seconds),
        "output": "\n".join(_summary(reports, notes)),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "tests": tests,
    }


def format_gradescope(reports: list[Report], *, replay=None, notes=(), hidden_visibility: str = "after_published") -> str:
    return json.dumps(to_gradescope(reports, replay=replay, notes=notes, hidden_visibility=hidden_visibility),
                      indent=2, ensure_ascii=False)


def to_prairielearn(reports: list[Report], *, replay=None, notes=()) -> dict:
    """PrairieLearn's external grader results.json: `score` from 0 to 1 (points over the maximum), one test per
    check with `points`, `max_points`, a one-line `message` and the details in `output`. `gradable` is false only
    when no code of any report could run (not_gradable(): no file, an import error, a file the grader refused),
    so that PrairieLearn takes no attempt for it; the reasons are its `format_errors`."""
    tests = []
    for report in reports:
        for check in report.checks:
            test = {"name": f"{report.problem} › {check.name}", "description": check.doc,
                    "points": check.points, "max_points": check.max_points,
                    "message": "passed" if check.passed else _first_line(check)}
            if not check.passed:
                test["output"] = _feedback(report, check, replay)
            tests.append(test)
    score, most = sum(r.score for r in reports), sum(r.max_score for r in reports)
    results = {"gradable": True, "score": score / most if most else 0.0, "message": "\n".join(_summary(reports, notes)),
               "tests": tests}
    reasons = [not_gradable(r) for r in reports]
    if reports and all(reasons):
        results = {"gradable": False, "format_errors": reasons, **{k: v for k, v in results.items() if k != "gradable"}}
        del results["score"]
    return results


def format_prairielearn(reports: list[Report], *, replay=None, notes=()) -> str:
    return json.dumps(to_prairielearn(reports, replay=replay, notes=notes), indent=2, ensure_ascii=False)


EXERCISM_MESSAGE_LIMIT = 65535  # characters of the top-level message (the interface's limit)


def to_exercism(reports: list[Report], *, replay=None, notes=()) -> dict:
    """Exercism's test runner results.json, version 2: `status` pass, fail, or error when no check ran to a
    verdict (every check's status() is "error": the file does not import, or the test process died at once;
    the top-level `message` then says why). One test per check, in the checks file's order, with `status`
    pass/fail/error and the details as `message`. `notes` are not shown: Exercism's input folder always holds
    files of its own (README.md, HELP.md), which the note on ignored files would list to no one's use."""
    tests = []
    for report in reports:
        for check in report.checks:
            kind = {"passed": "pass", "failed": "fail", "error": "error"}[status(report, check)]
            test = {"name": check.name if len(reports) == 1 else f"{report.problem} › {check.name}", "status": kind}
            if kind != "pass":
                test["message"] = _feedback(report, check, replay)
            tests.append(test)
    every = [t["status"] for t in tests]
    overall = "pass" if every and all(s == "pass" for s in every) else "error" if every and all(
        s == "error" for s in every) else "fail"
    results = {"version": 2, "status": overall}
    if overall == "error":
        reasons = [not_gradable(r) or next(c.message for c in r.checks if not c.passed) for r in reports if r.checks]
        results["message"] = "\n".join(reasons)[:EXERCISM_MESSAGE_LIMIT]
    results["tests"] = tests
    return results


def format_exercism(reports: list[Report], *, replay=None, notes=()) -> str:
    return json.dumps(to_exercism(reports, replay=replay, notes=notes), indent=2, ensure_ascii=False)


def ignored_note(ignored: list[str]) -> str:
    """The line that tells a student which of their files were not graded."""
    return "Ignored (only the problem files <slug>.py are graded): " + ", ".join(ignored)


@dataclass
class Soundness:
    """One row of `grader check`: is the problem's reference, stub or a bug graded as it must be?"""

    problem: str
    subject: str  # "reference", "stub" or "bug <name>"
    ok: bool
    detail: str


def soundness(problem, reference, stub, bugs, unfinished=()) -> list[Soundness]:
    """Rows for one problem given the reports of its reference, stub, and {bug name: report, or why the
    bug could not be graded (a patch that no longer applies)}.

    Sound means: the reference gets full marks; the stub fails every check; there is at least one bug
    and each fails every check its `Caught by:` line names; no file is in `unfinished` (files that
    still hold a TODO of the template). `reference` is None when the problem has no reference file.
    """
    rows = []
    if reference is None:
        rows.append(Soundness(problem.slug, "reference", False, f"missing solutions/{problem.slug}/{problem.slug}.py"))
    else:
        failed = [c.name for c in reference.checks if not c.passed]
        detail = f"full marks {reference.score}/{reference.max_score}"
        if failed:
            detail = f"{reference.score}/{reference.max_score}, fails " + ", ".join(failed)
            first = next(c for c in reference.checks if not c.passed)
            detail += f": {first.message.splitlines()[0] if first.message else 'no message'}"
        rows.append(Soundness(problem.slug, "reference", not failed, detail))
    passed = [c.name for c in stub.checks if c.passed]
    detail = f"passes {', '.join(passed)}" if passed else f"fails all {len(stub.checks)} checks"
    rows.append(Soundness(problem.slug, "stub", not passed, detail))
    if not problem.bugs:
        rows.append(Soundness(problem.slug, "bugs", False,
                              f"no bug variants: add solutions/{problem.slug}/bugs/<what_is_wrong>.patch"))
    for bug in problem.bugs:
        if isinstance(bugs[bug.name], str):
            rows.append(Soundness(problem.slug, f"bug {bug.name}", False, bugs[bug.name]))
            continue
        results = {c.name: c for c in bugs[bug.name].checks}
        missed = [name for name in bug.caught_by if results[name].passed]
        if missed:
            detail = "missed: passes " + ", ".join(missed)
            if all(c.passed for c in results.values()):
                detail += " (no check catches this bug)"
        else:
            detail = "caught by " + ", ".join(bug.caught_by)
        rows.append(Soundness(problem.slug, f"bug {bug.name}", not missed, detail))
    if unfinished:
        rows.append(Soundness(problem.slug, "files", False, "TODO left in " + ", ".join(unfinished)))
    return rows


def format_soundness(rows: list[Soundness]) -> str:
    """A table: problem, subject, ok/UNSOUND, what happened; then a summary line."""
    header = ("problem", "graded", "verdict", "detail")
    table = [header] + [(r.problem, r.subject, "ok" if r.ok else "UNSOUND", r.detail) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3] for row in table]
    bad = sum(not r.ok for r in rows)
    problems = len({r.problem for r in rows})
    lines.append(f"{problems} problem(s): " + ("all sound" if not bad else f"{bad} unsound row(s)"))
    return "\n".join(lines)


_MUTANT_COLUMNS = ("made", "killed", "equivalent", "survived", "score", "time")


def mutant_header(width: int) -> str:
    """The header of `grader check --mutants`'s table; width is the problem column's."""
    return f"{'problem':<{width}}  " + "  ".join(f"{name:>{max(len(name), 6)}}" for name in _MUTANT_COLUMNS)


def mutant_row(run, width: int) -> str:
    """One problem's row: mutants made, killed, listed as equivalent, survived; the score; the wall time.

    The score is killed / (made - equivalent). `run` is a grader.mutants.Run.
    """
    if run.error:
        return f"{run.problem.slug:<{width}}  {run.error}"
    made, equivalent = len(run.outcomes), run.count("equivalent")
    graded = made - equivalent
    score = f"{100 * run.count('killed') / graded:.0f}%" if graded else "-"
    cells = (made, run.count("killed"), equivalent, run.count("survived"), score, f"{run.seconds:.1f} s")
    return f"{run.problem.slug:<{width}}  " + "  ".join(
        f"{cell:>{max(len(name), 6)}}" for cell, name in zip(cells, _MUTANT_COLUMNS))


def format_mutant_details(runs) -> str:
    """Each survivor with its diff and the command that grades it, each stale equivalence entry, a summary."""
    lines = []
    for run in runs:
        slug = run.problem.slug
        listing = f"solutions/{slug}/equivalent_mutants.toml"
        for outcome in run.survivors:
            mutant = outcome.mutant
            lines += ["", f"SURVIVED {slug} {mutant.id}: {mutant.what}", *_indent(mutant.diff.rstrip("\n")),
                      f"  Grade it: grader test {slug} --mutant {mutant.id}",
                      f"  Kill it with a stronger check, or, if no program can tell it apart from the reference, "
                      f"list it with a one-line reason in {listing}"]
        for mutant_id in run.stale:
            lines += ["", f"STALE {slug}: {listing} lists {mutant_id}, a mutant the reference no longer makes"]
    made = sum(len(r.outcomes) for r in runs)
    counts = {verdict: sum(r.count(verdict) for r in runs) for verdict in ("killed", "equivalent", "survived")}
    summary = (f"{len(runs)} problem(s): {made} mutant(s), {counts['killed']} killed, {counts['equivalent']} "
               f"listed as equivalent, {counts['survived']} survived")
    errors = sum(bool(r.error) for r in runs)
    if errors:
        summary += f"; {errors} problem(s) not graded"
    if not counts["survived"] and not errors:
        summary += ": every mutant killed or explained"
    return "\n".join(lines + [summary])


def format_mutants(runs) -> str:
    """The whole report of `grader check --mutants`: the table, then format_mutant_details()."""
    width = max([len("problem")] + [len(r.problem.slug) for r in runs])
    table = [mutant_header(width)] + [mutant_row(run, width) for run in runs]
    return "\n".join(table) + "\n" + format_mutant_details(runs)
