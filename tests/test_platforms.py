"""The platforms' result formats (JUnit, Gradescope, PrairieLearn, Exercism), each checked against the schema the
platform publishes (tests/schemas/), and how each tells a failed check from one with no verdict."""
import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

import platform_schemas
from grader import catalog, report, runner, sandbox
from grader.batch import missing_report
from grader.cli import main
from grader.report import CheckResult, Report

OPEN_ROOT = Path(__file__).parent / "hostile" / "open_root"  # tally with the source policy off
ISOLATION = sandbox.plan().summary


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def _report(*checks, import_error=None, returncode=0):
    return Report(problem="tally", impl="tally.py", checks=list(checks), import_error=import_error,
                  returncode=returncode)


PASSED = CheckResult("starts_at_zero", 1, True, doc="A new tally reads 0.", duration=0.01)
FAILED = CheckResult("adds_amount", 2, False, "assert 2 == 6", doc="add(n) adds n.", duration=0.02)
CRASHED = CheckResult("counts_every_add", 2, False, "the test process exited with code 3 during this check",
                      doc="Every add() from 4 threads is counted.")
CUT = CheckResult("adds_amount", 2, False, "the check did not run to its end (pytest did not run all of it)",
                  doc="add(n) adds n.", duration=0.0)
HIDDEN = CheckResult("adds_negative", 1, False, "SECRET scenario", doc="add(n) with a negative n subtracts.",
                     hint="SECRET hint", duration=0.01, hidden=True)


def test_status_tells_a_failure_from_a_check_with_no_verdict():
    graded = _report(PASSED, FAILED, CRASHED, CUT)
    assert [report.status(graded, c) for c in graded.checks] == ["passed", "failed", "error", "error"]
    not_imported = CheckResult("adds_amount", 2, False, "not run: tally.py does not import (SyntaxError)", duration=0.0)
    assert report.status(_report(not_imported, import_error="SyntaxError"), not_imported) == "error"
    assert report.not_gradable(_report(not_imported, import_error="SyntaxError")) == (
        "tally: could not import the submission: SyntaxError")
    tally = catalog.load("tally", Path(__file__).parent / "fixtures" / "root")
    nothing = missing_report(tally, "no file tally.py in the submission")
    assert {report.status(nothing, c) for c in nothing.checks} == {"error"}
    assert report.not_gradable(nothing) == "tally: not graded: no file tally.py in the submission"
    assert report.not_gradable(graded) is None  # a crash during the checks is graded


def test_junit_of_every_outcome_is_valid_and_says_error_for_no_verdict():
    text = report.format_junit([_report(PASSED, FAILED, CRASHED, HIDDEN)])
    assert platform_schemas.junit_errors(text) == []
    suite = ElementTree.fromstring(text.encode()).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "1")
    cases = {case.get("name"): [(child.tag, child.get("message")) for child in case] for case in suite.findall("testcase")}
    assert cases == {"starts_at_zero": [], "adds_amount": [("failure", "assert 2 == 6")],
                     "counts_every_add": [("error", "the test process exited with code 3 during this check")],
                     "adds_negative": [("failure", report.HIDDEN_NOTE)]}
    assert "SECRET" not in text


@pytest.mark.parametrize("visibility", report.HIDDEN_VISIBILITY)
def test_gradescope_shows_a_hidden_check_as_the_instructor_chose(visibility):
    data = report.to_gradescope([_report(PASSED, HIDDEN)], hidden_visibility=visibility)
    assert platform_schemas.errors(data, "gradescope") == []
    assert [(t["name"], t["visibility"]) for t in data["tests"]] == [
        ("tally › starts_at_zero", "visible"), ("tally › adds_negative", visibility)]
    assert data["tests"][1]["output"] == f"Expected: add(n) with a negative n subtracts.\n{report.HIDDEN_NOTE}"
    with pytest.raises(ValueError):
        report.to_gradescope([_report(PASSED)], hidden_visibility="visible")


