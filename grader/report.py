"""Scores and every output format: the terminal text a student reads, JSON, and the soundness table."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

__all__ = [
    "CheckResult", "Report", "format_terminal", "to_json", "format_json", "Soundness", "soundness", "format_soundness",
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


def format_terminal(report: Report, *, replay: str | None = None) -> str:
    """Per check `PASS`/`FAIL name (N points)`, failures explained below, then `Score: x/y`.

    `replay` is the command that regrades this file (e.g. `grader test counter`); with it, a failure
    found by a schedule seed gets a `Replay:` line unless its message already has one.
    """
    lines = []
    if report.import_error:
        lines += ["Could not import the submission:", *_indent(report.import_error), ""]
    for check in report.checks:
        verdict = "PASS" if check.passed else "FAIL"
        lines.append(f"{verdict} {check.name} ({_points(check.max_points)})")
        if check.passed:
            continue
        if check.doc:
            lines.append(f"  Expected: {check.doc}")
        if check.message:
            lines += _indent(check.message)
        if check.seed is not None and replay and "Replay:" not in check.message:
            lines.append(f"  Replay: {replay} --seed {check.seed} -k {check.name}")
        if check.hint:
            lines.append(f"  Hint: {check.hint}")
    if report.rejected_lines:
        lines.append(f"Note: ignored {report.rejected_lines} result line(s) that did not come from the grader.")
    if report.review:
        lines += ["Needs review (the score is not affected):", *_indent("\n".join(report.review))]
    lines.append(f"Score: {report.score}/{report.max_score}")
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
        "stdout": report.stdout,
        "stderr": report.stderr,
    }


def format_json(report: Report) -> str:
    return json.dumps(to_json(report), indent=2)


@dataclass
class Soundness:
    """One row of `grader check`: is the problem's reference, stub or a bug graded as it must be?"""

    problem: str
    subject: str  # "reference", "stub" or "bug <name>"
    ok: bool
    detail: str


def soundness(problem, reference, stub, bugs) -> list[Soundness]:
    """Rows for one problem given the reports of its reference, stub, and {bug name: report}.

    Sound means: the reference gets full marks; the stub fails every check; each bug fails every
    check its `Caught by:` line names. `reference` is None when the problem has no reference file.
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
    for bug in problem.bugs:
        results = {c.name: c for c in bugs[bug.name].checks}
        missed = [name for name in bug.caught_by if results[name].passed]
        if missed:
            detail = "missed: passes " + ", ".join(missed)
        else:
            detail = "caught by " + ", ".join(bug.caught_by)
        rows.append(Soundness(problem.slug, f"bug {bug.name}", not missed, detail))
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
