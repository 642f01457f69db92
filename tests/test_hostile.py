"""Hostile and broken submissions (issue #7): each file in tests/hostile/cases/ is graded through the real
runner, in a separate grader process, and must come to what tests/hostile/cases.toml says.

For every case: the grading finishes within its bound, the grader prints no traceback, a JSON report is
written, each check says what happened in the student's terms, the score is exactly what the submission
earned, the report is plain printable text, and no process of the run is left. The fixture problems are
tally (tests/fixtures/root) and async_tally and pacer (tests/hostile/root).
"""
import json
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
import tomllib
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader import catalog, sandbox
from grader.policy import violations

HERE = Path(__file__).parent / "hostile"
CASES = tomllib.loads((HERE / "cases.toml").read_text())
REPO = Path(__file__).resolve().parent.parent
# problem in cases.toml -> (slug, repository root)
ROOTS = {"tally": ("tally", Path(__file__).parent / "fixtures" / "root"), "async_tally": ("async_tally", HERE / "root"),
         "pacer": ("pacer", HERE / "root"), "open_tally": ("tally", HERE / "open_root"), "counter": ("counter", REPO),
         "vault": ("vault", HERE / "root")}
GRADER_MEMORY = 300 * 2**20  # bytes of resident memory the grader itself may reach, whatever the submission does

# The grader, in a process of its own: grade one file, write the JSON report, print the terminal one.
DRIVER = """\
import json, resource, sys
from pathlib import Path
from grader import catalog, report, runner
slug, base, impl, out = sys.argv[1:5]
result = runner.grade(catalog.load(slug, Path(base)), impl)
Path(out).write_text(report.format_json(result))
Path(out + ".rss").write_text(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
print(report.format_terminal(result))
"""

def matches(pattern, text) -> bool:
    """Whether `text` is `pattern`, where "*" in it stands for any text; a list: any one of them."""
    if isinstance(pattern, list):
        return any(matches(one, text) for one in pattern)
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), text, re.DOTALL) is not None


def live_processes(run_id: str) -> list[str]:
    """Command lines of live processes that carry the run's marker (read from /proc, independently of the grader)."""
    marker = f"run={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_bytes().rpartition(b")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if marker in cmdline and state not in (b"Z", b"X"):
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace")[:200])
    return found


def submission(name: str, case: dict, folder: Path) -> Path:
    path = HERE / "cases" / name
    if "pad_to" in case:
        padded = folder / path.name
        source = path.read_bytes() + b"\n"
        filler = b"# padding: a submission this large is refused before anything runs\n"
        padded.write_bytes(source + filler * ((case["pad_to"] - len(source)) // len(filler) + 1))
        return padded
    return path


def grade_in_a_process(name: str, folder: Path):
    """Grade the case `name` with the DRIVER in a process of its own: (the finished process, the report's
    path), or a string saying why it was not graded (skipped) or did not finish (a failure)."""
    case = CASES[name]
    if case.get("needs_sandbox") and sandbox.plan().level != "namespaces":
        if os.environ.get("CI"):
            return f"fail: CI must run the OS sandbox; here: {sandbox.plan().summary}"
        return f"skip: needs the OS sandbox (without it this case would change the machine); {sandbox.plan().summary}"
    folder.mkdir()
    impl, out = submission(name, case, folder), folder / "report.json"
    slug, root = ROOTS[case["problem"]]
    command = [sys.executable, "-c", DRIVER, slug, str(root), str(impl), str(out)]
    if case.get("network_namespace"):
        unshare = shutil.which("unshare")
        if os.geteuid() != 0 or unshare is None:
            return "skip: needs root and util-linux unshare (nothing may leave the machine even if the guard failed)"
        command = [unshare, "--net", "--", *command]
    bound = case.get("bound", 60)
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=bound,
                              cwd=Path(__file__).parent.parent)
    except subprocess.TimeoutExpired:
        return f"fail: the grading did not finish within {bound} s"
    return done, out


CANARY = "cd-hostile"  # hostile cases that write outside their scratch folder name their files so


def fingerprint() -> dict:
    """What no grading may change: the grader package, the fixture repositories and the repository's problems
    and solutions (every file's size, time and mode), and no file named like a hostile case's canary in /tmp,
    ~/.cache or site-packages (nor a new .pth file there, which every later Python would load)."""
    seen = {}
    for folder in (REPO / "grader", REPO / "tests" / "fixtures", HERE / "root", REPO / "problems", REPO / "solutions"):
        for path in sorted(folder.rglob("*")):
            if "__pycache__" not in path.parts and path.is_file():
                info = path.stat()
                seen[str(path)] = (info.st_size, info.st_mtime_ns, info.st_mode)
    sites = {*site.getsitepackages(), site.getusersitepackages()}
    for folder in (Path(tempfile.gettempdir()), Path("/tmp"), Path.home() / ".cache", *map(Path, sites)):
        if folder.is_dir():
            seen[str(folder)] = sorted(p.name for p in folder.iterdir()
                                       if p.name.startswith(CANARY) or (str(folder) in sites and p.suffix == ".pth"))
    return seen


BEFORE = {}


@pytest.fixture(scope="module")
def graded(request, tmp_path_factory):
    """Every selected case, graded two at a time (most of a grading is waiting: for Python to start, for a
    time limit to pass)."""
    names = [item.callspec.params["name"] for item in request.session.items
             if getattr(item, "originalname", "") == "test_hostile_submission"]
    base = tmp_path_factory.mktemp("hostile")
    BEFORE.update(fingerprint())
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(names, pool.map(lambda name: grade_in_a_process(name, base / name.replace("/", "-")), names)))


