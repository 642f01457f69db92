"""The catalog reads problem folders and rejects broken ones with a message naming the file and key."""
from pathlib import Path

import pytest

from grader import catalog
from grader.catalog import Check, GraderError, ProblemError

REPO = Path(__file__).resolve().parent.parent


def test_loads_the_fixture_problem(fixture_root):
    problem = catalog.load("tally")
    assert (problem.slug, problem.title, problem.topics, problem.difficulty, problem.time_limit) == (
        "tally", "Tally", ("locks",), 1, 1.0)
    assert problem.summary == "A counter that several threads can add to."
    assert problem.checks == (
        Check("starts_at_zero", 1, "A new tally reads 0."),
        Check("adds_amount", 2, "add(n) adds n."),
        Check("counts_every_add", 2, "Every add() from 4 threads is counted.", "Guard the read-modify-write with a lock."),
    )
    assert problem.max_score == 5
    assert problem.reference == fixture_root / "solutions/tally/tally.py"
    assert [(bug.name, bug.kind, bug.caught_by, bug.description) for bug in problem.bugs] == [
        ("ignores_amount", "patch", ("adds_amount",), "add(n) always adds 1, whatever n is.")]
    reference = problem.reference.read_bytes()
    assert problem.bugs[0].source() == reference.replace(b"self._value += n", b"self._value += 1")
    assert catalog.slugs() == ["tally"]


def test_unknown_slug_suggests_the_closest(fixture_root):
    with pytest.raises(GraderError) as info:
        catalog.load("taly")
    assert str(info.value) == "no problem named 'taly'. Did you mean 'tally'?"


def _set_toml(root, text):
    (root / "problems/tally/problem.toml").write_text(text)


GOOD = {
    "title": '"Tally"',
    "summary": '"A counter."',
    "topics": '["locks"]',
    "difficulty": "1",
    "time_limit": "1.0",
}


def _toml(**changes):
    keys = {**GOOD, **changes}
    return "".join(f"{key} = {value}\n" for key, value in keys.items() if value is not None)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"difficulty": None}, "missing key 'difficulty'"),
        ({"title": None}, "missing key 'title'"),
        ({"author": '"me"'}, "unknown key 'author' (known: title, summary, topics, difficulty, time_limit, allowed_imports, forbidden, source_policy)"),
        ({"difficulty": '"hard"'}, "key 'difficulty' must be an integer from 1 to 3, not 'hard'"),
        ({"difficulty": "4"}, "key 'difficulty' must be an integer from 1 to 3, not 4"),
        ({"difficulty": "true"}, "key 'difficulty' must be an integer from 1 to 3, not True"),
        ({"time_limit": '"2"'}, "key 'time_limit' must be a positive number of seconds, not '2'"),
        ({"time_limit": "0"}, "key 'time_limit' must be a positive number of seconds, not 0"),
        ({"topics": '"locks"'}, "key 'topics' must be a list of strings, not 'locks'"),
        ({"topics": "[1]"}, "key 'topics' must be a list of strings, not [1]"),
        ({"summary": '"""two\nlines"""'}, "key 'summary' must be a one-line string, not 'two\\nlines'"),
    ],
)
def test_problem_toml_errors_name_file_and_key(copied_root, changes, message):
    _set_toml(copied_root, _toml(**changes))
    with pytest.raises(ProblemError) as info:
        catalog.load("tally")
    assert str(info.value) == f"problems/tally/problem.toml: {message}"


def test_invalid_toml_is_a_problem_error(copied_root):
    _set_toml(copied_root, "title = \n")
    with pytest.raises(ProblemError) as info:
        catalog.load("tally")
    assert str(info.value).startswith("problems/tally/problem.toml: not valid TOML: ")


def test_missing_spec_is_named(copied_root):
    (copied_root / "problems/tally/README.md").unlink()
    with pytest.raises(ProblemError) as info:
        catalog.load_all()
    assert str(info.value) == "problems/tally/README.md: missing file"


def test_check_without_points(copied_root):
    checks = copied_root / "problems/tally/test_tally.py"
    checks.write_text(checks.read_text() + "\n\ndef test_extra(impl):\n    pass\n")
    with pytest.raises(ProblemError) as info:
        catalog.load("tally")
    line = len(checks.read_text().splitlines()) - 1
    assert str(info.value) == f"problems/tally/test_tally.py:{line}: check 'extra' has no @pytest.mark.points(N)"


def test_points_must_be_a_literal(copied_root):
    checks = copied_root / "problems/tally/test_tally.py"
    checks.write_text(checks.read_text().replace("@pytest.mark.points(1)", "@pytest.mark.points(ONE)"))
    with pytest.raises(ProblemError) as info:
        catalog.load("tally")
    assert str(info.value) == "problems/tally/test_tally.py:7: points of 'starts_at_zero' must be one positive integer literal"


def _diff(root):
    """The diff of the fixture's patch bug, without its description."""
    text = (root / "solutions/tally/bugs/ignores_amount.patch").read_text()
    return text[text.index("diff --git"):]


