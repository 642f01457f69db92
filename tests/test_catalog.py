"""The catalog reads problem folders and rejects broken ones with a message naming the file and key."""
import pytest

from grader import catalog
from grader.catalog import Check, GraderError, ProblemError


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
    assert [(bug.name, bug.caught_by, bug.description) for bug in problem.bugs] == [
        ("ignores_amount", ("adds_amount",), "add(n) always adds 1, whatever n is.")]
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


@pytest.mark.parametrize(
    "docstring, message",
    [
        ('"""Adds 1."""', "the module docstring has no 'Caught by: check_a, check_b' line"),
        ('"""Adds 1.\n\nCaught by:\n"""', "'Caught by:' names no check"),
        ('"""Adds 1.\n\nCaught by: adds_amount, adds_amout\n"""',
         "'Caught by:' names unknown check 'adds_amout'. Did you mean 'adds_amount'?"),
    ],
)
def test_bug_caught_by_errors(copied_root, docstring, message):
    (copied_root / "solutions/tally/bugs/ignores_amount.py").write_text(docstring + "\n")
    with pytest.raises(ProblemError) as info:
        catalog.load("tally")
    assert str(info.value) == f"solutions/tally/bugs/ignores_amount.py: {message}"


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
    assert catalog.load("tally").reference is None


def test_root_without_problems_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_ROOT", str(tmp_path))
    with pytest.raises(GraderError) as info:
        catalog.load_all()
    assert str(info.value) == f"no problems/ folder in {tmp_path}; set GRADER_ROOT to the repository"