@pytest.mark.parametrize("name", CASES)
def test_hostile_submission(name, graded):
    case, outcome = CASES[name], graded[name]
    if isinstance(outcome, str):
        verdict, _, reason = outcome.partition(": ")
        pytest.skip(reason) if verdict == "skip" else pytest.fail(reason)
    done, out = outcome
    assert "Traceback" not in done.stderr and done.returncode == 0, done.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    if "run" in data["limits"]["sandbox"]:  # a submission refused before it ran has no run
        assert live_processes(data["limits"]["sandbox"]["run"]) == []
    messages = case["messages"]
    for check in data["checks"]:
        expected = messages.get(check["name"], messages.get("all"))
        assert expected is not None, f"cases.toml names no message for {check['name']}"
        assert matches(expected, check["message"]), (check["name"], check["message"])
        if expected != ["", "*"]:  # either outcome, where a real-thread check may or may not hit a race
            assert check["passed"] == (expected == ""), check["name"]
    assert data["score"] in (case["score"] if isinstance(case["score"], list) else [case["score"]])
    assert (data["import_error"] is None) == ("import_error" not in case)
    if "import_error" in case:
        assert matches(case["import_error"], data["import_error"])
    for key in ("review", "refused"):
        expected = case.get(key, [])
        assert len(data[key]) == len(expected) and all(map(matches, expected, data[key])), (key, data[key])
    for path in case.get("absent", []):
        assert not Path(path).exists(), f"the submission wrote {path}"
    if "secret" in case:
        assert case["secret"] not in out.read_text(encoding="utf-8") + done.stdout + done.stderr
    if "stdout" in case:
        assert any(matches(case["stdout"], line) for line in data["stdout"].splitlines()), data["stdout"][-3000:]
    if case["problem"] == "open_tally":  # graded with the source policy off: a real problem refuses it
        source = submission(name, case, Path(out).parent).read_bytes()
        assert violations(source, "tally.py", catalog.load("tally", ROOTS["tally"][1]).rules) != []
    text = done.stdout
    assert text.endswith(f"Score: {data['score']}/{data['max_score']}\n")
    unprintable = {c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn")}
    assert unprintable == set()
    assert int(Path(str(out) + ".rss").read_text()) < GRADER_MEMORY


def test_no_process_of_any_run_is_left(graded):
    """After all the cases above (fork bombs included), no process of any of their runs is alive."""
    reports = [json.loads(outcome[1].read_text()) for outcome in graded.values()
               if not isinstance(outcome, str) and outcome[1].is_file()]
    runs = [data["limits"]["sandbox"]["run"] for data in reports if "run" in data["limits"]["sandbox"]]
    if not runs:
        pytest.skip("no hostile case was graded in this session")
    assert {run: live_processes(run) for run in runs if live_processes(run)} == {}


def test_nothing_outside_the_scratch_changed(graded):
    """After all the cases above, the grader, the problems, the solutions and the fixtures are as they were, and no
    canary file nor new .pth file appeared where a later grading would find it."""
    if not graded:
        pytest.skip("no hostile case was graded in this session")
    assert fingerprint() == BEFORE
