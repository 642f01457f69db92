"""The grader command, through click's CliRunner, on the fixture problem."""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from xml.etree import ElementTree

from click.testing import CliRunner

import platform_schemas
from grader import sandbox
from grader.cli import main

ISOLATION = sandbox.plan().summary  # the last line but one of every report


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_list(fixture_root):
    result = run("list")
    assert result.exit_code == 0
    assert result.output == (
        "tally                *     5 pts  Tally  [locks]\n"
        "                     A counter that several threads can add to.\n"
    )


def test_show_prints_the_spec(fixture_root):
    result = run("show", "tally")
    assert result.exit_code == 0
    assert result.output == (fixture_root / "problems/tally/README.md").read_text()


def test_test_reference_json(fixture_root):
    result = run("test", "tally", "--reference", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert (data["problem"], data["score"], data["max_score"]) == ("tally", 5, 5)
    assert [(c["name"], c["points"], c["max_points"], c["passed"], c["message"]) for c in data["checks"]] == [
        ("starts_at_zero", 1, 1, True, ""), ("adds_amount", 2, 2, True, ""), ("counts_every_add", 2, 2, True, "")]


def test_test_working_copy_fails_with_exit_1(fixture_root):
    result = run("test", "tally", "-k", "starts_at_zero")
    assert result.exit_code == 1
    assert result.output == (
        "FAIL starts_at_zero (1 point)\n"
        "\n"
        "Not written yet: tally.py:6: NotImplementedError: Tally() is yours to write; see README.md. Write what "
        "README.md asks for, then grade again.\n"
        "Every check fails until then.\n"
        f"Isolation: {ISOLATION}\n"
        "Score: 0/1\n"
    )


def test_test_prints_every_verdict_then_each_failure_with_its_hint(fixture_root, tmp_path):
    """The untouched stub is said to be unwritten once (no hint: it would give the answer away); a real mistake
    gets each failure in full, with the hint of its check."""
    result = run("test", "tally")
    assert result.exit_code == 1
    assert result.output == (
        "FAIL starts_at_zero (1 point)\n"
        "FAIL adds_amount (2 points)\n"
        "FAIL counts_every_add (2 points)\n"
        "\n"
        "Not written yet: tally.py:6: NotImplementedError: Tally() is yours to write; see README.md. Write what "
        "README.md asks for, then grade again.\n"
        "Every check fails until then.\n"
        f"Isolation: {ISOLATION}\n"
        "Score: 0/5\n"
    )
    impl = tmp_path / "tally.py"
    impl.write_text("class Tally:\n    value = 0\n\n    def add(self, n=1):\n        pass\n")
    result = run("test", "tally", "--impl", str(impl))
    assert result.output.startswith(
        "PASS starts_at_zero (1 point)\n"
        "FAIL adds_amount (2 points)\n"
        "FAIL counts_every_add (2 points)\n"
        "\n"
        "FAIL tally › adds_amount (2 points)\n"
        "  Expected: add(n) adds n.\n")
    assert "  Hint: Guard the read-modify-write with a lock.\n" in result.output
    assert result.output.endswith(f"Isolation: {ISOLATION}\nScore: 1/5\n")


def test_test_junit(fixture_root):
    result = run("test", "tally", "--bug", "ignores_amount", "--format", "junit")
    assert result.exit_code == 1
    assert platform_schemas.junit_errors(result.output) == []
    suites = ElementTree.fromstring(result.output.encode())
    assert [(suites.tag, suites.get("tests"), suites.get("failures"), suites.get("errors"))] == [
        ("testsuites", "3", "1", "0")]
    cases = suites.findall("testsuite/testcase")
    assert [(c.get("classname"), c.get("name"), [child.tag for child in c]) for c in cases] == [
        ("tally", "starts_at_zero", []), ("tally", "adds_amount", ["failure"]), ("tally", "counts_every_add", [])]
    failure = cases[1].find("failure")
    assert failure.get("message") == "assert 2 == 6"
    assert failure.text.startswith("Expected: add(n) adds n.\nassert 2 == 6\n")
    assert [(p.get("name"), p.get("value")) for p in suites.findall("testsuite/properties/property")] == [
        ("score", "3"), ("max_score", "5"), ("starts_at_zero.points", "1"), ("starts_at_zero.max_points", "1"),
        ("adds_amount.points", "0"), ("adds_amount.max_points", "2"), ("counts_every_add.points", "2"),
        ("counts_every_add.max_points", "2"), ("isolation", ISOLATION)]


def test_junit_an_import_failure_is_an_error_of_each_check(fixture_root, tmp_path):
    impl = tmp_path / "tally.py"
    impl.write_text("class Tally(:\n")
    result = run("test", "tally", "--impl", str(impl), "--format", "junit")
    assert result.exit_code == 1
    assert platform_schemas.junit_errors(result.output) == []
    suite = ElementTree.fromstring(result.output.encode()).find("testsuite")
    assert (suite.get("failures"), suite.get("errors")) == ("0", "3")
    assert [[child.tag for child in case] for case in suite.findall("testcase")] == [["error"]] * 3
    assert suite.find("testcase/error").get("message").startswith("not run: tally.py does not import (")
    assert suite.find("system-err").text.startswith("Could not import the submission:\n")


def test_test_gradescope_is_valid_results_json(fixture_root):
    result = run("test", "tally", "--bug", "ignores_amount", "--format", "gradescope")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert platform_schemas.errors(data, "gradescope") == []
    assert (data["score"], data["output"]) == (3, f"tally: 3/5\nIsolation: {ISOLATION}")
    assert (data["output_format"], data["test_output_format"], data["test_name_format"]) == ("text", "text", "text")
    assert [(t["name"], t["score"], t["max_score"], t["status"], t["visibility"]) for t in data["tests"]] == [
        ("tally › starts_at_zero", 1, 1, "passed", "visible"),
        ("tally › adds_amount", 0, 2, "failed", "visible"),
        ("tally › counts_every_add", 2, 2, "passed", "visible"),
    ]
    assert data["tests"][0]["output"] == "Passed: A new tally reads 0."
    assert data["tests"][1]["output"].startswith("Expected: add(n) adds n.\nassert 2 == 6\n")


def test_the_schema_validators_reject_what_the_platforms_would(fixture_root):
    assert platform_schemas.errors({"score": 1}, "gradescope") == []
    assert platform_schemas.errors({"output": "x"}, "gradescope") == [
        "(top): {'output': 'x'} is not valid under any of the given schemas"]
    assert platform_schemas.errors({"tests": [{"score": "1", "status": "ok", "visbility": "visible"}]}, "gradescope") == [
        "tests/0: Additional properties are not allowed ('visbility' was unexpected)",
        "tests/0/score: '1' is not of type 'number'",
        "tests/0/status: 'ok' is not one of ['passed', 'failed']",
    ]
    assert platform_schemas.errors({"gradable": False}, "prairielearn") == []
    assert platform_schemas.errors({"gradable": True}, "prairielearn") == ["(top): 'score' is a required property"]
    assert platform_schemas.errors({"score": 1.5}, "prairielearn") == ["score: 1.5 is greater than the maximum of 1"]
    assert platform_schemas.errors({"version": 2, "status": "error"}, "exercism") == [
        "(top): 'message' is a required property"]
    assert platform_schemas.errors({"version": 2, "status": "pass"}, "exercism") == [
        "(top): 'tests' is a required property"]
    assert platform_schemas.junit_errors(
        '<testsuites><testsuite name="a" tests="1" failures="0"><testcase name="x"><properties/></testcase>'
        '</testsuite></testsuites>') == [
        "/testsuites/testsuite: missing required attribute 'errors'",
        "/testsuites/testsuite/testcase: Unexpected child with tag 'properties' at position 1."]


def test_test_out_writes_the_report_to_a_file(fixture_root, tmp_path):
    out = tmp_path / "report.json"
    result = run("test", "tally", "--reference", "--format", "json", "--out", str(out))
    assert (result.exit_code, result.output) == (0, "")
    assert json.loads(out.read_text())["score"] == 5


def test_test_all_grades_started_problems_with_a_summary(copied_root):
    assert run("test", "--all").output == "Error: nothing to grade: you have started no problem yet\n"
    shutil.copytree(copied_root / "problems/tally", copied_root / "problems/tally_two")  # a second one, not started
    (copied_root / "problems/tally_two/tally.py").rename(copied_root / "problems/tally_two/tally_two.py")
    (copied_root / "problems/tally_two/test_tally.py").rename(copied_root / "problems/tally_two/test_tally_two.py")
    (copied_root / "problems/tally/tally.py").write_text((copied_root / "solutions/tally/tally.py").read_text())
    result = run("test", "--all", "--format", "terminal", "--out", str(copied_root / "all.txt"))
    assert result.exit_code == 0
    assert (copied_root / "all.txt").read_text() == (
        "PASS starts_at_zero (1 point)\n"
        "PASS adds_amount (2 points)\n"
        "PASS counts_every_add (2 points)\n"
        f"Isolation: {ISOLATION}\n"
        "Score: 5/5\n"
        "\n"
        "problem                       score\n"
        "tally                           5/5\n"
        "tally_two               not started\n"
        "total of the 1 started          5/5\n"
    )


def test_test_submission_folder(fixture_root, tmp_path):
    (tmp_path / "conftest.py").write_text("raise SystemExit('not mine to run')\n")
    result = run("test", "tally", "--submission", str(tmp_path), "--format", "gradescope")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert platform_schemas.errors(data, "gradescope") == []
    assert data["score"] == 0
    assert data["output"] == ("tally: 0/5\n"
                              "Ignored (only the problem files <slug>.py are graded): conftest.py")
    assert {t["output"].splitlines()[-1] for t in data["tests"]} == {"not graded: no file tally.py in the submission"}
    (tmp_path / "tally.py").write_text((fixture_root / "solutions/tally/tally.py").read_text())
    result = run("test", "--all", "--submission", str(tmp_path))
    assert result.exit_code == 0
    assert result.output.startswith("Ignored (only the problem files <slug>.py are graded): conftest.py\n")
    assert result.output.endswith("Score: 5/5\n")


def test_test_bad_combinations_exit_2(fixture_root, tmp_path):
    cases = {
        ("test",): "Error: name a problem to grade (grader test SLUG) or use --all; grader list shows the problems\n",
        ("test", "tally", "--all"): "Error: name problems or use --all, not both\n",
        ("test", "tally", "--bug", "ignores_amount", "--submission", str(tmp_path)):
            "Error: use only one of --impl, --reference, --bug, --mutant and --submission\n",
        ("test", "tally", "tally_too", "--reference"):
            "Error: no problem named 'tally_too'. Did you mean 'tally'?\n",
        ("test", "tally", "--submission", str(tmp_path / "nope")): f"Error: no such folder: {tmp_path / 'nope'}\n",
    }
    for args, message in cases.items():
        result = run(*args)
        assert (result.exit_code, result.output) == (2, message)


def test_a_bad_option_is_one_error_line(fixture_root):
    cases = {
        ("test", "tally", "--format", "xml"): "Error: Invalid value for '--format': 'xml' is not one of 'terminal', "
                                              "'json', 'junit', 'gradescope', 'prairielearn', 'exercism'. "
                                              "(see grader test --help)\n",
        ("tset",): "Error: No such command 'tset'. Did you mean 'test'? (see grader --help)\n",
        ("export", "studnt"): "Error: No such command 'studnt'. Did you mean 'student'? (see grader export --help)\n",
        ("grade",): "Error: Missing argument 'SUBMISSIONS_DIR'. (see grader grade --help)\n",
    }
    for args, message in cases.items():
        result = run(*args)
        assert (result.exit_code, result.output) == (2, message)


def test_watch_regrades_when_the_file_is_saved(fixture_root, tmp_path):
    impl = tmp_path / "tally.py"
    impl.write_text((fixture_root / "problems/tally/tally.py").read_text())
    env = {**os.environ, "GRADER_ROOT": str(fixture_root), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "watch", "tally", "--impl", str(impl), "--interval", "0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def read_until(text):
        seen = []
        while not seen or text not in seen[-1]:
            seen.append(lines.get(timeout=120))
        return seen

    try:
        assert read_until("Score:")[-1] == "Score: 0/5\n"
        read_until("Waiting for the next save")
        impl.write_text((fixture_root / "solutions/tally/tally.py").read_text())
        assert read_until("Score:")[-1] == "Score: 5/5\n"
        proc.send_signal(signal.SIGINT)
        assert read_until("Stopped watching.")
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()


def test_watch_stops_a_grading_when_a_newer_save_comes_and_labels_each_with_its_save_time(fixture_root, tmp_path):
    impl = tmp_path / "tally.py"
    hangs = (fixture_root / "solutions/tally/tally.py").read_text().replace("import threading", "import threading\nimport time")
    hangs = hangs.replace("        with self._lock:", "        time.sleep(10**6)\n        with self._lock:", 1)
    impl.write_text(hangs)
    env = {**os.environ, "GRADER_ROOT": str(fixture_root), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "watch", "tally", "--impl", str(impl), "--interval", "0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def read_until(text):
        seen = []
        while not seen or text not in seen[-1]:
            seen.append(lines.get(timeout=120))
        return seen

    def saved_at(path):
        return time.strftime("%H:%M:%S", time.localtime(path.stat().st_mtime_ns / 1e9))

    try:
        first = saved_at(impl)
        assert read_until("== tally, saved at")[-1] == f"== tally, saved at {first} ==\n"
        assert read_until("starts_at_zero")[-1].startswith("PASS starts_at_zero")  # add() hangs in the next check
        impl.write_text((fixture_root / "solutions/tally/tally.py").read_text())
        second = saved_at(impl)
        seen = read_until("Score:")
        assert "Saved again: that grading is stopped, the new version is graded instead.\n" in seen
        assert f"== tally, saved at {second} ==\n" in seen and seen[-1] == "Score: 5/5\n"
        assert not any(line.startswith("FAIL") for line in seen)  # nothing of the stopped grading is printed
        proc.send_signal(signal.SIGINT)
        assert read_until("Stopped watching.")
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()


def test_test_bug(fixture_root):
    result = run("test", "tally", "--bug", "ignores_amount", "--json")
    assert result.exit_code == 1
    assert [c["passed"] for c in json.loads(result.output)["checks"]] == [True, False, True]


def test_test_impl_file(fixture_root, tmp_path):
    impl = tmp_path / "mine.py"
    impl.write_text((fixture_root / "solutions/tally/tally.py").read_text())
    result = run("test", "tally", "--impl", str(impl))
    assert result.exit_code == 0
    assert result.output.endswith("Score: 5/5\n")


def test_unknown_slug_exits_2_with_a_suggestion(fixture_root):
    result = run("test", "taly")
    assert result.exit_code == 2
    assert result.output == "Error: no problem named 'taly'. Did you mean 'tally'?\n"


def test_broken_toml_exits_2(copied_root):
    (copied_root / "problems/tally/problem.toml").write_text('title = "Tally"\n')
    for args in (["list"], ["show", "tally"], ["test", "tally"], ["check"]):
        result = run(*args)
        assert result.exit_code == 2
        assert result.output == "Error: problems/tally/problem.toml: missing key 'summary'\n"


def test_bad_bug_check_and_file_exit_2(fixture_root, tmp_path):
    assert run("test", "tally", "--bug", "ignores").output == (
        "Error: no bug named 'ignores' for tally. Did you mean 'ignores_amount'?\n")
    assert run("test", "tally", "-k", "adds_amout").output == (
        "Error: no check named 'adds_amout' in tally. Did you mean 'adds_amount'?\n")
    result = run("test", "tally", "--impl", str(tmp_path / "nope.py"))
    assert (result.exit_code, result.output) == (2, f"Error: no such file: {tmp_path / 'nope.py'}\n")
    result = run("test", "tally", "--reference", "--bug", "ignores_amount")
    assert (result.exit_code, result.output) == (2, "Error: use only one of --impl, --reference, --bug, --mutant and --submission\n")


def test_check_is_sound_on_the_fixture(fixture_root):
    result = run("check", "--jobs", "2")
    assert result.exit_code == 0
    assert result.output == (
        "problem  graded              verdict  detail\n"
        "tally    reference           ok       full marks 5/5\n"
        "tally    stub                ok       fails all 3 checks\n"
        "tally    bug ignores_amount  ok       caught by adds_amount\n"
        "1 problem(s): all sound\n"
    )


def test_check_reports_a_missed_bug(copied_root):
    bug = copied_root / "solutions/tally/bugs/ignores_amount.patch"
    bug.write_text(bug.read_text().replace("Caught by: adds_amount", "Caught by: adds_amount, counts_every_add"))
    result = run("check", "tally")
    assert result.exit_code == 1
    assert "tally    bug ignores_amount  UNSOUND  missed: passes counts_every_add\n" in result.output
    assert result.output.endswith("1 problem(s): 1 unsound row(s)\n")


def test_check_grades_both_kinds_of_bug_and_a_stale_patch_is_unsound(copied_root):
    bugs = copied_root / "solutions/tally/bugs"
    (bugs / "starts_at_one.py").write_text('"""Tally() starts at 1.\n\nCaught by: starts_at_zero\n"""\n'
                                           "class Tally:\n    value = 1\n\n    def add(self, n=1):\n        pass\n")
    result = run("check", "tally")
    assert (result.exit_code, result.output) == (0, (
        "problem  graded              verdict  detail\n"
        "tally    reference           ok       full marks 5/5\n"
        "tally    stub                ok       fails all 3 checks\n"
        "tally    bug ignores_amount  ok       caught by adds_amount\n"
        "tally    bug starts_at_one   ok       caught by starts_at_zero\n"
        "1 problem(s): all sound\n"))
    reference = copied_root / "solutions/tally/tally.py"
    reference.write_text(reference.read_text().replace("self._value += n", "self._value = self._value + n"))
    result = run("check", "tally")
    assert (result.exit_code, result.output) == (1, (
        "problem  graded              verdict  detail\n"
        "tally    reference           ok       full marks 5/5\n"
        "tally    stub                ok       fails all 3 checks\n"
        "tally    bug ignores_amount  UNSOUND  solutions/tally/bugs/ignores_amount.patch: hunk 1 of 1 (@@ -10,7 +10,7 @@) "
        "does not apply to solutions/tally/tally.py: at line 13 the patch expects '            self._value += n', "
        "the file has '            self._value = self._value + n'; its 7 old lines match nowhere else\n"
        "tally    bug starts_at_one   ok       caught by starts_at_zero\n"
        "1 problem(s): 1 unsound row(s)\n"))
    result = run("test", "tally", "--bug", "ignores_amount")
    assert (result.exit_code, result.output.split(": hunk")[0]) == (2, "Error: solutions/tally/bugs/ignores_amount.patch")


def test_show_prints_a_bug_with_its_patch_applied(fixture_root):
    result = run("show", "tally", "--bug", "ignores_amount")
    reference = (fixture_root / "solutions/tally/tally.py").read_text()
    assert (result.exit_code, result.output) == (0, reference.replace("self._value += n", "self._value += 1"))
