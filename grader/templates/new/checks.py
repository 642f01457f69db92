"""Checks for %%slug. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student.
"""
import pytest

from grader.checking import run_threads
from grader.sched import explore


# Sequential checks: what each call returns, one thread at a time.


@pytest.mark.points(1)
def test_first_call(impl):
    """TODO(author): one sentence, the guarantee this check proves (the student reads it when it fails)."""
    subject = impl.%%Class()
    got = subject.get()
    assert got == "TODO(author)", f"get() returned {got!r}; expected TODO(author): what and why"


# Interleaving checks: the scheduler runs each scenario under many interleavings.


@pytest.mark.points(2)
@pytest.mark.hint("TODO(author): the likely cause of a failure, shown with it")
def test_concurrent_calls(impl):
    """TODO(author): one sentence, the guarantee that concurrent calls keep."""
    def scenario():
        subject = impl.%%Class()
        results = {}
        run_threads(impl, {
            "worker-0": lambda: results.update({"worker-0": subject.get()}),
            "worker-1": lambda: results.update({"worker-1": subject.get()}),
        })
        assert results == {}, f"TODO(author): worker-0 and worker-1 each called get() and got {results}; expected ..."
    explore(scenario)
