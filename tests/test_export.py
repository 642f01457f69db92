"""Hidden checks, and the bundles of `grader export`: student handout, Gradescope autograder, GitHub Classroom,
PrairieLearn grading image and questions, Exercism test runner."""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

import platform_schemas
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


def _autograder(hidden_root, tmp_path, *options):
    """The Gradescope bundle unzipped as Gradescope does: <dir>/source, with <dir>/submission beside it."""
    bundle = tmp_path / "autograder.zip"
    result = run("export", "gradescope", "tally", "--out", bundle, *options)
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
    assert platform_schemas.errors(good, "gradescope") == []
    assert (good["score"], [t["status"] for t in good["tests"]]) == (6, ["passed"] * 4)

    broken = _run_autograder(root, catalog.load("tally").bug("ignores_amount").source().decode())
    assert platform_schemas.errors(broken, "gradescope") == []
    assert broken["score"] == 3
    tests = {t["name"]: t for t in broken["tests"]}
    assert [(name, t["score"], t["max_score"], t["status"], t["visibility"]) for name, t in tests.items()] == [
        ("tally › starts_at_zero", 1, 1, "passed", "visible"), ("tally › adds_amount", 0, 2, "failed", "visible"),
        ("tally › adds_negative", 0, 1, "failed", "after_published"),
        ("tally › counts_every_add", 2, 2, "passed", "visible")]
    assert tests["tally › adds_negative"]["output"] == (
        "Expected: add(n) with a negative n subtracts.\nThis check is hidden: its details are not shown.")

    for text in (None, "def broken(:\n"):  # nothing handed in; a file that does not parse
        results = _run_autograder(root, text)
        assert platform_schemas.errors(results, "gradescope") == []
        assert (results["score"], len(results["tests"])) == (0, 4)


def test_gradescope_hidden_checks_can_stay_hidden_for_good(hidden_root, tmp_path):
    root = _autograder(hidden_root, tmp_path, "--hidden-visibility", "hidden")
    script = (root / "source/run_autograder").read_text()
    assert "--for-marks \\\n    --hidden-visibility hidden\n" in script
    results = _run_autograder(root, (hidden_root / "solutions/tally/tally.py").read_text())
    assert platform_schemas.errors(results, "gradescope") == []
    assert [t["visibility"] for t in results["tests"]] == ["visible", "visible", "hidden", "visible"]
    bad = run("export", "gradescope", "tally", "--out", tmp_path / "x.zip", "--hidden-visibility", "never")
    assert (bad.exit_code, bad.output) == (2, "Error: Invalid value for '--hidden-visibility': 'never' is not one of "
                                              "'after_published', 'hidden'. (see grader export gradescope --help)\n")


def _exercism(root, slug, solution, *, env=None):
    """Run the test runner's bin/run.sh as Exercism does; its results.json."""
    output = root.parent / "output"
    shutil.rmtree(output, ignore_errors=True)
    done = _command(root.parent, str(root / "bin/run.sh"), slug, f"{solution}/", f"{output}/",
                    env={"GRADER_PYTHON": sys.executable, **(env or {})})
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((output / "results.json").read_text())


def test_exercism_test_runner_grades_as_the_interface_says(hidden_root, tmp_path):
    runner_dir = tmp_path / "runner" / "exercism"
    result = run("export", "exercism", "tally", "--out", runner_dir)
    assert result.exit_code == 0, result.output
    assert os.stat(runner_dir / "bin/run.sh").st_mode & 0o777 == 0o755
    assert 'ENTRYPOINT ["/opt/test-runner/bin/run.sh"]' in (runner_dir / "Dockerfile").read_text()
    assert not (runner_dir / "solutions").exists()
    solution = tmp_path / "solution"
    solution.mkdir()
    (solution / "HELP.md").write_text("Exercism's own files are ignored\n")
    (solution / "tally.py").write_bytes(catalog.load("tally").bug("ignores_amount").source())
    data = _exercism(runner_dir, "tally", solution)
    assert platform_schemas.errors(data, "exercism") == []
    assert (data["status"], [(t["name"], t["status"]) for t in data["tests"]]) == ("fail", [
        ("starts_at_zero", "pass"), ("adds_amount", "fail"), ("adds_negative", "fail"), ("counts_every_add", "pass")])
    assert "SECRET" not in json.dumps(data)
    (solution / "tally.py").write_text("class Tally(:\n")
    data = _exercism(runner_dir, "tally", solution)
    assert platform_schemas.errors(data, "exercism") == []
    assert (data["status"], data["message"]) == (
        "error", "tally: could not import the submission: tally.py:1: SyntaxError: invalid syntax")
    assert {t["status"] for t in data["tests"]} == {"error"}
    data = _exercism(runner_dir, "no-such-exercise", solution)
    assert platform_schemas.errors(data, "exercism") == []
    assert data["message"] == ("The grader could not grade this submission (exit status 2). Please tell your "
                               "instructor.\nError: no problem named 'no_such_exercise'. Known: tally.")


