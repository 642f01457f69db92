"""Grading a class with `grader grade`: the gradebook, the reports, resuming, and a fake class of 30."""
import functools
import json
import shutil
import xml.etree.ElementTree as ET
import zipfile
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import batch, catalog, gradebook, sandbox
from grader.batch import started
from grader.report import CheckResult, Report
from grader.cli import main

REPO = Path(__file__).resolve().parent.parent


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def _class(root: Path, fixture: Path) -> Path:
    """Six students of the fixture problem tally, each with a different kind of submission."""
    reference = (fixture / "solutions/tally/tally.py").read_text()
    bug = catalog.load("tally", fixture).bug("ignores_amount").source().decode()
    stub = (fixture / "problems/tally/tally.py").read_text()
    files = {
        "alice/tally.py": reference,
        "bob/tally.py": bug,
        "bob/conftest.py": "raise SystemExit('a conftest must never run')\n",
        "bob/pytest.ini": "[pytest]\naddopts = -p no:grader\n",
        "bob/threading.py": "raise ImportError('shadowed')\n",
        "carol/handout/problems/tally/tally.py": reference,
        "dave/notes.txt": "I did not get to it\n",
        "erin/a/tally.py": reference,
        "erin/b/tally.py": bug,
        "frank/tally.py": stub,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


EXPECTED_CSV = (
    "student,tally,total\n"
    "Points Possible,5,5\n"
    "alice,5,5\n"
    "bob,3,3\n"
    "carol,5,5\n"
    "dave,0,0\n"
    "erin,0,0\n"
    "frank,0,0\n"
)


def test_grade_writes_the_gradebook_and_a_report_per_student(fixture_root, tmp_path):
    submissions = _class(tmp_path / "class", fixture_root)
    result = run("grade", submissions, "--jobs", 2, "--out", tmp_path / "grades")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("4 grading(s) to run.\n")
    assert result.output.endswith("Graded 6 student(s) on tally.\n"
                                  f"Gradebook: {tmp_path / 'grades/gradebook.csv'} (and .ods)  Reports: {tmp_path / 'grades/reports'}/\n")
    assert (tmp_path / "grades/gradebook.csv").read_text() == EXPECTED_CSV
    reports = tmp_path / "grades/reports"
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        f"{s}{ext}" for s in ("alice", "bob", "carol", "dave", "erin", "frank") for ext in (".json", ".txt"))
    assert sorted(p.name for p in (tmp_path / "grades").iterdir()) == [
        ".grader-key", "gradebook.csv", "gradebook.ods", "reports"]
    bob = json.loads((reports / "bob.json").read_text())
    assert (bob["student"], bob["score"], bob["max_score"], bob["base_seed"]) == ("bob", 3, 5, 0)
    assert bob["ignored"] == ["conftest.py", "pytest.ini", "threading.py (named like the standard module threading)"]
    tally = bob["problems"]["tally"]
    assert (tally["file"], tally["report"]["score"]) == ("tally.py", 3)
    assert [(c["name"], c["passed"]) for c in tally["report"]["checks"]] == [
        ("starts_at_zero", True), ("adds_amount", False), ("counts_every_add", True)]
    assert json.loads((reports / "carol.json").read_text())["problems"]["tally"]["file"] == \
        "handout/problems/tally/tally.py"
    erin = json.loads((reports / "erin.json").read_text())["problems"]["tally"]
    assert erin["note"] == "2 files named tally.py (a/tally.py, b/tally.py); keep exactly one"
    assert (reports / "bob.txt").read_text().startswith(
        "Ignored (only the problem files <slug>.py are graded): conftest.py, pytest.ini, "
        "threading.py (named like the standard module threading)\n\n"
        "== tally ==\n"
        "PASS starts_at_zero (1 point)\n")
    assert (reports / "dave.txt").read_text().endswith(
        "FAIL counts_every_add (2 points)\n"
        "\n"
        "Not graded: no file tally.py in the submission\n"
        "No check could run, so each one fails.\n"
        "Score: 0/5\n"
        "\n"
        "problem  score\n"
        "tally      0/5\n"
        "total      0/5\n")