def test_prairielearn_results():
    data = report.to_prairielearn([_report(PASSED, FAILED, HIDDEN)], notes=["Ignored (...): notes.txt"])
    assert platform_schemas.errors(data, "prairielearn") == []
    assert data == {
        "gradable": True, "score": 0.25, "message": "tally: 1/4\nIgnored (...): notes.txt",
        "tests": [
            {"name": "tally › starts_at_zero", "description": "A new tally reads 0.", "points": 1, "max_points": 1,
             "message": "passed"},
            {"name": "tally › adds_amount", "description": "add(n) adds n.", "points": 0, "max_points": 2,
             "message": "assert 2 == 6", "output": "Expected: add(n) adds n.\nassert 2 == 6"},
            {"name": "tally › adds_negative", "description": "add(n) with a negative n subtracts.", "points": 0,
             "max_points": 1, "message": report.HIDDEN_NOTE,
             "output": f"Expected: add(n) with a negative n subtracts.\n{report.HIDDEN_NOTE}"},
        ]}
    not_imported = CheckResult("starts_at_zero", 1, False, "not run: tally.py does not import (SyntaxError: x)",
                               duration=0.0)
    data = report.to_prairielearn([_report(not_imported, import_error="SyntaxError: x")])
    assert platform_schemas.errors(data, "prairielearn") == []
    assert (data["gradable"], data["format_errors"], "score" in data) == (
        False, ["tally: could not import the submission: SyntaxError: x"], False)


def test_exercism_results():
    data = report.to_exercism([_report(PASSED, FAILED, CRASHED)])
    assert platform_schemas.errors(data, "exercism") == []
    assert data == {"version": 2, "status": "fail", "tests": [
        {"name": "starts_at_zero", "status": "pass"},
        {"name": "adds_amount", "status": "fail", "message": "Expected: add(n) adds n.\nassert 2 == 6"},
        {"name": "counts_every_add", "status": "error", "message": "Expected: Every add() from 4 threads is "
         "counted.\nthe test process exited with code 3 during this check"}]}
    assert report.to_exercism([_report(PASSED)])["status"] == "pass"
    not_imported = CheckResult("starts_at_zero", 1, False, "not run: tally.py does not import (SyntaxError: x)",
                               duration=0.0)
    data = report.to_exercism([_report(not_imported, import_error="SyntaxError: x")])
    assert platform_schemas.errors(data, "exercism") == []
    assert (data["status"], data["message"]) == ("error", "tally: could not import the submission: SyntaxError: x")


def test_every_format_of_a_real_grading_is_valid(fixture_root):
    for fmt, check in (("gradescope", "gradescope"), ("prairielearn", "prairielearn"), ("exercism", "exercism")):
        result = run("test", "tally", "--bug", "ignores_amount", "--format", fmt)
        assert result.exit_code == 1, result.output
        assert platform_schemas.errors(json.loads(result.output), check) == [], fmt
    data = json.loads(run("test", "tally", "--bug", "ignores_amount", "--format", "prairielearn").output)
    assert (data["gradable"], data["score"], data["message"]) == (True, 0.6, f"tally: 3/5\nIsolation: {ISOLATION}")
    data = json.loads(run("test", "tally", "--bug", "ignores_amount", "--format", "exercism").output)
    assert [(t["name"], t["status"]) for t in data["tests"]] == [
        ("starts_at_zero", "pass"), ("adds_amount", "fail"), ("counts_every_add", "pass")]


def test_a_test_process_that_dies_gives_errors_not_failures(tmp_path):
    """A real crash: add() ends the test process, so adds_amount and the check after it have no verdict."""
    problem = catalog.load("tally", OPEN_ROOT)
    impl = tmp_path / "tally.py"
    impl.write_text("import os\n\n\nclass Tally:\n    value = 0\n\n    def add(self, n=1):\n        os._exit(3)\n")
    graded = runner.grade(problem, impl)
    assert [(c.name, report.status(graded, c)) for c in graded.checks] == [
        ("starts_at_zero", "passed"), ("adds_amount", "error"), ("counts_every_add", "error")]
    text = report.format_junit([graded])
    assert platform_schemas.junit_errors(text) == []
    assert ElementTree.fromstring(text.encode()).find("testsuite").get("errors") == "2"
    assert report.to_exercism([graded])["status"] == "fail"
    assert report.to_prairielearn([graded])["gradable"] is True
