"""Hidden checks, and the bundles of `grader export`: student handout, Gradescope autograder, GitHub Classroom."""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

import gradescope_schema
from grader import catalog, sandbox
from grader.cli import main

# A hidden check added to the fixture problem: ignores_amount fails it, the reference passes it.
HIDDEN_CHECK = '''

@pytest.mark.points(1)
@pytest.mark.hidden
@pytest.mark.hint("SECRET hint")
def test_adds_negative(impl):
    """add(n) with a negative n subtracts."""
    tally = impl.Tally()
    tally.add(-3)
    assert tally.value == -3, "SECRET scenario"
'''

ISOLATION = sandbox.plan().summary  # the last line but one of every report


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


@pytest.fixture
def hidden_root(copied_root):
    """The fixture repository with a hidden check in tally's checks, between two visible ones."""
    checks = copied_root / "problems/tally/test_tally.py"
    text = checks.read_text()
    head, sep, tail = text.partition("\n\n@pytest.mark.points(2)\n@pytest.mark.hint")
    checks.write_text(head + HIDDEN_CHECK + sep + tail)
    return copied_root


def _command(cwd, *argv, env=None):
    """Run a command in `cwd` as a student or a platform would: no GRADER_ROOT of the tests."""
    env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k != "GRADER_ROOT"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _python(cwd, *args):
    """Run the grader of the folder `cwd` (python -m grader ...)."""
    return _command(cwd, sys.executable, *args)


def test_catalog_reads_the_hidden_marker(hidden_root):
    problem = catalog.load("tally")
    assert [(c.name, c.hidden) for c in problem.checks] == [
        ("starts_at_zero", False), ("adds_amount", False), ("adds_negative", True), ("counts_every_add", False)]


def test_a_hidden_failure_shows_name_and_guarantee_only(hidden_root):
    result = run("test", "tally", "--bug", "ignores_amount", "-k", "adds_negative")
    assert result.exit_code == 1
    assert result.output == (
        "FAIL adds_negative (1 point)\n"
        "\n"
        "FAIL tally › adds_negative (1 point)\n"
        "  Expected: add(n) with a negative n subtracts.\n"
        "  This check is hidden: its details are not shown.\n"
        f"Isolation: {ISOLATION}\n"
        "Score: 0/1\n"
    )


def test_student_handout_has_no_solutions_and_no_hidden_checks(hidden_root, tmp_path):
    handout = tmp_path / "handout"
    result = run("export", "student", "tally", "--out", handout)
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(handout).as_posix() for p in handout.rglob("*") if p.is_file())
    assert [f for f in files if not f.startswith("grader/")] == [
        "README.md", "problems/tally/README.md", "problems/tally/problem.toml", "problems/tally/tally.py",
        "problems/tally/test_tally.py", "pyproject.toml"]
    assert "grader/cli.py" in files and "grader/sched/explore.py" in files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    checks = (handout / "problems/tally/test_tally.py").read_text()
    assert "adds_negative" not in checks and "SECRET" not in checks and "hidden" not in checks
    assert [c.name for c in catalog.load("tally", handout).checks] == ["starts_at_zero", "adds_amount", "counts_every_add"]
    assert "grader test tally" in (handout / "README.md").read_text()
    # The handout's own grader grades the student's working copy.
    graded = _python(handout, "-m", "grader", "test", "tally", "--format", "json")
    assert (graded.returncode, json.loads(graded.stdout)["score"]) == (1, 0), graded.stderr
    shutil.copyfile(hidden_root / "solutions/tally/tally.py", handout / "problems/tally/tally.py")
    graded = _python(handout, "-m", "grader", "test", "--all")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert graded.stdout.endswith("Score: 5/5\n")
    again = run("export", "student", "tally", "--out", handout)
    assert (again.exit_code, again.output) == (2, f"Error: {handout} is not empty; choose a new folder\n")


def test_a_problem_with_only_hidden_checks_has_no_handout(copied_root, tmp_path):
    checks = copied_root / "problems/tally/test_tally.py"
    checks.write_text(checks.read_text().replace("@pytest.mark.points(", "@pytest.mark.hidden\n@pytest.mark.points("))
    result = run("export", "student", "tally", "--out", tmp_path / "h")
    assert (result.exit_code, result.output) == (2, "Error: every check of tally is hidden: its handout would have none\n")