def test_the_same_class_graded_twice_gives_the_same_bytes(fixture_root, tmp_path):
    submissions = _class(tmp_path / "class", fixture_root)
    for out in ("first", "second"):
        assert run("grade", submissions, "--jobs", 2, "--out", tmp_path / out).exit_code == 0
    for name in ("gradebook.csv", "gradebook.ods"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()


def test_grade_formats(fixture_root, tmp_path):
    submissions = _class(tmp_path / "class", fixture_root)
    assert run("grade", submissions, "--out", tmp_path / "gs", "--format", "gradescope").exit_code == 0
    data = json.loads((tmp_path / "gs/reports/bob.results.json").read_text())
    assert (data["score"], [t["status"] for t in data["tests"]]) == (3, ["passed", "failed", "passed"])
    assert run("grade", submissions, "--out", tmp_path / "ju", "--format", "junit").exit_code == 0
    assert (tmp_path / "ju/reports/bob.xml").read_text().count("<failure ") == 1


def test_resume_grades_only_what_is_missing_or_changed(fixture_root, tmp_path):
    submissions = _class(tmp_path / "class", fixture_root)
    out = tmp_path / "grades"
    assert run("grade", submissions, "--out", out).exit_code == 0
    (submissions / "frank/tally.py").write_text((fixture_root / "solutions/tally/tally.py").read_text())
    result = run("grade", submissions, "--out", out, "--resume")
    assert result.exit_code == 0
    assert result.output.splitlines()[:2] == ["1 grading(s) to run.", "[1/1] frank  tally  5/5"]
    assert "(3 kept from the earlier run)" in result.output
    assert (out / "gradebook.csv").read_text() == EXPECTED_CSV.replace("frank,0,0", "frank,5,5")


def test_ctrl_c_keeps_what_was_graded_and_resume_finishes(fixture_root, tmp_path):
    submissions = tmp_path / "class"
    reference = (fixture_root / "solutions/tally/tally.py").read_text()
    for i in range(6):
        (submissions / f"s{i}").mkdir(parents=True)
        (submissions / f"s{i}/tally.py").write_text(reference)
    out = tmp_path / "grades"
    env = {**os.environ, "GRADER_ROOT": str(fixture_root), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "grader", "grade", str(submissions), "--jobs", "1", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:  # no deadline: each step waits for the event before it (the suite's time limit guards a hang)
        assert proc.stdout.readline() == "6 grading(s) to run.\n"
        first = proc.stdout.readline()
        assert first.startswith("[1/6] s0  tally")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate()
        stdout = first + stdout
    finally:
        proc.kill()
    assert proc.returncode == 130
    rows = (out / "gradebook.csv").read_text().splitlines()
    done = sum(row.endswith(",5,5") for row in rows[2:])
    assert 1 <= done < 6 and rows[:2] == ["student,tally,total", "Points Possible,5,5"]
    assert [row for row in rows[2:] if not row.endswith(",5,5")] == [f"s{i},,0" for i in range(done, 6)]
    # each progress line once, in order, and the count says the same
    assert stdout.splitlines() == [f"[{i + 1}/6] s{i}  tally  5/5" for i in range(done)]
    assert stderr == (f"Interrupted: {done} of 6 gradings ran and are written to {out}. "
                      f"Run the same command with --resume to grade the other {6 - done}.\n")
    result = run("grade", submissions, "--out", out, "--resume")
    assert result.output.startswith(f"{6 - done} grading(s) to run.\n")
    assert (out / "gradebook.csv").read_text() == "student,tally,total\nPoints Possible,5,5\n" + "".join(
        f"s{i},5,5\n" for i in range(6))


def test_resume_trusts_only_the_reports_this_grader_wrote(fixture_root, tmp_path):
    submissions = _class(tmp_path / "class", fixture_root)
    out = tmp_path / "grades"
    assert run("grade", submissions, "--out", out).exit_code == 0
    assert oct((out / ".grader-key").stat().st_mode & 0o777) == "0o600"
    forged = json.loads((out / "reports/bob.json").read_text())  # what a hostile grading could have written
    forged["score"] = 5
    forged["problems"]["tally"]["report"]["checks"] = [
        {**check, "passed": True, "message": ""} for check in forged["problems"]["tally"]["report"]["checks"]]
    (out / "reports/bob.json").write_text(json.dumps(forged))
    result = run("grade", submissions, "--out", out, "--resume")
    assert result.output.splitlines()[:2] == ["1 grading(s) to run.", "[1/1] bob  tally  3/5"]
    assert ("Note: the stored report of bob was not written by this grader (its HMAC does not match), so it was "
            "not trusted: graded again.") in result.output
    assert (out / "gradebook.csv").read_text() == EXPECTED_CSV


def test_grade_needs_an_os_sandbox_unless_told_otherwise(fixture_root, tmp_path, monkeypatch):
    submissions = _class(tmp_path / "class", fixture_root)
    monkeypatch.setenv("GRADER_ISOLATION", "none")
    monkeypatch.setattr(sandbox, "plan", functools.cache(sandbox.plan.__wrapped__))
    result = run("grade", submissions, "--out", tmp_path / "grades")
    assert result.exit_code == 2
    assert result.output.startswith("Error: no OS sandbox here (") and result.output.endswith(
        "and grader grade runs students' code only in one: install bubblewrap (apt-get install bubblewrap) or run "
        "as root, or pass --allow-unsandboxed to grade with time and memory limits only\n")
    assert not (tmp_path / "grades").exists()
    result = run("grade", submissions, "--out", tmp_path / "grades", "--allow-unsandboxed")
    assert result.exit_code == 0 and (tmp_path / "grades/gradebook.csv").read_text() == EXPECTED_CSV
    report = json.loads((tmp_path / "grades/reports/alice.json").read_text())
    assert report["problems"]["tally"]["report"]["limits"]["sandbox"]["level"] == "none"


def test_started_tells_an_untouched_stub_from_work(tmp_path):
    """Over every problem of the repository: its stub is not started, its reference and bugs are."""
    for slug in catalog.slugs(REPO):
        try:
            problem = catalog.load(slug, REPO)
        except catalog.ProblemError:  # a folder that is being written; tests/test_problems.py reports it
            continue
        assert not started(problem.stub), slug
        bugs = [bug.write(tmp_path / slug / bug.name) for bug in problem.bugs]
        assert [path for path in [problem.reference, *bugs] if not started(path)] == []
    partial = tmp_path / "tally.py"
    stub = (REPO / "tests/fixtures/root/problems/tally/tally.py").read_text()
    partial.write_text(stub.replace('raise NotImplementedError("add() is yours to write; see README.md")',
                                    "self._value += n"))
    assert started(partial)


def test_grade_bad_input_exits_2(fixture_root, tmp_path):
    assert run("grade", tmp_path / "nope").output == f"Error: no such folder: {tmp_path / 'nope'}\n"
    assert run("grade", tmp_path).output == f"Error: no student folders in {tmp_path} (expected one folder per student)\n"
    (tmp_path / "alice").mkdir()
    result = run("grade", tmp_path)
    assert (result.exit_code, result.output) == (
        2, f"Error: no student folder in {tmp_path} holds a problem file (<slug>.py, one of: tally)\n")
    assert run("grade", tmp_path, "--problem", "taly").output == "Error: no problem named 'taly'. Did you mean 'tally'?\n"
    assert run("grade", tmp_path, "--jobs", 0).output == "Error: --jobs must be at least 1, not 0\n"


def test_the_gradebook_ods_holds_the_same_table_as_the_csv():
    """Every cell, a name that looks like a number included; the CSV is UTF-8 without a byte-order mark."""
    table = gradebook.rows([("tally", 5), ("counter", 10)], [("Zoë Ñúñez", [5, None]), ("李雷", [0, 7]), ("007", [1, 2])])
    assert gradebook.to_csv(table) == ("student,tally,counter,total\nPoints Possible,5,10,15\nZoë Ñúñez,5,,5\n"
                                       "李雷,0,7,7\n007,1,2,3\n")
    with zipfile.ZipFile(__import__("io").BytesIO(gradebook.to_ods(table))) as ods:
        assert ods.namelist()[0] == "mimetype" and ods.infolist()[0].compress_type == zipfile.ZIP_STORED
        assert ods.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
        content = ET.fromstring(ods.read("content.xml"))
    office = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
    table_ns = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
    cells = [[(cell.get(f"{office}value-type"), cell.get(f"{office}value"), "".join(cell.itertext()))
              for cell in row] for row in content.iter(f"{table_ns}table-row")]
    assert cells[2] == [("string", None, "Zoë Ñúñez"), ("float", "5", "5"), (None, None, ""), ("float", "5", "5")]
    assert cells[4][0] == ("string", None, "007")
    assert [[text for _, _, text in row] for row in cells] == [[str(v) for v in row] for row in table]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (apt-get install "
                    "libreoffice-calc-nogui)")
def test_libreoffice_reads_the_ods_right_and_the_csv_wrong(tmp_path):
    """The finding behind gradebook.ods: LibreOffice's default CSV import reads UTF-8 as an 8-bit character set,
    a byte-order mark included, and reads the OpenDocument spreadsheet as written."""
    table = gradebook.rows([("tally", 5)], [("Zoë", [5])])
    (tmp_path / "g.ods").write_bytes(gradebook.to_ods(table))
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + gradebook.to_csv(table).encode())
    out = {}
    for name in ("g.ods", "bom.csv"):
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                        "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / "out"), str(tmp_path / name)],
                       capture_output=True, timeout=300, check=True)
        out[name] = (tmp_path / "out" / (Path(name).stem + ".csv")).read_text(encoding="utf-8")
    assert out["g.ods"] == "student,tally,total\nPoints Possible,5,5\nZoë,5,5\n"
    assert "Zoë" not in out["bom.csv"]


