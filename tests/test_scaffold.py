"""`grader new` and `grader check` for a new problem: what is missing, then sound once written by hand, with
every generated mutant killed.

The problem written here is the worked example of docs/instructor-guide.md.
"""
import re

from click.testing import CliRunner

from grader import catalog, scaffold
from grader.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


CREATED = """\
Created:
  problems/ticket_dispenser/problem.toml
  problems/ticket_dispenser/README.md
  problems/ticket_dispenser/ticket_dispenser.py
  problems/ticket_dispenser/test_ticket_dispenser.py
  solutions/ticket_dispenser/ticket_dispenser.py
  solutions/ticket_dispenser/bugs/
Next steps (docs/instructor-guide.md walks through an example):
  1. problems/ticket_dispenser/README.md and problem.toml: the spec and the metadata.
  2. problems/ticket_dispenser/ticket_dispenser.py: the stub; every method raises NotImplementedError.
  3. solutions/ticket_dispenser/ticket_dispenser.py: the reference solution.
  4. problems/ticket_dispenser/test_ticket_dispenser.py: the checks; each docstring states its guarantee.
  5. solutions/ticket_dispenser/bugs/<what_is_wrong>.patch: the reference with one likely mistake, as a patch.
     Copy the reference, make the mistake in the copy (/tmp/ticket_dispenser.py), and diff the two:
       cp solutions/ticket_dispenser/ticket_dispenser.py /tmp/ticket_dispenser.py
       diff -u solutions/ticket_dispenser/ticket_dispenser.py /tmp/ticket_dispenser.py > solutions/ticket_dispenser/bugs/<what_is_wrong>.patch
     Then write above the diff a line saying what is wrong and a line 'Caught by: check_a, check_b'.
     A bug that is a different design is a whole file, bugs/<what_is_wrong>.py, with that docstring.
  Replace every TODO(author), then run: grader check ticket_dispenser
"""


def test_new_scaffolds_every_file_and_check_says_what_is_missing(copied_root):
    result = run("new", "ticket_dispenser")
    assert (result.exit_code, result.output) == (0, CREATED)
    problem = catalog.load("ticket_dispenser")
    assert problem.title == "Ticket dispenser"
    assert [c.name for c in problem.checks] == ["first_call", "concurrent_calls", "stress_real_threads"]
    assert "class TicketDispenser:" in problem.stub.read_text()
    result = run("check", "ticket_dispenser")
    assert result.exit_code == 1
    assert result.output == (
        "problem           graded     verdict  detail\n"
        "ticket_dispenser  reference  UNSOUND  0/4, fails first_call, concurrent_calls, stress_real_threads: "
        "ticket_dispenser.py:13: NotImplementedError: TODO(author): write the reference solution\n"
        "ticket_dispenser  stub       ok       fails all 3 checks\n"
        "ticket_dispenser  bugs       UNSOUND  no bug variants: add solutions/ticket_dispenser/bugs/<what_is_wrong>.patch\n"
        "ticket_dispenser  files      UNSOUND  TODO left in problems/ticket_dispenser/README.md, "
        "problems/ticket_dispenser/problem.toml, problems/ticket_dispenser/test_ticket_dispenser.py, "
        "problems/ticket_dispenser/ticket_dispenser.py, solutions/ticket_dispenser/ticket_dispenser.py\n"
        "1 problem(s): 3 unsound row(s)\n"
    )


def test_new_refuses_bad_and_taken_names(copied_root):
    result = run("new", "Ticket-Dispenser")
    assert (result.exit_code, result.output) == (2, "Error: 'Ticket-Dispenser' is not a valid problem name: use "
                                                    "snake_case letters and digits, like bounded_buffer (it is also "
                                                    "the module's name)\n")
    assert run("new", "tally").output == "Error: problems/tally already exists\n"
    assert run("new", "class").exit_code == 2


def test_check_names_a_bug_that_no_check_catches(copied_root):
    bug = copied_root / "solutions/tally/bugs/harmless.py"
    bug.write_text('"""Nothing is wrong.\n\nCaught by: adds_amount\n"""\n'
                   + (copied_root / "solutions/tally/tally.py").read_text().split('"""', 2)[2])
    result = run("check", "tally")
    assert result.exit_code == 1
    assert "tally    bug harmless        UNSOUND  missed: passes adds_amount (no check catches this bug)\n" in result.output


# The worked example, written by hand into the scaffold.
README = """\
# Ticket dispenser

Write `TicketDispenser` in `ticket_dispenser.py`: a dispenser of numbered tickets, as at a deli counter.

- `TicketDispenser()` has handed out no ticket yet.
- `take()` returns the next ticket number: 1, then 2, then 3, ... Any thread may call it at any time;
  no two calls ever return the same number, and no number is skipped.
"""

