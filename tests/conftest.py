"""Shared helpers of the project's own tests."""
import shutil
from pathlib import Path

import pytest

# tests/fixtures/ holds a problem folder whose checks only run under the grader, never directly.
collect_ignore = ["fixtures"]

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "root"


@pytest.fixture
def fixture_root(monkeypatch):
    """GRADER_ROOT pointing at the fixture repository (problem `tally`)."""
    monkeypatch.setenv("GRADER_ROOT", str(FIXTURE_ROOT))
    return FIXTURE_ROOT


@pytest.fixture
def copied_root(tmp_path, monkeypatch):
    """A writable copy of the fixture repository, with GRADER_ROOT pointing at it."""
    root = tmp_path / "root"
    shutil.copytree(FIXTURE_ROOT, root)
    monkeypatch.setenv("GRADER_ROOT", str(root))
    return root