def _fake_grade(problem, path, *, source, base_seed, replay):
    """A grading decided by the file alone, with fixed times: the reference passes, the bug fails adds_amount,
    the stub fails all (so that two runs write the same bytes, times included)."""
    text = source.decode()
    fails = ({c.name for c in problem.checks} if "NotImplementedError" in text
             else {"adds_amount"} if "self._value += 1" in text else set())
    checks = [CheckResult(c.name, c.points, c.name not in fails, "" if c.name not in fails else "assert 2 == 6",
                          doc=c.doc, hint=c.hint, seed=None, duration=0.25, hidden=c.hidden) for c in problem.checks]
    return Report(problem.slug, str(path), checks, limits={"sandbox": {"summary": "fake"}}, returncode=0)


def _files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _big_class(root: Path, fixture: Path) -> Path:
    """Eleven students, so that 3 shards get unequal shares; two hand in nothing."""
    reference = (fixture / "solutions/tally/tally.py").read_text()
    bug = catalog.load("tally", fixture).bug("ignores_amount").source().decode()
    for i in range(11):
        folder = root / f"s{i:02d}"
        folder.mkdir(parents=True)
        if i % 5 != 4:
            (folder / "tally.py").write_text([reference, bug][i % 2])
        (folder / "notes.txt").write_text("ignored\n")
    return root


