"""A failure's Replay: line, run as printed, reproduces the same report byte for byte."""
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def grade(args):
    out = subprocess.run([sys.executable, "-c", "from grader.cli import main; main()", *args, "--json"], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    return json.loads(out.stdout)


@pytest.mark.parametrize("slug, bug, check", [
    ("counter", "unlocked_increment", "no_lost_update"),
    ("bounded_buffer", "one_condition_with_notify", "no_lost_wakeup"),
])
def test_replay_line_reproduces_the_report(slug, bug, check):
    first = grade(["test", slug, "--bug", bug, "-k", check, "--base-seed", "500"])
    message = next(c["message"] for c in first["checks"] if c["name"] == check)
    command = re.search(r"Replay: (grader test .*?)   \(Python", message).group(1)
    replayed = grade(shlex.split(command)[1:])
    assert next(c["message"] for c in replayed["checks"] if c["name"] == check) == message