STUB = '''\
"""Ticket dispenser: numbered tickets that any number of threads can take."""


class TicketDispenser:
    """Hands out 1, 2, 3, ... one number per take(), whatever the threads."""

    def __init__(self):
        raise NotImplementedError("TicketDispenser() is yours to write; see README.md")

    def take(self):
        """The next ticket number."""
        raise NotImplementedError("take() is yours to write; see README.md")
'''

REFERENCE = '''\
"""Ticket dispenser: numbered tickets that any number of threads can take."""
import threading


class TicketDispenser:
    """Hands out 1, 2, 3, ... one number per take(), whatever the threads."""

    def __init__(self):
        # _lock guards _last, the number handed out last.
        self._lock = threading.Lock()
        self._last = 0

    def take(self):
        with self._lock:
            self._last += 1
            return self._last
'''

# The reference with one mistake: made with cp, an edit and diff -u, then the two lines above the diff.
BUG = '''\
take() reads and writes the counter without the lock: two threads can get the same ticket.

Caught by: concurrent_takes_are_unique

--- solutions/ticket_dispenser/ticket_dispenser.py	2026-12-04 22:26:34.491060463 +0000
+++ /tmp/ticket_dispenser.py	2026-12-04 22:26:34.491344537 +0000
@@ -11,6 +11,5 @@
         self._last = 0
 
     def take(self):
-        with self._lock:
-            self._last += 1
-            return self._last
+        self._last += 1
+        return self._last
'''

CHECKS = '''\
"""Checks for ticket_dispenser. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student.
"""
import pytest

from grader.checking import plain, run_threads
from grader.sched import explore


@pytest.mark.points(1)
def test_tickets_count_up_from_one(impl):
    """take() returns 1, then 2, then 3."""
    dispenser = impl.TicketDispenser()
    got = plain([dispenser.take() for _ in range(3)], "what take() returned")
    assert got == [1, 2, 3], f"three take() calls returned {got}; expected [1, 2, 3]"


@pytest.mark.points(2)
@pytest.mark.hint("`self._last += 1` is a read and a write: hold one lock across both, and return what you wrote")
def test_concurrent_takes_are_unique(impl):
    """Two threads taking at once get two different tickets, 1 and 2."""
    def scenario():
        dispenser = impl.TicketDispenser()
        got = {}
        run_threads(impl, {
            "customer-0": lambda: got.update({"customer-0": dispenser.take()}),
            "customer-1": lambda: got.update({"customer-1": dispenser.take()}),
        })
        assert sorted(plain(list(got.values()), "what take() returned")) == [1, 2], (
            f"customer-0 and customer-1 each called take() and got {got}; expected 1 and 2")
    explore(scenario)
'''


def test_a_new_problem_filled_in_by_hand_is_sound(copied_root):
    assert run("new", "ticket_dispenser").exit_code == 0
    problem, solutions = copied_root / "problems/ticket_dispenser", copied_root / "solutions/ticket_dispenser"
    toml = (problem / "problem.toml").read_text()
    toml = toml.replace('"TODO(author): one line: what the student builds."',
                        '"Numbered tickets that any number of threads can take, none twice."')
    (problem / "problem.toml").write_text(toml.replace('["TODO(author)"]', '["mutual exclusion", "atomicity"]'))
    (problem / "README.md").write_text(README)
    (problem / "ticket_dispenser.py").write_text(STUB)
    (problem / "test_ticket_dispenser.py").write_text(CHECKS)
    (solutions / "ticket_dispenser.py").write_text(REFERENCE)
    (solutions / "bugs/unlocked_take.patch").write_text(BUG)
    result = run("check", "ticket_dispenser")
    assert (result.exit_code, result.output) == (0, (
        "problem           graded             verdict  detail\n"
        "ticket_dispenser  reference          ok       full marks 3/3\n"
        "ticket_dispenser  stub               ok       fails all 2 checks\n"
        "ticket_dispenser  bug unlocked_take  ok       caught by concurrent_takes_are_unique\n"
        "1 problem(s): all sound\n"
    ))
    result = run("check", "ticket_dispenser", "--mutants", "--jobs", "2")
    assert result.exit_code == 0
    assert re.sub(r"\d+\.\d s", lambda time: "T s".rjust(len(time.group())), result.output) == (
        "problem             made  killed  equivalent  survived   score    time\n"
        "ticket_dispenser       4       4           0         0    100%     T s\n"
        "1 problem(s): 4 mutant(s), 4 killed, 0 listed as equivalent, 0 survived: every mutant killed or explained\n"
    )


def test_a_bug_patch_still_holding_a_todo_is_unfinished(copied_root):
    bug = copied_root / "solutions/tally/bugs/ignores_amount.patch"
    bug.write_text("TODO(author): what is wrong.\n" + bug.read_text())
    assert scaffold.unfinished(catalog.load("tally")) == ["solutions/tally/bugs/ignores_amount.patch"]