def test_three_shards_merged_are_byte_for_byte_a_single_run(fixture_root, tmp_path, monkeypatch):
    monkeypatch.setattr(batch.runner, "grade", _fake_grade)
    submissions = _big_class(tmp_path / "class", fixture_root)
    assert run("grade", submissions, "--jobs", 2, "--out", tmp_path / "single").exit_code == 0
    shares = []
    for i in (1, 2, 3):
        result = run("grade", submissions, "--jobs", 2, "--out", tmp_path / f"shard{i}", "--shard", f"{i}/3")
        assert result.exit_code == 0, result.output
        shares.append(json.loads((tmp_path / f"shard{i}" / batch.MANIFEST).read_text())["gradings"])
        assert not (tmp_path / f"shard{i}/gradebook.csv").exists()
    assert [len(share) for share in shares] == [3, 3, 3]  # 9 gradings: the two without a file are no one's
    assert sorted(pair for share in shares for pair in share) == [[f"s{i:02d}", "tally"] for i in range(11) if i % 5 != 4]
    assert result.output.endswith(f"Graded shard 3/3: 3 of the class's 9 gradings.\nReports: "
                                  f"{tmp_path / 'shard3/reports'}/  When all 3 shards are done: grader merge SHARD_DIR... "
                                  "--out DIR\n")
    (tmp_path / "merged").mkdir()
    shutil.copyfile(tmp_path / "single/.grader-key", tmp_path / "merged/.grader-key")  # the key as an input
    shards = [tmp_path / f"shard{i}" for i in (3, 1, 2)]  # in any order
    result = run("merge", *shards, "--out", tmp_path / "merged")
    assert result.exit_code == 0, result.output
    assert result.output == (f"Merged 3 shard(s): 11 student(s) on tally.\nGradebook: {tmp_path / 'merged/gradebook.csv'}"
                             f" (and .ods)  Reports: {tmp_path / 'merged/reports'}/\n")
    single = _files(tmp_path / "single")
    assert _files(tmp_path / "merged") == single
    assert "s04.txt" in " ".join(single) and single["gradebook.csv"].startswith(b"student,tally,total\nPoints Possible,5,5\n")
    # With a key of its own, the merge differs from the single run in the HMACs only, and they are its key's.
    assert run("merge", *shards, "--out", tmp_path / "own").exit_code == 0
    own = _files(tmp_path / "own")
    assert own.keys() == single.keys() and own[".grader-key"] != single[".grader-key"]
    unsigned = lambda data: {k: v for k, v in json.loads(data).items() if k != "hmac"}  # noqa: E731
    for name in single:
        if name.endswith(".json"):
            assert unsigned(own[name]) == unsigned(single[name]) and own[name] != single[name]
        elif name != ".grader-key":
            assert own[name] == single[name], name
    resumed = run("grade", submissions, "--out", tmp_path / "own", "--resume")  # the merge's reports are trusted
    assert resumed.output.startswith("0 grading(s) to run.\n") and "(9 kept from the earlier run)" in resumed.output


