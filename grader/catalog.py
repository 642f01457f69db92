"""Find the problems and solutions of the repository and read them into `Problem` objects.

A problem is a folder `problems/<slug>/` (problem.toml, README.md, <slug>.py, test_<slug>.py) with its
reference and known-buggy variants in `solutions/<slug>/`. A bug variant is a patch of the reference
(`bugs/<name>.patch`, applied when it is graded) or a whole file (`bugs/<name>.py`). The checks file is
parsed, never imported: the grader's own process does not run problem or student code.
"""
from __future__ import annotations

import ast
import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader import patches
from grader.policy import Rules

__all__ = ["GraderError", "ProblemError", "Check", "Bug", "Problem", "root", "slugs", "load", "load_all"]


class GraderError(Exception):
    """An error the user can fix; its message is one line meant for them."""


class ProblemError(GraderError):
    """A problem folder that does not follow the problem format."""


@dataclass(frozen=True)
class Check:
    """One check: a `test_<name>` function in the checks file."""

    name: str
    points: int
    doc: str = ""
    hint: str | None = None
    hidden: bool = False  # graded, but not shipped to students; its failure shows name and guarantee only


@dataclass(frozen=True)
class Bug:
    """A known-buggy variant of the reference and the checks that must catch it.

    Either a patch of the reference, `solutions/<slug>/bugs/<name>.patch` (kind "patch"), or a whole
    file, `solutions/<slug>/bugs/<name>.py` (kind "file"). Grade `source()`, not `path`.
    """

    name: str
    path: Path  # the .patch or the .py file in bugs/
    description: str  # what is wrong, in one line
    caught_by: tuple[str, ...]
    patch: patches.Patch | None = field(default=None, repr=False)  # the parsed diff of a patch bug

    @property
    def kind(self) -> str:
        return "file" if self.patch is None else "patch"

    def source(self) -> bytes:
        """The bug's code: the file, or the reference with the patch applied.

        Raises ProblemError, naming the patch, the hunk and the reference's line, if the patch does not
        apply to the reference as it is now.
        """
        if self.patch is None:
            return self.path.read_bytes()
        slug = self.path.parent.parent.name
        shown, reference = f"solutions/{slug}/bugs/{self.path.name}", self.path.parent.parent / f"{slug}.py"
        if not reference.is_file():
            raise ProblemError(f"{shown}: no reference solutions/{slug}/{slug}.py to apply it to")
        try:
            text = reference.read_bytes().decode("utf-8")
            return patches.apply(self.patch, text, f"solutions/{slug}/{slug}.py").encode("utf-8")
        except UnicodeDecodeError:
            raise ProblemError(f"solutions/{slug}/{slug}.py: not UTF-8 text, so {shown} cannot apply") from None
        except patches.PatchError as exc:
            raise ProblemError(f"{shown}: {exc}") from None

    def write(self, folder: Path) -> Path:
        """Write `source()` to `folder/<slug>.py` (the name the grader grades it by) and return that path."""
        target = Path(folder) / f"{self.path.parent.parent.name}.py"
        data = self.source()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target


@dataclass(frozen=True)
class Problem:
    """Everything the grader knows about one problem."""

    slug: str
    title: str
    summary: str
    topics: tuple[str, ...]
    difficulty: int
    time_limit: float
    folder: Path
    checks: tuple[Check, ...]
    reference: Path | None
    bugs: tuple[Bug, ...]
    allowed_imports: tuple[str, ...] = ()  # modules or single names beyond grader.policy's default set
    forbidden: tuple[str, ...] = ()  # modules or names this problem's submissions may not use
    source_policy: str = "on"  # "off" only in the project's own tests of the OS sandbox

    @property
    def rules(self):
        """The source allowlist of this problem's submissions (grader.policy.Rules)."""
        return Rules.of(self.allowed_imports, self.forbidden, enforced=self.source_policy == "on")

    @property
    def readme(self) -> Path:
        return self.folder / "README.md"

    @property
    def stub(self) -> Path:
        return self.folder / f"{self.slug}.py"

    @property
    def checks_file(self) -> Path:
        return self.folder / f"test_{self.slug}.py"

    @property
    def max_score(self) -> int:
        return sum(check.points for check in self.checks)

    def check(self, name: str) -> Check:
        """The check called `name`; raises GraderError with a suggestion if there is none."""
        for check in self.checks:
            if check.name == name:
                return check
        names = [check.name for check in self.checks]
        raise GraderError(f"no check named {name!r} in {self.slug}.{_suggest(name, names)}")

    def bug(self, name: str) -> Bug:
        """The bug called `name`; raises GraderError with a suggestion if there is none."""
        for bug in self.bugs:
            if bug.name == name:
                return bug
        names = [bug.name for bug in self.bugs]
        raise GraderError(f"no bug named {name!r} for {self.slug}.{_suggest(name, names)}")


