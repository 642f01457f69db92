"""Every problem of the repository is sound: the reference gets full marks, the stub fails every check,
each known bug (a patch applied to the reference, or a whole file) fails every check its `Caught by:` line
names, and the second correct solution in tests/second_solutions/ gets full marks. A new problem folder is
covered here without touching this file."""
import subprocess
import sys
from pathlib import Path

import pytest

from grader import catalog, runner

REPO = Path(__file__).resolve().parent.parent


def _load(slug):
    try:
        return catalog.load(slug, REPO), ""
    except catalog.ProblemError as exc:
        return None, str(exc)


LOADED = {slug: _load(slug) for slug in catalog.slugs(REPO)}  # one broken folder fails one test, not all
PROBLEMS = [problem for problem, _ in LOADED.values() if problem is not None]
BUGS = [(problem, bug) for problem in PROBLEMS for bug in problem.bugs]


@pytest.mark.parametrize("slug", LOADED)
def test_problem_folder_follows_the_format(slug):
    assert LOADED[slug][1] == ""


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.slug)
def test_reference_gets_full_marks(problem):
    assert problem.reference is not None, f"missing solutions/{problem.slug}/{problem.slug}.py"
    result = runner.grade(problem, problem.reference)
    assert {c.name: c.message for c in result.checks if not c.passed} == {}


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.slug)
def test_stub_fails_every_check(problem):
    result = runner.grade(problem, problem.stub)
    assert [c.name for c in result.checks if c.passed] == []


@pytest.mark.parametrize("problem, bug", BUGS, ids=[f"{p.slug}-{b.name}" for p, b in BUGS])
def test_bug_is_caught_by_the_checks_it_names(problem, bug, tmp_path):
    result = runner.grade(problem, bug.write(tmp_path), only=bug.caught_by)  # a patch bug: applied to the reference
    assert [c.name for c in result.checks if c.passed] == []


SECOND = [p for p in PROBLEMS if (REPO / "tests" / "second_solutions" / f"{p.slug}.py").is_file()]


@pytest.mark.parametrize("problem", SECOND, ids=lambda p: p.slug)
def test_second_correct_solution_gets_full_marks(problem):
    """A differently written correct solution passes too: the checks do not demand one design."""
    result = runner.grade(problem, REPO / "tests" / "second_solutions" / f"{problem.slug}.py")
    assert {c.name: c.message for c in result.checks if not c.passed} == {}


def test_plain_pytest_collects_only_the_projects_tests():
    """`python -m pytest` must not run problem checks directly: they only work under the grader."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                         cwd=REPO, capture_output=True, text=True, timeout=120).stdout
    nodes = [line for line in out.splitlines() if "::" in line]
    assert nodes and [n for n in nodes if not n.startswith("tests/") or n.startswith("tests/fixtures/")] == []


def test_plain_pytest_on_a_problem_says_to_use_the_grader():
    """`python -m pytest problems/counter` stops at once with the command to use, not an error per check."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "problems/counter"],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 4
    assert ("These are the grader's checks: they need your file loaded as `impl`. Grade it with "
            "`grader test counter`.") in done.stdout
    assert "fixture 'impl' not found" not in done.stdout + done.stderr and "warnings" not in done.stdout
