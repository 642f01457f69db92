"""Bundles for course platforms: a Gradescope autograder zip, a GitHub Classroom repository, a PrairieLearn grading
image and questions, an Exercism test runner, a student handout.

Each bundle holds the grader itself (the package and pyproject.toml) and the chosen problems' folders,
never solutions/. The student handout and the Classroom repository leave out the checks marked
`@pytest.mark.hidden`; the Gradescope, PrairieLearn and Exercism bundles keep them (they run on the
platform's servers, not on students' machines). Their entry points grade with `grader test --for-marks`:
no OS sandbox, no grading, unless the bundle was exported with allow_unsandboxed.
"""
from __future__ import annotations

import ast
import html
import json
import os
import re
import shutil
import uuid
import zipfile
from pathlib import Path

import grader
from grader.catalog import GraderError, Problem
from grader.report import HIDDEN_VISIBILITY
from grader.templates import render

__all__ = ["strip_hidden", "student", "classroom", "gradescope", "prairielearn", "exercism"]

PACKAGE = Path(grader.__file__).resolve().parent
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same export gives the same bytes


def _shipped(path: Path) -> bool:
    return path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".tmp")


def strip_hidden(problem: Problem) -> str:
    """The checks file's text without the hidden checks (their decorators, code and docstrings)."""
    source = problem.checks_file.read_text(encoding="utf-8")
    hidden = {check.name for check in problem.checks if check.hidden}
    if not hidden:
        return source
    if len(hidden) == len(problem.checks):
        raise GraderError(f"every check of {problem.slug} is hidden: its handout would have none")
    lines = source.splitlines(keepends=True)
    cut = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.removeprefix("test_") in hidden:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            cut.update(range(first - 1, node.end_lineno))
    kept = "".join(line for i, line in enumerate(lines) if i not in cut)
    return re.sub(r"\n{4,}", "\n\n\n", kept).rstrip("\n") + "\n"


def _grader_files():
    """(path, name in the bundle) of the grader package and its pyproject.toml."""
    pyproject = PACKAGE.parent / "pyproject.toml"
    if not pyproject.is_file():
        raise GraderError(f"no pyproject.toml beside the grader package in {PACKAGE.parent}; "
                          "export from a checkout installed with pip install -e .")
    yield pyproject, "pyproject.toml"
    for path in sorted(PACKAGE.rglob("*")):
        if _shipped(path):
            yield path, f"grader/{path.relative_to(PACKAGE).as_posix()}"


def _problem_files(problem: Problem, *, hidden: bool):
    """(text or path, name in the bundle) of a problem folder; without hidden checks unless `hidden`."""
    for path in sorted(problem.folder.rglob("*")):
        if not _shipped(path):
            continue
        name = f"problems/{problem.slug}/{path.relative_to(problem.folder).as_posix()}"
        if path == problem.checks_file and not hidden:
            yield strip_hidden(problem), name
        else:
            yield path, name


def _handout_files(problems: list[Problem]):
    listing = "\n".join(f"- `{p.slug}`: {p.title}. {p.summary}" for p in problems)
    yield render("handout_README.md", problems=listing, first=problems[0].slug), "README.md"
    yield from _grader_files()
    pointer = problems[0].folder.parent / "conftest.py"  # `pytest problems/x` says to use `grader test x`
    if pointer.is_file():
        yield pointer, "problems/conftest.py"
    for problem in problems:
        yield from _problem_files(problem, hidden=False)


def _write_tree(files, out: Path, executable=()) -> None:
    if out.exists() and any(out.iterdir()):
        raise GraderError(f"{out} is not empty; choose a new folder")
    for content, name in files:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_text(content, encoding="utf-8")
        os.chmod(target, 0o755 if name in executable else 0o644)


def student(problems: list[Problem], out: Path) -> None:
    """Write a student handout to `out`: README, the grader, and each problem's folder without hidden checks."""
    _write_tree(list(_handout_files(problems)), out)


def _step_id(slug: str, check: str) -> str:
    return f"{slug}-{check}".replace("_", "-")