def root() -> Path:
    """The repository root: $GRADER_ROOT if set, else the folder that holds the grader package."""
    env = os.environ.get("GRADER_ROOT")
    return Path(env).resolve() if env else Path(__file__).resolve().parent.parent


def slugs(base: Path | None = None) -> list[str]:
    """Slugs of all problem folders (those holding a problem.toml), sorted."""
    problems = (base or root()) / "problems"
    if not problems.is_dir():
        raise GraderError(f"no problems/ folder in {problems.parent}; set GRADER_ROOT to the repository")
    return sorted(p.name for p in problems.iterdir() if (p / "problem.toml").is_file())


def load(slug: str, base: Path | None = None) -> Problem:
    """Load one problem. Raises GraderError for an unknown slug, ProblemError for a broken folder."""
    base = base or root()
    known = slugs(base)
    if slug not in known:
        raise GraderError(f"no problem named {slug!r}.{_suggest(slug, known)}")
    return _load(base, slug)


def load_all(base: Path | None = None) -> list[Problem]:
    """Load every problem of the repository, sorted by slug."""
    base = base or root()
    return [_load(base, slug) for slug in slugs(base)]


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f" Did you mean {close[0]!r}?"
    return f" Known: {', '.join(known)}." if known else ""


# problem.toml: key -> (check, what the value must be)
_KEYS = {
    "title": (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string"),
    "summary": (lambda v: isinstance(v, str) and v.strip() != "" and "\n" not in v, "a one-line string"),
    "topics": (lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v), "a list of strings"),
    "difficulty": (lambda v: type(v) is int and 1 <= v <= 3, "an integer from 1 to 3"),
    "time_limit": (lambda v: type(v) in (int, float) and v > 0, "a positive number of seconds"),
}
# optional keys: key -> (check, what the value must be, default)
_NAMES = (lambda v: isinstance(v, list) and all(isinstance(n, str) and _DOTTED.fullmatch(n) for n in v),
          "a list of dotted names (modules or module.name)")
_OPTIONAL = {
    "allowed_imports": (*_NAMES, []),
    "forbidden": (*_NAMES, []),
    "source_policy": (lambda v: v in ("on", "off"), '"on" or "off" (off: only for tests of the sandbox)', "on"),
}
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _load(base: Path, slug: str) -> Problem:
    folder = base / "problems" / slug
    meta = _read_toml(base, folder / "problem.toml")
    for required in ("README.md", f"{slug}.py", f"test_{slug}.py"):
        if not (folder / required).is_file():
            raise ProblemError(f"{_rel(base, folder / required)}: missing file")
    checks = _read_checks(base, folder / f"test_{slug}.py")
    solutions = base / "solutions" / slug
    reference = solutions / f"{slug}.py"
    bugs = _read_bugs(base, solutions, checks)
    return Problem(
        slug=slug,
        title=meta["title"],
        summary=meta["summary"],
        topics=tuple(meta["topics"]),
        difficulty=meta["difficulty"],
        time_limit=float(meta["time_limit"]),
        allowed_imports=tuple(meta["allowed_imports"]),
        forbidden=tuple(meta["forbidden"]),
        source_policy=meta["source_policy"],
        folder=folder,
        checks=checks,
        reference=reference if reference.is_file() else None,
        bugs=bugs,
    )


