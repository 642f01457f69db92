"""The grader command, through click's CliRunner, on the fixture problem."""
import json

from click.testing import CliRunner

from grader.cli import main


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
        "  Expected: A new tally reads 0.\n"
        "  tally.py:6: NotImplementedError: Tally() is yours to write; see README.md\n"
        "Score: 0/1\n"
    )


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
    assert (result.exit_code, result.output) == (2, "Error: use only one of --impl, --reference and --bug\n")


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
    bug = copied_root / "solutions/tally/bugs/ignores_amount.py"
    bug.write_text(bug.read_text().replace("Caught by: adds_amount", "Caught by: adds_amount, counts_every_add"))
    result = run("check", "tally")
    assert result.exit_code == 1
    assert "tally    bug ignores_amount  UNSOUND  missed: passes counts_every_add\n" in result.output
    assert result.output.endswith("1 problem(s): 1 unsound row(s)\n")