def classroom(problems: list[Problem], out: Path) -> None:
    """Write a GitHub Classroom template repository to `out`: the handout plus an autograding workflow
    with one all-or-nothing test per visible check (`grader test SLUG -k CHECK`), worth its points."""
    steps, ids = [], []
    for problem in problems:
        minutes = int(problem.time_limit // 60) + 2  # one check's limit, Python's start-up and slack
        for check in problem.checks:
            if check.hidden:
                continue
            step = _step_id(problem.slug, check.name)
            ids.append(step)
            steps.append(render("classroom_step.yml", name=f"{problem.slug} {check.name}", id=step,
                                   slug=problem.slug, check=check.name, minutes=minutes, points=check.points))
    env = "".join(f'        {step.upper()}_RESULTS: "${{{{steps.{step}.outputs.result}}}}"\n' for step in ids)
    workflow = render("classroom.yml", steps="".join(steps), env=env, runners=",".join(ids))
    _write_tree([*_handout_files(problems), (workflow, ".github/workflows/classroom.yml")], out)


def gradescope(problems: list[Problem], out: Path, *, hidden_visibility: str = "after_published") -> None:
    """Write a Gradescope autograder zip to `out`: setup.sh and run_autograder at the top, the grader and
    the problems' folders (hidden checks included, no solutions). Its run_autograder grades
    /autograder/submission/<slug>.py for each problem and writes /autograder/results/results.json, where the
    checks marked hidden have the visibility `hidden_visibility` ("after_published" or "hidden")."""
    if hidden_visibility not in HIDDEN_VISIBILITY:
        raise GraderError(f"hidden_visibility must be one of {', '.join(HIDDEN_VISIBILITY)}, not {hidden_visibility!r}")
    slugs = " ".join(p.slug for p in problems)
    files = [
        (render("setup.sh"), "setup.sh"),
        (render("run_autograder", problems=slugs, hidden_visibility=hidden_visibility), "run_autograder"),
        (render("autograder_README.md", problems=slugs, hidden_visibility=hidden_visibility), "README.md"),
        *_grader_files(),
        *(item for problem in problems for item in _problem_files(problem, hidden=True)),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for content, name in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name in ("setup.sh", "run_autograder") else 0o644) << 16
            data = content.read_bytes() if isinstance(content, Path) else content.encode("utf-8")
            bundle.writestr(info, data)


def _unsandboxed(allow: bool) -> dict:
    """The entry point's flag and the line that says so, for a bundle exported with or without allow_unsandboxed."""
    if allow:
        return {"unsandboxed": " --allow-unsandboxed",
                "unsandboxed_note": ";\n# exported with --allow-unsandboxed, it grades without one too (time and memory limits only)"}
    return {"unsandboxed": "", "unsandboxed_note": ", or writes a results.json that says why it did not grade"}


def _image_files(problems: list[Problem], platform: str, home: str, entrypoint: str, script: str, entry: str,
                 allow_unsandboxed: bool):
    """A grading image's build context: Dockerfile, the entry point, the grader and the problems (hidden checks
    included)."""
    slugs = " ".join(p.slug for p in problems)
    yield render("Dockerfile", platform=platform, problems=slugs, home=home, entrypoint=entrypoint, entry=entry), \
        "Dockerfile"
    yield render(script, problems=slugs, **_unsandboxed(allow_unsandboxed)), entrypoint
    yield from _grader_files()
    for problem in problems:
        yield from _problem_files(problem, hidden=True)


PRAIRIELEARN_UUID = uuid.UUID("5b0f4c64-8a43-4c1e-9a1e-2f5d6c0b7e11")  # namespace: the same slug, the same uuid


def prairielearn(problems: list[Problem], out: Path, *, image: str, timeout: int = 300,
                 allow_unsandboxed: bool = False) -> None:
    """Write to `out` what PrairieLearn's external grader needs: `image/`, the build context of the grading
    image (push it to Docker Hub as `image`), and `questions/<slug>/` for each problem (info.json with
    externalGradingOptions, question.html with a file upload), to copy into the course's questions/. The image's
    /opt/grader/bin/run_prairielearn SLUG grades /grade/student/<slug>.py into /grade/results/results.json."""
    if not 1 <= timeout <= 600:
        raise GraderError(f"--timeout must be between 1 and 600 seconds (PrairieLearn's limit), not {timeout}")
    files = [(render("prairielearn_README.md", problems=", ".join(p.slug for p in problems), image=image,
                     first=problems[0].slug), "README.md")]
    files += [(content, f"image/{name}") for content, name in _image_files(
        problems, "prairielearn", "/opt/grader", "bin/run_prairielearn", "prairielearn_run", "",
        allow_unsandboxed)]
    for problem in problems:
        info = {
            "uuid": str(uuid.uuid5(PRAIRIELEARN_UUID, problem.slug)),
            "title": problem.title,
            "topic": "Concurrency",
            "tags": list(problem.topics),
            "type": "v3",
            "singleVariant": True,
            "gradingMethod": "External",
            "externalGradingOptions": {"enabled": True, "image": image,
                                       "entrypoint": f"/opt/grader/bin/run_prairielearn {problem.slug}",
                                       "timeout": timeout},
        }
        files.append((json.dumps(info, indent=2) + "\n", f"questions/{problem.slug}/info.json"))
        readme = html.escape(problem.readme.read_text(encoding="utf-8").rstrip("\n"))
        files.append((render("prairielearn_question.html", slug=problem.slug, readme=readme),
                      f"questions/{problem.slug}/question.html"))
    _write_tree(files, out, executable={"image/bin/run_prairielearn"})


def exercism(problems: list[Problem], out: Path, *, allow_unsandboxed: bool = False) -> None:
    """Write an Exercism test runner to `out`: the build context of its image (Dockerfile, whose entry point is
    bin/run.sh SLUG INPUT_DIR OUTPUT_DIR), the grader and the problems' folders (hidden checks included)."""
    files = [(render("exercism_README.md", problems=", ".join(p.slug for p in problems),
                     first=problems[0].slug), "README.md")]
    files += list(_image_files(problems, "exercism", "/opt/test-runner", "bin/run.sh", "exercism_run.sh",
                               'ENTRYPOINT ["/opt/test-runner/bin/run.sh"]', allow_unsandboxed))
    _write_tree(files, out, executable={"bin/run.sh"})
