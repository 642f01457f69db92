"""Start a new problem from the template (`grader new`), and find what its author has not written yet.

The template's files hold `TODO(author)` where the author writes; `grader check` lists the files that
still hold one, next to the soundness rows (reference, stub, bugs).
"""
from __future__ import annotations

import keyword
import re
from pathlib import Path

from grader import catalog
from grader.catalog import GraderError, Problem
from grader.templates import render

__all__ = ["TODO", "new", "next_steps", "unfinished"]

TODO = "TODO(author)"
_SLUG = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def new(slug: str, *, title: str | None = None, base: Path | None = None) -> list[str]:
    """Create problems/<slug>/ and solutions/<slug>/ from the template; the created paths, relative to the root.

    Raises GraderError for a slug that is not a snake_case module name or that already exists.
    """
    if not _SLUG.fullmatch(slug) or keyword.iskeyword(slug):
        raise GraderError(f"{slug!r} is not a valid problem name: use snake_case letters and digits, "
                          "like bounded_buffer (it is also the module's name)")
    base = base or catalog.root()
    folders = [base / "problems" / slug, base / "solutions" / slug]
    for folder in folders:
        if folder.exists():
            raise GraderError(f"{folder.relative_to(base).as_posix()} already exists")
    values = {"slug": slug, "title": title or slug.replace("_", " ").capitalize(),
              "Class": "".join(part.capitalize() for part in slug.split("_"))}
    files = {
        f"problems/{slug}/problem.toml": "problem.toml",
        f"problems/{slug}/README.md": "README.md",
        f"problems/{slug}/{slug}.py": "stub.py.tmpl",
        f"problems/{slug}/test_{slug}.py": "checks.py.tmpl",
        f"solutions/{slug}/{slug}.py": "reference.py.tmpl",
    }
    for target, source in files.items():
        text = render(f"new/{source}", **values)
        (base / target).parent.mkdir(parents=True, exist_ok=True)
        (base / target).write_text(text, encoding="utf-8")
    (base / "solutions" / slug / "bugs").mkdir()
    return [*files, f"solutions/{slug}/bugs/"]


def next_steps(slug: str) -> str:
    """What the author does next, printed by `grader new`."""
    return f"""\
Next steps (docs/instructor-guide.md walks through an example):
  1. problems/{slug}/README.md and problem.toml: the spec and the metadata.
  2. problems/{slug}/{slug}.py: the stub; every method raises NotImplementedError.
  3. solutions/{slug}/{slug}.py: the reference solution.
  4. problems/{slug}/test_{slug}.py: the checks; each docstring states its guarantee.
  5. solutions/{slug}/bugs/<what_is_wrong>.patch: the reference with one likely mistake, as a patch.
     Copy the reference, make the mistake in the copy (/tmp/{slug}.py), and diff the two:
       cp solutions/{slug}/{slug}.py /tmp/{slug}.py
       diff -u solutions/{slug}/{slug}.py /tmp/{slug}.py > solutions/{slug}/bugs/<what_is_wrong>.patch
     Then write above the diff a line saying what is wrong and a line 'Caught by: check_a, check_b'.
     A bug that is a different design is a whole file, bugs/<what_is_wrong>.py, with that docstring.
  Replace every {TODO}, then run: grader check {slug}"""


def unfinished(problem: Problem) -> list[str]:
    """Files of the problem (and its solutions) that still hold a TODO(author) of the template."""
    base = problem.folder.parent.parent
    folders = [problem.folder, base / "solutions" / problem.slug]
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".md", ".toml", ".patch") and "__pycache__" not in path.parts:
                if TODO in path.read_text(encoding="utf-8", errors="replace"):
                    found.append(path.relative_to(base).as_posix())
    return found