def test_merge_refuses_what_is_not_the_n_shares_of_one_class(fixture_root, tmp_path, monkeypatch):
    monkeypatch.setattr(batch.runner, "grade", _fake_grade)
    submissions = _big_class(tmp_path / "class", fixture_root)
    shards = [tmp_path / f"shard{i}" for i in (1, 2, 3)]
    for i, folder in enumerate(shards, 1):
        assert run("grade", submissions, "--out", folder, "--shard", f"{i}/3").exit_code == 0

    def refused(*folders, out=None):
        result = run("merge", *folders, "--out", out or tmp_path / "merged")
        assert result.exit_code == 2 and not (tmp_path / "merged" / "gradebook.csv").exists()
        return result.output

    assert refused(*shards[:2]) == "Error: shard 3/3 is missing: merge all 3 shards\n"
    assert refused() == ("Error: name the shard folders to merge (the --out folders of grader grade --shard I/N)\n")
    assert refused(*shards, submissions) == f"Error: {submissions} is not the output of grader grade --shard (no shard.json)\n"
    (tmp_path / "full").mkdir()
    (tmp_path / "full/gradebook.csv").write_text("x\n")
    assert refused(*shards, out=tmp_path / "full") == (
        f"Error: {tmp_path / 'full'} is not empty; merge into a new folder (it may hold only .grader-key)\n")
    copy = tmp_path / "copy"
    shutil.copytree(shards[1], copy)
    assert refused(shards[0], shards[1], copy, shards[2]) == f"Error: {shards[1]} and {copy} are both shard 2/3\n"
    # A report changed after its shard wrote it.
    forged = shards[1] / "reports/s01.json"
    data = json.loads(forged.read_text())
    data["score"] = 5
    forged.write_text(json.dumps(data))
    assert refused(*shards) == (f"Error: {forged} was not written by the grader of {shards[1]} (its HMAC does not match "
                                f"{shards[1]}/.grader-key)\n")
    # A shard whose run was stopped before it graded all its share (written and signed as its grader would).
    key = batch.read_key(shards[1] / ".grader-key")
    del data["problems"]["tally"]["report"]
    data["score"] = 0
    del data["hmac"]
    forged.write_text(json.dumps({**data, "hmac": batch._mac(key, data)}))
    assert refused(*shards) == (f"Error: {shards[1]} has not graded s01's tally yet: run that shard's grader grade "
                                "again with --resume\n")
    other = tmp_path / "other"
    assert run("grade", submissions, "--out", other, "--shard", "2/3", "--format", "junit").exit_code == 0
    assert refused(shards[0], other, shards[2]) == (
        f"Error: {other} and {shards[0]} are shards of different runs (they differ in format): grade every shard from "
        "the same submissions with the same options\n")
    for bad in ("0/3", "4/3", "2", "a/b"):
        assert run("grade", submissions, "--shard", bad).output == (
            f"Error: --shard must be I/N with 1 <= I <= N (e.g. 2/3), not '{bad}'\n")