def _rel(base: Path, path: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _read_toml(base: Path, path: Path) -> dict:
    name = _rel(base, path)
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProblemError(f"{name}: not valid TOML: {exc}") from None
    for key in meta:
        if key not in _KEYS and key not in _OPTIONAL:
            raise ProblemError(f"{name}: unknown key {key!r} (known: {', '.join([*_KEYS, *_OPTIONAL])})")
    for key, (valid, expected) in _KEYS.items():
        if key not in meta:
            raise ProblemError(f"{name}: missing key {key!r}")
        if not valid(meta[key]):
            raise ProblemError(f"{name}: key {key!r} must be {expected}, not {meta[key]!r}")
    for key, (valid, expected, default) in _OPTIONAL.items():
        meta.setdefault(key, default)
        if not valid(meta[key]):
            raise ProblemError(f"{name}: key {key!r} must be {expected}, not {meta[key]!r}")
    return meta


def _parse(base: Path, path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise ProblemError(f"{_rel(base, path)}:{exc.lineno}: SyntaxError: {exc.msg}") from None


def _mark(decorator: ast.expr, name: str) -> ast.Call | None:
    """The call node if `decorator` is `pytest.mark.<name>(...)` (or `mark.<name>(...)`)."""
    if not isinstance(decorator, ast.Call) or not _is_mark(decorator.func, name):
        return None
    return decorator


def _is_mark(node: ast.expr, name: str) -> bool:
    """Whether `node` is the attribute `pytest.mark.<name>` (or `mark.<name>`), not called."""
    if not isinstance(node, ast.Attribute) or node.attr != name:
        return False
    owner = node.value
    return (isinstance(owner, ast.Attribute) and owner.attr == "mark") or (
        isinstance(owner, ast.Name) and owner.id == "mark")


def _read_checks(base: Path, path: Path) -> tuple[Check, ...]:
    name = _rel(base, path)
    checks = []
    for node in _parse(base, path).body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.name.startswith("test_"):
            continue
        check = node.name.removeprefix("test_")
        points = hint = None
        hidden = False
        for decorator in node.decorator_list:
            if _is_mark(decorator, "hidden") or _mark(decorator, "hidden") is not None:
                hidden = True
            elif (call := _mark(decorator, "points")) is not None:
                arg = call.args[0] if len(call.args) == 1 and not call.keywords else None
                if not (isinstance(arg, ast.Constant) and type(arg.value) is int and arg.value > 0):
                    raise ProblemError(
                        f"{name}:{call.lineno}: points of {check!r} must be one positive integer literal")
                points = arg.value
            elif (call := _mark(decorator, "hint")) is not None:
                arg = call.args[0] if len(call.args) == 1 and not call.keywords else None
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    raise ProblemError(f"{name}:{call.lineno}: hint of {check!r} must be one string literal")
                hint = arg.value
        if points is None:
            raise ProblemError(f"{name}:{node.lineno}: check {check!r} has no @pytest.mark.points(N)")
        doc = (ast.get_docstring(node) or "").strip()
        checks.append(Check(name=check, points=points, doc=" ".join(doc.split()), hint=hint, hidden=hidden))
    if not checks:
        raise ProblemError(f"{name}: no checks (test_<name> functions marked @pytest.mark.points(N))")
    return tuple(checks)


_CAUGHT_BY = re.compile(r"^\s*Caught by:(.*)$", re.MULTILINE)


def _read_bugs(base: Path, solutions: Path, checks: tuple[Check, ...]) -> tuple[Bug, ...]:
    folder = solutions / "bugs"
    paths = sorted([*folder.glob("*.py"), *folder.glob("*.patch")], key=lambda path: (path.stem, path.suffix))
    for first, second in zip(paths, paths[1:]):
        if first.stem == second.stem:
            raise ProblemError(f"{_rel(base, folder)}: two bugs named {first.stem!r} ({first.name} and {second.name}); "
                               "keep one")
    return tuple(_read_bug(base, path, checks) for path in paths)


def _read_bug(base: Path, path: Path, checks: tuple[Check, ...]) -> Bug:
    name = _rel(base, path)
    patch = None
    if path.suffix == ".patch":
        try:
            doc, diff = patches.split(path.read_bytes().decode("utf-8"))
            patch = patches.parse(diff)
        except UnicodeDecodeError:
            raise ProblemError(f"{name}: not UTF-8 text") from None
        except patches.PatchError as exc:
            raise ProblemError(f"{name}: {exc}") from None
        reference = f"{path.parent.parent.name}.py"
        if patch.old_name.rsplit("/", 1)[-1] != reference:
            raise ProblemError(f"{name}: the diff is of {patch.old_name}, not of the reference {reference}")
        where = "the text before the diff"
    else:
        doc = ast.get_docstring(_parse(base, path)) or ""
        where = "the module docstring"
    match = _CAUGHT_BY.search(doc)
    if match is None:
        raise ProblemError(f"{name}: {where} has no 'Caught by: check_a, check_b' line")
    caught_by = tuple(part.strip() for part in match.group(1).split(",") if part.strip())
    if not caught_by:
        raise ProblemError(f"{name}: 'Caught by:' names no check")
    known = [check.name for check in checks]
    for check in caught_by:
        if check not in known:
            raise ProblemError(f"{name}: 'Caught by:' names unknown check {check!r}.{_suggest(check, known)}")
    description = doc.strip().splitlines()[0] if doc.strip() else ""
    return Bug(name=path.stem, path=path, description=description, caught_by=caught_by, patch=patch)
