"""Grade a class: every student's folder against every problem, in parallel, into a gradebook and reports.

A submissions folder holds one folder per student (any name), each holding the student's problem files
(`<slug>.py`, at the top or in one subfolder). Only those files are graded; everything else in the
folder is listed as ignored. Each file is read once, here; a grading sees only that copy of its own
student's file (grader.sandbox), and only this process writes reports and the gradebook. Each student's
reports are written as soon as one of their gradings ends, so an interrupted run keeps what was graded,
and `resume=True` grades only what is missing or changed. A stored report is trusted only if its HMAC
(keyed by `<out>/.grader-key`, which no grading can see) says this grader wrote it.

A class too big for one machine is graded in shards: `shard=(i, n)` grades the i-th of n deterministic shares
of the gradings (the k-th grading, students by name then problems, belongs to shard k mod n + 1) and writes
its reports and a signed manifest, shard.json, instead of a gradebook; grader.merge combines the shards.
"""
from __future__ import annotations

import ast
import csv
import hashlib
import hmac
import io
import json
import os
import secrets
import signal
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from grader import catalog, gradebook, report, runner, sandbox
from grader.catalog import GraderError, Problem
from grader.report import CheckResult, Report

__all__ = ["Submission", "students", "scan", "started", "missing_report", "Interrupted", "Gradebook",
           "grade_class", "gradebook_csv", "parse_shard", "student_text", "FORMATS", "KEY_FILE", "MANIFEST"]

BASE_SEED = 0  # every grading explores the same schedules, so a verdict is the same on every run
MAX_IGNORED = 50  # ignored files listed in a student's report
KEY_FILE = ".grader-key"  # in the output folder: the key of the reports' HMACs
MANIFEST = "shard.json"  # in a shard's output folder: which share of the gradings it holds (signed)
_SKIPPED_DIRS = {"__pycache__", "__MACOSX", "node_modules"}


@dataclass
class Submission:
    """One student's folder: the file found for each problem, and what was left out and why."""

    student: str
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # slug -> why it has no file
    ignored: list[str] = field(default_factory=list)


def _walk(folder: Path):
    """Every file under `folder`, sorted, skipping hidden and tool folders (.git, __pycache__, ...)."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _pick(folder: Path, files: list[Path], slug: str) -> tuple[Path | None, str]:
    """The student's `<slug>.py` among `files` of `folder` (at the top, else the only one), or None and why not."""
    name = f"{slug}.py"
    matches = [path for path in files if path.name == name]
    top = folder / name
    if top in matches:
        matches = [top]
    if not matches:
        return None, f"no file {name} in the submission"
    if len(matches) > 1:
        where = ", ".join(path.relative_to(folder).as_posix() for path in matches)
        return None, f"{len(matches)} files named {name} ({where}); keep exactly one"
    if matches[0].is_symlink():
        return None, f"{matches[0].relative_to(folder).as_posix()} is a symbolic link, not a file"
    return matches[0], ""


def scan(folder: Path, student: str, slugs: list[str]) -> Submission:
    """Find each problem's file in one student's folder and list the files that are ignored."""
    submission = Submission(student, folder)
    files = list(_walk(folder))
    for slug in slugs:
        path, why = _pick(folder, files, slug)
        if path is None:
            submission.notes[slug] = why
        else:
            submission.files[slug] = path
    taken = set(submission.files.values())
    for path in files:
        if path in taken:
            continue
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".py" and path.stem in sys.stdlib_module_names:
            rel += f" (named like the standard module {path.stem})"
        submission.ignored.append(rel)
    return submission


def students(submissions_dir: Path) -> list[tuple[str, Path]]:
    """(name, folder) of each student folder in `submissions_dir`, sorted by name."""
    if not submissions_dir.is_dir():
        raise GraderError(f"no such folder: {submissions_dir}")
    found = sorted((p.name, p) for p in submissions_dir.iterdir()
                   if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p.name not in _SKIPPED_DIRS)
    if not found:
        raise GraderError(f"no student folders in {submissions_dir} (expected one folder per student)")
    return found


