"""The isolation levels below namespaces: which one plan() picks, and the "uid" level for real where a Python
that other users can read is given (GRADER_TEST_OPEN_PYTHON, as .ci/run makes one from Debian's python3)."""
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from grader import sandbox

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_plan(monkeypatch):
    """sandbox.plan() decided anew under the test's environment (it is decided once per process)."""
    monkeypatch.setattr(sandbox, "plan", sandbox.plan.__wrapped__)
    monkeypatch.setattr(sandbox, "_bwrap_works", sandbox._bwrap_works.__wrapped__)
    return monkeypatch


def test_isolation_can_be_lowered_never_raised(fresh_plan):
    fresh_plan.delenv("GRADER_ISOLATION", raising=False)
    strongest = sandbox.plan().level
    fresh_plan.setenv("GRADER_ISOLATION", "none")
    assert sandbox.plan().level == "none"
    fresh_plan.setenv("GRADER_ISOLATION", "uid")
    assert sandbox.plan().level in ("uid", "none")
    fresh_plan.setenv("GRADER_ISOLATION", "anything else")
    assert sandbox.plan().level == strongest


def test_no_bubblewrap_falls_back_and_says_why(fresh_plan):
    fresh_plan.setattr(sandbox.shutil, "which", lambda name: None)
    plan = sandbox.plan()
    assert plan.level != "namespaces"
    if os.geteuid() != 0:
        assert (plan.level, plan.user) == ("none", "the grader's own user (no bubblewrap, not root: no OS sandbox)")
    elif plan.level == "none":  # root, but the Python installation is closed to other users
        assert plan.user.startswith("root: ") and "is not readable by other users" in plan.user
    else:
        assert plan.own_uid and plan.summary.startswith("uid (own unprivileged user")


DRIVER = """\
import json, sys
from pathlib import Path
from grader import catalog, runner
problem = catalog.load(sys.argv[1], Path(sys.argv[2]))
report = runner.grade(problem, sys.argv[3])
print(json.dumps({"level": report.limits["sandbox"]["level"], "score": report.score, "max": report.max_score,
                  "messages": {c.name: c.message for c in report.checks}}))
"""
PROBE = '''\
import os


def attempt(call):
    try:
        call()
        return "done"
    except OSError as exc:
        return type(exc).__name__


SEEN = {"uid": os.getuid(), "write": attempt(lambda: open(TARGET, "w")), "read": attempt(lambda: open(SECRET).read())}


class Tally:
    @property
    def value(self):
        assert SEEN["uid"] != 0 and SEEN["write"] == SEEN["read"] == "PermissionError", SEEN
        return 0

    def add(self, n=1):
        pass
'''


def test_the_uid_level_runs_the_submission_as_another_user(tmp_path):
    python = os.environ.get("GRADER_TEST_OPEN_PYTHON")
    if os.geteuid() != 0 or not python:
        pytest.skip("needs root and a Python other users can read (GRADER_TEST_OPEN_PYTHON, as .ci/run makes)")
    secret = tmp_path / "secret"
    secret.write_text("only root reads this")
    secret.chmod(0o600)
    probe = tmp_path / "tally.py"
    probe.write_text(PROBE.replace("TARGET", repr(str(tmp_path / "written"))).replace("SECRET", repr(str(secret))))
    env = {**os.environ, "GRADER_ISOLATION": "uid"}
    done = subprocess.run([python, "-c", DRIVER, "tally", str(REPO / "tests/hostile/open_root"), str(probe)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert (result["level"], result["messages"]["starts_at_zero"]) == ("uid", "")
    assert not (tmp_path / "written").exists()
    reference = REPO / "tests/fixtures/root/solutions/tally/tally.py"
    done = subprocess.run([python, "-c", DRIVER, "tally", str(REPO / "tests/fixtures/root"), str(reference)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert json.loads(done.stdout)["score"] == 5, done.stderr[-3000:]