def _autograder(hidden_root, tmp_path):
    """The Gradescope bundle unzipped as Gradescope does: <dir>/source, with <dir>/submission beside it."""
    bundle = tmp_path / "autograder.zip"
    result = run("export", "gradescope", "tally", "--out", bundle)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        archive.extractall(tmp_path / "autograder/source")
    assert [n for n in names if not n.startswith("grader/")] == [
        "setup.sh", "run_autograder", "README.md", "pyproject.toml", "problems/tally/README.md",
        "problems/tally/problem.toml", "problems/tally/tally.py", "problems/tally/test_tally.py"]
    assert (modes["setup.sh"], modes["run_autograder"], modes["pyproject.toml"]) == (0o755, 0o755, 0o644)
    assert "adds_negative" in (tmp_path / "autograder/source/problems/tally/test_tally.py").read_text()
    return tmp_path / "autograder"


def _run_autograder(root, submission_text=None):
    """Put a submission in place, run run_autograder, and return its results.json."""
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    submission.mkdir()
    if submission_text is not None:
        (submission / "tally.py").write_text(submission_text)
    script = root / "source/run_autograder"
    os.chmod(script, 0o755)  # zipfile does not restore modes; Gradescope's unzip does
    done = _command(root, str(script), env={"AUTOGRADER_DIR": str(root), "GRADER_PYTHON": sys.executable})
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "results/results.json").read_text())


def test_gradescope_bundle_grades_a_good_and_a_broken_submission(hidden_root, tmp_path):
    root = _autograder(hidden_root, tmp_path)
    good = _run_autograder(root, (hidden_root / "solutions/tally/tally.py").read_text())
    assert gradescope_schema.errors(good) == []
    assert (good["score"], [t["status"] for t in good["tests"]]) == (6, ["passed"] * 4)

    broken = _run_autograder(root, catalog.load("tally").bug("ignores_amount").source().decode())
    assert gradescope_schema.errors(broken) == []
    assert broken["score"] == 3
    tests = {t["name"]: t for t in broken["tests"]}
    assert [(name, t["score"], t["max_score"], t["status"]) for name, t in tests.items()] == [
        ("tally › starts_at_zero", 1, 1, "passed"), ("tally › adds_amount", 0, 2, "failed"),
        ("tally › adds_negative", 0, 1, "failed"), ("tally › counts_every_add", 2, 2, "passed")]
    assert tests["tally › adds_negative"]["output"] == (
        "Expected: add(n) with a negative n subtracts.\nThis check is hidden: its details are not shown.")

    for text in (None, "def broken(:\n"):  # nothing handed in; a file that does not parse
        results = _run_autograder(root, text)
        assert gradescope_schema.errors(results) == []
        assert (results["score"], len(results["tests"])) == (0, 4)


def test_classroom_workflow_grades_each_visible_check(hidden_root, tmp_path):
    repo = tmp_path / "classroom"
    result = run("export", "classroom", "tally", "--out", repo)
    assert result.exit_code == 0, result.output
    workflow = (repo / ".github/workflows/classroom.yml").read_text()
    assert "\nname: Autograding Tests\n" in workflow
    tests = re.findall(r"command: (.+)\n\s+timeout: (\d+)\n\s+max-score: (\d+)\n", workflow)
    assert tests == [("grader test tally -k starts_at_zero", "2", "1"), ("grader test tally -k adds_amount", "2", "2"),
                     ("grader test tally -k counts_every_add", "2", "2")]
    assert "runners: tally-starts-at-zero,tally-adds-amount,tally-counts-every-add\n" in workflow
    assert 'TALLY-ADDS-AMOUNT_RESULTS: "${{steps.tally-adds-amount.outputs.result}}"\n' in workflow
    assert not (repo / "solutions").exists() and "adds_negative" not in (repo / "problems/tally/test_tally.py").read_text()
    # Each test as GitHub Classroom runs it: the command in the repository, all or nothing on its exit status.
    (repo / "problems/tally/tally.py").write_bytes(catalog.load("tally").bug("ignores_amount").source())
    score = 0
    for command, _, points in tests:
        if _python(repo, "-m", "grader", *command.split()[1:]).returncode == 0:
            score += int(points)
    assert score == 3


def test_export_needs_problems(fixture_root):
    for kind in ("student", "classroom", "gradescope"):
        result = run("export", kind)
        assert (result.exit_code, result.output) == (2, "Error: name the problems to export (grader list shows them)\n")