def test_platform_entry_points_refuse_to_grade_without_an_os_sandbox(hidden_root, tmp_path):
    """Unless exported with --allow-unsandboxed: then they grade with time and memory limits only."""
    solution = tmp_path / "solution"
    solution.mkdir()
    (solution / "tally.py").write_text((hidden_root / "solutions/tally/tally.py").read_text())
    for allow in ((), ("--allow-unsandboxed",)):
        runner_dir = tmp_path / f"exercism{len(allow)}" / "runner"
        assert run("export", "exercism", "tally", "--out", runner_dir, *allow).exit_code == 0
        data = _exercism(runner_dir, "tally", solution, env={"GRADER_ISOLATION": "none"})
        assert platform_schemas.errors(data, "exercism") == []
        if allow:
            assert data["status"] == "pass"
        else:
            assert data["status"] == "error" and data["message"].startswith(
                "The grader could not grade this submission (exit status 2). Please tell your instructor.\n"
                "Error: no OS sandbox here (")
        course = tmp_path / f"pl{len(allow)}"
        assert run("export", "prairielearn", "tally", "--image", "me/drills:1", "--out", course, *allow).exit_code == 0
        data = _prairielearn(course, "tally", solution / "tally.py", env={"GRADER_ISOLATION": "none"})
        assert platform_schemas.errors(data, "prairielearn") == []
        if allow:
            assert (data["gradable"], data["score"]) == (True, 1.0)
        else:
            assert data["gradable"] is False and data["format_errors"][0].startswith(
                "The grader could not grade this submission (exit status 2). Please tell your instructor.\n"
                "Error: no OS sandbox here (")


def _prairielearn(course, slug, submission=None, *, env=None):
    """Run the grading image's entry point as PrairieLearn's grading container does; its results.json."""
    grade = course.parent / "grade"
    shutil.rmtree(grade, ignore_errors=True)
    (grade / "student").mkdir(parents=True)
    if submission is not None:
        shutil.copyfile(submission, grade / "student" / f"{slug}.py")
    done = _command(course, str(course / "image/bin/run_prairielearn"), slug,
                    env={"GRADE_DIR": str(grade), "GRADER_PYTHON": sys.executable, **(env or {})})
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((grade / "results/results.json").read_text())


def test_prairielearn_export_grades_in_the_grading_container(hidden_root, tmp_path):
    course = tmp_path / "course"
    result = run("export", "prairielearn", "tally", "--image", "me/drills:1", "--out", course)
    assert result.exit_code == 0, result.output
    info = json.loads((course / "questions/tally/info.json").read_text())
    assert (info["gradingMethod"], info["externalGradingOptions"]) == ("External", {
        "enabled": True, "image": "me/drills:1", "entrypoint": "/opt/grader/bin/run_prairielearn tally",
        "timeout": 300})
    assert '<pl-file-upload file-names="tally.py"></pl-file-upload>' in (course / "questions/tally/question.html").read_text()
    assert "adds_negative" in (course / "image/problems/tally/test_tally.py").read_text()
    assert not (course / "image/solutions").exists()
    bug = tmp_path / "bug.py"
    bug.write_bytes(catalog.load("tally").bug("ignores_amount").source())
    data = _prairielearn(course, "tally", bug)
    assert platform_schemas.errors(data, "prairielearn") == []
    assert (data["gradable"], data["score"]) == (True, 0.5)
    assert [(t["name"], t["points"], t["max_points"]) for t in data["tests"]] == [
        ("tally › starts_at_zero", 1, 1), ("tally › adds_amount", 0, 2), ("tally › adds_negative", 0, 1),
        ("tally › counts_every_add", 2, 2)]
    assert "SECRET" not in json.dumps(data)
    data = _prairielearn(course, "tally")  # nothing handed in: not gradable, no attempt taken
    assert platform_schemas.errors(data, "prairielearn") == []
    assert (data["gradable"], data["format_errors"]) == (False, ["tally: not graded: no file tally.py in the submission"])
    bad = run("export", "prairielearn", "tally", "--image", "x", "--timeout", 900, "--out", tmp_path / "c2")
    assert (bad.exit_code, bad.output) == (2, "Error: --timeout must be between 1 and 600 seconds (PrairieLearn's "
                                              "limit), not 900\n")


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
    for kind in ("student", "classroom", "gradescope", "exercism"):
        result = run("export", kind)
        assert (result.exit_code, result.output) == (2, "Error: name the problems to export (grader list shows them)\n")