def test_real_gradings_in_three_shards_give_the_single_run_gradebook(fixture_root, tmp_path):
    submissions = _class(tmp_path / "class", fixture_root)
    for i in (1, 2, 3):
        assert run("grade", submissions, "--jobs", 2, "--out", tmp_path / f"shard{i}", "--shard", f"{i}/3").exit_code == 0
    result = run("merge", *(tmp_path / f"shard{i}" for i in (1, 2, 3)), "--out", tmp_path / "merged")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "merged/gradebook.csv").read_text() == EXPECTED_CSV
    bob = (tmp_path / "merged/reports/bob.txt").read_text()
    assert bob.startswith("Ignored (only the problem files <slug>.py are graded): conftest.py, pytest.ini, threading.py")
    assert bob.endswith("Score: 3/5\n\nproblem  score\ntally      3/5\ntotal      3/5\n")


# The acceptance test of the course workflow: a class of 30 generated from the shipped references,
# stubs and bugs of the two fastest problems. A reference scores full marks, a stub 0, and a bug the
# maximum less the points of the checks it fails, listed here. Only bugs whose verdicts are decided by
# the scheduler or by sequential calls take part: on a racy bug, a real-thread stress check may pass
# one run and fail the next (get_raises_closed_before_draining loses items or not, by the timing).
BUG_FAILS = {
    "counter": {
        "compare_and_set_in_two_steps": ["compare_and_set_is_atomic", "compare_and_set_atomic_with_increment"],
        "compare_and_set_uses_own_lock": ["compare_and_set_atomic_with_increment"],
        "compares_with_is": ["compare_and_set_semantics"],
        "increment_returns_old_value": ["increment_returns_new_value", "increment_returns_unique_values",
                                        "compare_and_set_atomic_with_increment", "stress_real_threads"],
    },
    "bounded_buffer": {
        "capacity_off_by_one": ["capacity", "put_waits_when_full", "capacity_never_exceeded",
                                "close_wakes_blocked_producer"],
    },
}


def _variants(problem):
    """(code, expected score) for the reference, the stub and each bug of BUG_FAILS."""
    points = {check.name: check.points for check in problem.checks}
    variants = [(problem.reference.read_text(), problem.max_score), (problem.stub.read_text(), 0)]
    for name, fails in BUG_FAILS[problem.slug].items():
        code = problem.bug(name).source().decode()  # a patch bug: applied to the reference
        variants.append((code, problem.max_score - sum(points[check] for check in fails)))
    return variants