def started(path: Path) -> bool:
    """Whether a working copy is no longer the untouched stub.

    In a stub, each top-level function or class whose code raises NotImplementedError does only that
    (code that does something else is given by the problem, like a helper class). The student has
    started once one of those raises is gone.
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return True  # a broken file is work in progress
    stubs = 0
    for unit in tree.body:
        functions = [n for n in ast.walk(unit) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        raising = [f for f in functions if _only_raises_not_implemented(f)]
        if raising and len(raising) < len(functions):
            return True
        stubs += bool(raising)
    return stubs == 0


def _only_raises_not_implemented(function) -> bool:
    body = function.body[1:] if ast.get_docstring(function) is not None else function.body
    return (len(body) == 1 and isinstance(body[0], ast.Raise) and body[0].exc is not None
            and "NotImplementedError" in ast.unparse(body[0].exc))


def missing_report(problem: Problem, why: str) -> Report:
    """The report of a problem with no file to grade: every check fails, saying why."""
    checks = [CheckResult(name=c.name, max_points=c.points, passed=False, message=f"not graded: {why}", doc=c.doc,
                          hidden=c.hidden) for c in problem.checks]
    return Report(problem=problem.slug, impl="", checks=checks)


def student_text(reports: list[Report], notes: list[str]) -> str:
    """A student's .txt report: the notes, then each problem under its heading (`== counter ==`), as `grader
    test` prints it, then the table of scores with the total."""
    texts = [f"== {r.problem} ==\n" + report.format_terminal(r, replay=f"grader test {r.problem}") for r in reports]
    return "\n\n".join(notes + texts + [report.format_summary(reports)]) + "\n"


# --format of grader grade -> (file suffix, render(reports, notes)); the JSON report is always written.
FORMATS = {
    "terminal": (".txt", student_text),
    "json": (None, None),
    "junit": (".xml", lambda reports, notes: report.format_junit(reports) + "\n"),
    "gradescope": (".results.json", lambda reports, notes: report.format_gradescope(reports, notes=notes) + "\n"),
    "prairielearn": (".prairielearn.json", lambda reports, notes: report.format_prairielearn(reports, notes=notes) + "\n"),
    "exercism": (".exercism.json", lambda reports, notes: report.format_exercism(reports, notes=notes) + "\n"),
}


class Interrupted(Exception):
    """Grading stopped by Ctrl-C; what was graded is written. `gradebook` is the partial gradebook (its `ran` and
    `to_run` say how many gradings of this run ended and were to run)."""

    def __init__(self, gradebook):
        super().__init__("interrupted")
        self.gradebook = gradebook


@dataclass
class Gradebook:
    """Every student's report for every problem (None: not graded yet), and the files it was written to."""

    problems: list[Problem]
    submissions: list[Submission]
    reports: dict[tuple[str, str], Report | None]
    out: Path
    reused: int = 0
    sources: dict[tuple[str, str], bytes] = field(default_factory=dict)  # each file as read, once
    key: bytes = b""
    to_run: int = 0
    ran: int = 0
    tampered: list[str] = field(default_factory=list)  # students whose stored report was not this grader's
    shard: tuple[int, int] | None = None  # (i, n): this run grades the i-th of n shares
    owned: set | None = None  # the (student, slug) gradings of this shard; None: every one
    order: dict = field(default_factory=dict)  # (student, slug) -> its place among every grading of the class

    def score(self, student: str, slug: str) -> int | None:
        graded = self.reports.get((student, slug))
        return None if graded is None else graded.score


def _write(path: Path, text: str) -> None:
    """Write atomically: a reader (or a resumed run) sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _ignored(submission: Submission) -> list[str]:
    """The ignored files as a report lists them: at most MAX_IGNORED, then how many more."""
    ignored = submission.ignored[:MAX_IGNORED]
    if len(submission.ignored) > MAX_IGNORED:
        ignored.append(f"... and {len(submission.ignored) - MAX_IGNORED} more")
    return ignored


def notes_of(ignored: list[str]) -> list[str]:
    """The notes above a student's report, from the ignored files of their JSON report."""
    return [report.ignored_note(ignored)] if ignored else []


def _student_json(book: Gradebook, submission: Submission) -> dict:
    problems = {}
    for problem in book.problems:
        graded = book.reports[(submission.student, problem.slug)]
        path = submission.files.get(problem.slug)
        source = book.sources.get((submission.student, problem.slug))
        entry = {"file": path.relative_to(submission.folder).as_posix() if path else None,
                 "sha256": hashlib.sha256(source).hexdigest() if source is not None else None,
                 "note": submission.notes.get(problem.slug, "")}
        if graded is not None:
            entry["report"] = report.to_json(graded)
        problems[problem.slug] = entry
    ignored = _ignored(submission)
    data = {
        "student": submission.student,
        "base_seed": BASE_SEED,
        "score": sum(r.score for r in (book.reports[(submission.student, p.slug)] for p in book.problems) if r),
        "max_score": sum(p.max_score for p in book.problems),
        "ignored": ignored,
        "ignored_note": "Only the problem files (<slug>.py) are graded; every other file is ignored.",
        "problems": problems,
    }
    return {**data, "hmac": _mac(book.key, data)}


def _mac(key: bytes, data: dict) -> str:
    """The HMAC-SHA256 of a report's content (all of it but the "hmac" field), keyed by the run's key."""
    body = json.dumps({k: v for k, v in data.items() if k != "hmac"}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def read_key(path: Path, advice: str = "") -> bytes:
    """A report key from its file (64 hex digits or more). Raises GraderError, with `advice` after the reason."""
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) < 32:
        raise GraderError(f"{path} is not a report key{advice}")
    return key


def _key(out: Path) -> bytes:
    """The output folder's report key: made once (readable by this user only), then read back."""
    path = out / KEY_FILE
    out.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key(path, " (delete it to start afresh)")
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as file:
        file.write(key.hex() + "\n")
    return key


def _save_student(book: Gradebook, submission: Submission, fmt: str) -> None:
    reports_dir = book.out / "reports"
    _write(reports_dir / f"{submission.student}.json", json.dumps(_student_json(book, submission), indent=2) + "\n")
    suffix, render = FORMATS[fmt]
    graded = [book.reports[(submission.student, p.slug)] for p in book.problems]
    if render and book.shard is None and all(r is not None for r in graded):  # a shard's are merge's to write
        _write(reports_dir / f"{submission.student}{suffix}", render(graded, notes_of(_ignored(submission))))


def write_gradebook(out: Path, problems: list[tuple[str, int]], scores: list[tuple[str, list[int | None]]]) -> None:
    """gradebook.csv and gradebook.ods of `out` (grader.gradebook says why both)."""
    table = gradebook.rows(problems, scores)
    _write(out / "gradebook.csv", gradebook.to_csv(table))
    path = out / "gradebook.ods"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(gradebook.to_ods(table))
    os.replace(tmp, path)


def _save_gradebook(book: Gradebook, fmt: str) -> None:
    """The gradebook; for a shard, its manifest instead."""
    if book.shard is None:
        write_gradebook(book.out, [(p.slug, p.max_score) for p in book.problems],
                        [(s.student, [book.score(s.student, p.slug) for p in book.problems]) for s in book.submissions])
        return
    data = {"shard": f"{book.shard[0]}/{book.shard[1]}", "format": fmt, "base_seed": BASE_SEED,
            "problems": [[p.slug, p.max_score] for p in book.problems],
            "students": [s.student for s in book.submissions],
            "gradings": sorted(book.owned, key=lambda pair: book.order[pair])}
    _write(book.out / MANIFEST, json.dumps({**data, "hmac": _mac(book.key, data)}, indent=2) + "\n")


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` as (i, n), 1 <= i <= n. Raises GraderError."""
    i, sep, n = text.partition("/")
    if sep and i.isdigit() and n.isdigit() and 1 <= int(i) <= int(n):
        return int(i), int(n)
    raise GraderError(f"--shard must be I/N with 1 <= I <= N (e.g. 2/3), not {text!r}")


def _previous(book: Gradebook, submission: Submission) -> dict[str, Report]:
    """Reports of an earlier run for this student whose file is unchanged, by slug: only from a report file
    whose HMAC says this grader wrote it (else the student is listed in book.tampered and graded afresh)."""
    path = book.out / "reports" / f"{submission.student}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not hmac.compare_digest(str(data.get("hmac", "")), _mac(book.key, data)):
        book.tampered.append(submission.student)
        return {}
    try:
        kept = {}
        for slug, entry in data["problems"].items():
            source = book.sources.get((submission.student, slug))
            if "report" in entry and source is not None and entry["sha256"] == hashlib.sha256(source).hexdigest():
                kept[slug] = report.from_json(entry["report"])
        return kept
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def grade_class(submissions_dir: Path, slugs: list[str] | None, out: Path, *, jobs: int | None = None,
                resume: bool = False, fmt: str = "terminal", on_start=None, on_graded=None,
                allow_unsandboxed: bool = False, shard: tuple[int, int] | None = None) -> Gradebook:
    """Grade every student folder of `submissions_dir` on every problem in `slugs` (default: every problem
    that some student submitted), `jobs` gradings at a time, writing `out`/gradebook.csv and
    `out`/reports/<student>.json (plus one file in `fmt`) as gradings end.

    `on_start(total)` is called once with the number of gradings to run; `on_graded(student, slug, report)`
    after each. Ctrl-C (in the main thread) stops starting new gradings, waits for the running ones, writes
    the gradebook and raises Interrupted; a second Ctrl-C stops at once. With `resume`, reports of an earlier
    run whose file is unchanged are kept. Raises GraderError where the machine gives no OS sandbox, unless
    `allow_unsandboxed`. With `shard=(i, n)` only the i-th share of the gradings runs, and `out` gets the
    reports and shard.json, not a gradebook (see the module's docstring).
    """
    plan = sandbox.plan()
    if plan.level == "none" and not allow_unsandboxed:
        raise GraderError(f"no OS sandbox here ({plan.user}), and grader grade runs students' code only in one: "
                          "install bubblewrap (apt-get install bubblewrap) or run as root, or pass "
                          "--allow-unsandboxed to grade with time and memory limits only")
    found = students(Path(submissions_dir))
    base = catalog.root()
    if slugs:
        problems = [catalog.load(slug, base) for slug in dict.fromkeys(slugs)]
        subs = [scan(folder, name, [p.slug for p in problems]) for name, folder in found]
    else:  # every problem that some student handed in; a file no one handed in is ignored anyway
        known = catalog.slugs(base)
        subs = [scan(folder, name, known) for name, folder in found]
        submitted = [slug for slug in known if any(slug in sub.files for sub in subs)]
        if not submitted:
            raise GraderError(f"no student folder in {submissions_dir} holds a problem file "
                              f"(<slug>.py, one of: {', '.join(known)})")
        problems = [catalog.load(slug, base) for slug in submitted]
        for sub in subs:
            sub.notes = {slug: why for slug, why in sub.notes.items() if slug in submitted}
    book = Gradebook(problems, subs, {(s.student, p.slug): None for s in subs for p in problems}, Path(out),
                     shard=shard)
    book.key = _key(book.out)
    for sub in subs:
        for slug, path in sub.files.items():
            try:
                with open(path, "rb") as file:  # read once: what is graded is what is recorded
                    book.sources[(sub.student, slug)] = file.read(runner.MAX_SUBMISSION + 1)
            except OSError as exc:
                sub.notes[slug] = f"{path.name} could not be read ({exc.strerror or exc})"
        for slug in [slug for slug in sub.files if (sub.student, slug) not in book.sources]:
            del sub.files[slug]
    by_slug = {p.slug: p for p in problems}
    gradings = [(s.student, p.slug) for s in subs for p in problems if p.slug in s.files]
    book.order = {pair: k for k, pair in enumerate(gradings)}
    if shard is not None:
        book.owned = {pair for k, pair in enumerate(gradings) if k % shard[1] == shard[0] - 1}
    todo = []
    for sub in subs:
        kept = _previous(book, sub) if resume else {}
        book.reused += len(kept)
        for problem in problems:
            pair = (sub.student, problem.slug)
            if problem.slug not in sub.files:
                book.reports[pair] = missing_report(problem, sub.notes[problem.slug])
            elif book.owned is not None and pair not in book.owned:
                continue  # another shard's
            elif problem.slug in kept:
                book.reports[pair] = kept[problem.slug]
            else:
                todo.append((sub, problem.slug))
    for sub in subs:
        _save_student(book, sub, fmt)
    _save_gradebook(book, fmt)
    book.to_run = len(todo)
    if on_start:
        on_start(len(todo))

    def one(sub, slug):
        problem = by_slug[slug]
        return runner.grade(problem, sub.files[slug], source=book.sources[(sub.student, slug)], base_seed=BASE_SEED,
                            replay=f"grader test {slug}")

    stop = threading.Event()  # set by the first Ctrl-C; the loop below reads it
    handler = _on_ctrl_c(stop)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1))
    futures = {pool.submit(one, sub, slug): (sub, slug) for sub, slug in todo}
    pending = set(futures)  # submitted and not yet recorded
    try:
        while pending:
            if stop.is_set():
                for future in pending:
                    future.cancel()  # the running ones go on, and their reports are kept
                pending = {f for f in pending if not f.cancelled()}
            done, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: (futures[f][0].student, futures[f][1])):
                if not future.cancelled():
                    _record(book, fmt, *futures[future], future, on_graded)
                pending.discard(future)
    finally:
        handler.restore()
        pool.shutdown(wait=False, cancel_futures=True)
        _save_gradebook(book, fmt)
    if stop.is_set():
        raise Interrupted(book)
    return book


class _on_ctrl_c:
    """While grading: the first Ctrl-C sets `stop` (and nothing else happens where it lands); the next one
    interrupts as usual. Only in the main thread, where signal handlers live."""

    def __init__(self, stop: threading.Event):
        self.installed = threading.current_thread() is threading.main_thread()
        if self.installed:
            def handler(signum, frame):
                stop.set()
                signal.signal(signal.SIGINT, self.previous)
            self.previous = signal.getsignal(signal.SIGINT)
            if self.previous is None:  # set outside Python: Ctrl-C then interrupts as usual
                self.previous = signal.default_int_handler
            signal.signal(signal.SIGINT, handler)

    def restore(self) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)
            self.installed = False


def _record(book: Gradebook, fmt: str, sub: Submission, slug: str, future, on_graded) -> None:
    try:
        graded = future.result()
    except (GraderError, OSError) as exc:  # e.g. the file went away after the scan
        graded = missing_report(next(p for p in book.problems if p.slug == slug), str(exc))
    book.reports[(sub.student, slug)] = graded
    book.ran += 1
    _save_student(book, sub, fmt)
    if on_graded:
        on_graded(sub.student, slug, graded)


def gradebook_csv(book: Gradebook) -> str:
    """The gradebook as CSV: student, one column per problem, total; a `Points Possible` row first; an empty
    cell is a grading not done yet (grader.gradebook)."""
    return gradebook.to_csv(gradebook.rows(
        [(p.slug, p.max_score) for p in book.problems],
        [(s.student, [book.score(s.student, p.slug) for p in book.problems]) for s in book.submissions]))