@pytest.mark.parametrize("kind", ["patch", "py"])
@pytest.mark.parametrize(
    "description, message",
    [
        ("Adds 1.", "{where} has no 'Caught by: check_a, check_b' line"),
        ("Adds 1.\n\nCaught by:", "'Caught by:' names no check"),
        ("Adds 1.\n\nCaught by: adds_amount, adds_amout",
         "'Caught by:' names unknown check 'adds_amout'. Did you mean 'adds_amount'?"),
    ],
)
def test_bug_caught_by_errors(copied_root, kind, description, message):
    bugs = copied_root / "solutions/tally/bugs"
    if kind == "patch":
        (bugs / "ignores_amount.patch").write_text(description + "\n\n" + _diff(copied_root))
        where = "the text before the diff"
    else:
        (bugs / "ignores_amount.patch").unlink()
        (bugs / "ignores_amount.py").write_text(f'"""{description}\n"""\n')
        where = "the module docstring"
    with pytest.raises(ProblemError) as info:
        catalog.load("tally")
    assert str(info.value) == f"solutions/tally/bugs/ignores_amount.{kind}: {message.format(where=where)}"


def test_reads_whole_file_and_patch_bugs_side_by_side(copied_root):
    (copied_root / "solutions/tally/bugs/starts_at_one.py").write_text(
        '"""Tally() starts at 1.\n\nCaught by: starts_at_zero\n"""\nclass Tally:\n    value = 1\n')
    bugs = catalog.load("tally").bugs
    assert [(bug.name, bug.kind, bug.caught_by) for bug in bugs] == [
        ("ignores_amount", "patch", ("adds_amount",)), ("starts_at_one", "file", ("starts_at_zero",))]
    assert bugs[1].source() == (copied_root / "solutions/tally/bugs/starts_at_one.py").read_bytes()


def test_a_patch_that_no_longer_applies_names_the_patch_hunk_and_line(copied_root):
    reference = copied_root / "solutions/tally/tally.py"
    reference.write_text(reference.read_text().replace("with self._lock:\n            self._value += n",
                                                       "with self._lock:  # one add at a time\n            self._value += n"))
    bug = catalog.load("tally").bug("ignores_amount")  # loading does not apply it: grader check reports it
    with pytest.raises(ProblemError) as info:
        bug.source()
    assert str(info.value) == (
        "solutions/tally/bugs/ignores_amount.patch: hunk 1 of 1 (@@ -10,7 +10,7 @@) does not apply to "
        "solutions/tally/tally.py: at line 12 the patch expects '        with self._lock:', the file has "
        "'        with self._lock:  # one add at a time'; its 7 old lines match nowhere else")


@pytest.mark.parametrize(
    "text, message",
    [
        ("Adds 1.\n\nCaught by: adds_amount\n", "no diff in it (a '--- file' line, then '+++ file', then '@@' hunks)"),
        ("Caught by: adds_amount\n--- a/solutions/tally/other.py\n+++ b/solutions/tally/other.py\n@@ -1 +1 @@\n-a\n+b\n",
         "the diff is of solutions/tally/other.py, not of the reference tally.py"),
        ("Caught by: adds_amount\n--- a/solutions/tally/tally.py\n+++ b/solutions/tally/tally.py\n@@ -1 +1 @@\n-a\n",
         "hunk 1 (@@ -1 +1 @@): the diff ends after 1 of its 1 old and 0 of its 1 new lines"),
    ],
)
def test_a_broken_patch_is_a_broken_folder(copied_root, text, message):
    (copied_root / "solutions/tally/bugs/ignores_amount.patch").write_text(text)
    with pytest.raises(ProblemError) as info:
        catalog.load("tally")
    assert str(info.value) == f"solutions/tally/bugs/ignores_amount.patch: {message}"


def test_two_bugs_of_one_name_are_refused(copied_root):
    (copied_root / "solutions/tally/bugs/ignores_amount.py").write_text('"""Adds 1.\n\nCaught by: adds_amount\n"""\n')
    with pytest.raises(ProblemError) as info:
        catalog.load("tally")
    assert str(info.value) == ("solutions/tally/bugs: two bugs named 'ignores_amount' (ignores_amount.patch and "
                               "ignores_amount.py); keep one")


def test_unknown_bug_and_check_suggest(fixture_root):
    problem = catalog.load("tally")
    with pytest.raises(GraderError) as info:
        problem.bug("ignores_amout")
    assert str(info.value) == "no bug named 'ignores_amout' for tally. Did you mean 'ignores_amount'?"
    with pytest.raises(GraderError) as info:
        problem.check("adds_amout")
    assert str(info.value) == "no check named 'adds_amout' in tally. Did you mean 'adds_amount'?"


def test_missing_reference_is_none(copied_root):
    (copied_root / "solutions/tally/tally.py").unlink()
    problem = catalog.load("tally")
    assert problem.reference is None
    with pytest.raises(ProblemError) as info:
        problem.bug("ignores_amount").source()
    assert str(info.value) == ("solutions/tally/bugs/ignores_amount.patch: no reference solutions/tally/tally.py "
                               "to apply it to")


def test_root_without_problems_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_ROOT", str(tmp_path))
    with pytest.raises(GraderError) as info:
        catalog.load_all()
    assert str(info.value) == f"no problems/ folder in {tmp_path}; set GRADER_ROOT to the repository"


def test_the_readme_lists_every_problem_of_the_catalog():
    """README.md's table of problems names each problem folder once, with its summary: it cannot fall behind."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Problems", 1)[1].split("\n## ", 1)[0]
    listed = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
    problems = catalog.load_all(REPO)
    assert listed == [p.slug for p in problems]
    for problem in problems:
        assert problem.summary in section, problem.slug