@pytest.mark.timeout(1200)  # 36 gradings, two at a time; the suite's 300 s is for one grading's worth
def test_a_class_of_30_gets_the_expected_gradebook(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADER_ROOT", raising=False)
    counter, buffer = (catalog.load(slug, REPO) for slug in ("counter", "bounded_buffer"))
    counters, buffers = _variants(counter), _variants(buffer)
    submissions = tmp_path / "class"
    expected = ["student,bounded_buffer,counter,total",
                f"Points Possible,{buffer.max_score},{counter.max_score},{buffer.max_score + counter.max_score}"]
    for i in range(30):
        student = submissions / f"student{i:02d}"
        folder = student / "work" if i % 10 == 3 else student  # some hand in a folder inside their folder
        folder.mkdir(parents=True)
        counter_score = buffer_score = 0  # a problem not handed in scores 0
        if i % 2 == 0 or i % 5 == 0:  # even students hand in counter.py, odd ones bounded_buffer.py, some both
            code, counter_score = counters[i // 2 % len(counters)]
            (folder / "counter.py").write_text(code)
        if i % 2 == 1 or i % 5 == 0:
            code, buffer_score = buffers[i // 2 % len(buffers)]
            (folder / "bounded_buffer.py").write_text(code)
        if i % 6 == 0:  # files that must not take part in grading
            (student / "conftest.py").write_text("raise SystemExit('a conftest must never run')\n")
            (student / "queue.py").write_text("raise ImportError('shadows the standard queue')\n")
        expected.append(f"student{i:02d},{buffer_score},{counter_score},{buffer_score + counter_score}")
    result = run("grade", submissions, "--jobs", 2, "--out", tmp_path / "grades")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("36 grading(s) to run.\n")
    assert (tmp_path / "grades/gradebook.csv").read_text().splitlines() == expected


OPEN_ROOT = Path(__file__).parent / "hostile" / "open_root"  # tally with the source policy off
NEIGHBOUR = '''\
"""A student who goes after the others: the guard in the process switched off, then their files, their reports,
their processes and the machine's CPU. Only the OS sandbox stands between."""
import builtins, os, signal, threading

builtins.__import__.__self__._busy.add(threading.get_ident())
TARGETS = {targets}
SEEN = {{}}
for path in TARGETS["write"]:
    try:
        with open(path, "w") as file:
            file.write("class Tally:\\\\n    value = 0\\\\n")
        SEEN[path] = "written"
    except OSError as exc:
        SEEN[path] = type(exc).__name__
for path in TARGETS["read"]:
    try:
        SEEN[path] = open(path).read()[:30]
    except OSError as exc:
        SEEN[path] = type(exc).__name__
for pid in [int(name) for name in os.listdir("/proc") if name.isdigit()]:
    if pid not in (os.getpid(), os.getppid()):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
print("seen:", sorted(SEEN.items()))
if not os.path.exists("hogs"):  # the module is imported once per check: one crowd of busy processes
    open("hogs", "w").close()
    for _ in range(20):
        if os.fork() == 0:
            while True:
                pass
builtins.__import__.__self__._busy.discard(threading.get_ident())


class Tally:
    value = 0

    def add(self, n=1):
        pass
'''


def test_a_hostile_student_changes_nothing_of_the_others(tmp_path, monkeypatch):
    """Graded beside five others (three at a time), a student who tries to rewrite their files and reports, read
    their code, kill their gradings and hog the CPU gets the one point earned, and the others are untouched."""
    if sandbox.plan().level != "namespaces":
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the OS sandbox; here: {sandbox.plan().summary}")
        pytest.skip(f"needs the OS sandbox (without it this test would change the machine); {sandbox.plan().summary}")
    monkeypatch.setenv("GRADER_ROOT", str(OPEN_ROOT))
    submissions, out = tmp_path / "class", tmp_path / "grades"
    reference = (OPEN_ROOT / "solutions/tally/tally.py").read_text()
    others = [f"s{i}" for i in range(5)]
    for name in others:
        (submissions / name).mkdir(parents=True)
        (submissions / name / "tally.py").write_text(reference)
    writes = [str(submissions / name / "tally.py") for name in others] + [
        str(out / "reports" / f"{name}.json") for name in others] + [str(out / "gradebook.csv")]
    reads = [str(submissions / "s0" / "tally.py"), str(out / ".grader-key")]
    (submissions / "mallory").mkdir()
    (submissions / "mallory" / "tally.py").write_text(
        NEIGHBOUR.format(targets=repr({"write": writes, "read": reads})))
    before = {name: (submissions / name / "tally.py").read_bytes() for name in others}
    result = run("grade", submissions, "--jobs", 3, "--out", out)
    assert result.exit_code == 0, result.output
    assert (out / "gradebook.csv").read_text() == (
        "student,tally,total\nPoints Possible,5,5\nmallory,1,1\n" + "".join(f"{name},5,5\n" for name in others))
    assert {name: (submissions / name / "tally.py").read_bytes() for name in others} == before
    for name in others:
        data = json.loads((out / "reports" / f"{name}.json").read_text())
        assert data["score"] == 5 and data["problems"]["tally"]["report"]["review"] == []
    stdout = json.loads((out / "reports/mallory.json").read_text())["problems"]["tally"]["report"]["stdout"]
    seen = [line for line in stdout.splitlines() if line.startswith("seen: ")]
    assert seen and seen[0] == "seen: " + repr(sorted(dict.fromkeys(writes + reads, "FileNotFoundError").items()))
