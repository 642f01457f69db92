"""Generated mutants (grader.mutants): each operator's edit on small sources, stable ids, skipped no-ops,
the equivalence files, and `grader check --mutants` / `grader test --mutant` on the fixture problem."""
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import catalog, mutants, runner
from grader.catalog import ProblemError
from grader.cli import main

REPO = Path(__file__).resolve().parent.parent

BOX = '''\
import threading
import time


class Box:
    def __init__(self, capacity):
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._items = []
        self._capacity = capacity
        self._closed = False

    def put(self, item):
        with self._lock:  # guards _items
            if self._closed:
                raise ValueError("closed")
            self._items.append(item)
            self._changed.notify_all()

    def get(self, timeout):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._items and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self._changed.wait(remaining)
            index = len(self._items)
            return index

    def full(self):
        with self._lock:
            return len(self._items) >= self._capacity
'''

NESTED = '''\
import threading


class Pair:
    def __init__(self):
        self._a = threading.Lock()
        self._b = threading.Lock()
        self._ready = threading.Condition(self._a)
        self._done = threading.Event()

    def both(self):
        with self._a:
            with self._b:
                self._done.set()

    def both_at_once(self):
        with self._a, self._b:
            self._done.set()

    def held(self):
        self._a.acquire()
        try:
            return self._ready.wait_for(lambda: self._done.is_set() and self._b.locked())
        finally:
            self._a.release()
'''

ASYNC = '''\
import asyncio


async def fetch_all(urls, fetch, slots):
    async with slots:
        results = await asyncio.gather(*(fetch(url) for url in urls))
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(url)) for url in urls]
    return results, tasks


async def stop(task, writer):
    task.cancel()
    writer.close()
    await task
    await writer.wait_closed()
'''

STACK = '''\
class Stack:
    def push(self, item):
        while True:
            top = self._top.get()
            if self._top.compare_and_set(top, (item, top)):
                return
'''


def changes(mutant):
    """The diff's removed and added lines, without its headers and context."""
    return [line for line in mutant.diff.splitlines()[2:] if line[:1] in "+-"]


def made(source, *operators):
    return [(m.operator, m.line, changes(m)) for m in mutants.make(source, "box.py", operators or None)]


def test_remove_lock_keeps_the_body_dedented():
    assert made(BOX, "remove_lock")[2] == ("remove_lock", 32, [
        "-        with self._lock:",
        "-            return len(self._items) >= self._capacity",
        "+        return len(self._items) >= self._capacity",
    ])


def test_remove_lock_of_two_items_takes_out_each_in_turn():
    assert [c for op, line, c in made(NESTED, "remove_lock") if line == 17] == [
        ["-        with self._a, self._b:", "+        with self._b:"],
        ["-        with self._a, self._b:", "+        with self._a:"],
    ]


def test_narrow_moves_the_first_statement_before_and_the_last_after():
    assert made(BOX, "narrow_first")[0] == ("narrow_first", 15, [
        "+        if self._closed:",
        '+            raise ValueError("closed")',
        "-            if self._closed:",
        '-                raise ValueError("closed")',
    ])
    assert made(BOX, "narrow_last") == [("narrow_last", 18, [
        "-            self._changed.notify_all()",
        "+        self._changed.notify_all()",
    ])]


def test_split_section_takes_the_lock_again_before_a_statement():
    assert made(BOX, "split_section") == [
        ("split_section", 17, ["+        with self._lock:"]),
        ("split_section", 18, ["+        with self._lock:"]),
        ("split_section", 28, ["+        with self._changed:"]),
    ]


def test_statements_that_only_touch_locals_are_not_moved_out():
    """`return index` reads a local: moving it across a release makes an equivalent mutant, so none is made."""
    lines = [line for _, line, _ in made(BOX, "narrow_last", "split_section")]
    assert 29 not in lines


def test_swap_locks_nested_and_in_one_with():
    assert made(NESTED, "swap_locks") == [
        ("swap_locks", 12, ["-        with self._a:", "-            with self._b:",
                            "+        with self._b:", "+            with self._a:"]),
        ("swap_locks", 17, ["-        with self._a, self._b:", "+        with self._b, self._a:"]),
    ]


def test_release_out_of_finally_and_a_with_that_raises():
    assert made(NESTED, "release_out_of_finally") == [("release_out_of_finally", 25, [
        "-        try:",
        "-            return self._ready.wait_for(lambda: self._done.is_set() and self._b.locked())",
        "-        finally:",
        "-            self._a.release()",
        "+        return self._ready.wait_for(lambda: self._done.is_set() and self._b.locked())",
        "+        self._a.release()",
    ])]
    assert made(BOX, "release_out_of_finally") == [("release_out_of_finally", 14, [
        "-        with self._lock:  # guards _items",
        "-            if self._closed:",
        '-                raise ValueError("closed")',
        "-            self._items.append(item)",
        "-            self._changed.notify_all()",
        "+        self._lock.acquire()",
        "+        if self._closed:",
        '+            raise ValueError("closed")',
        "+        self._items.append(item)",
        "+        self._changed.notify_all()",
        "+        self._lock.release()",
    ])]


def test_wakeups_weakened_or_deleted():
    assert made(BOX, "notify_one") == [
        ("notify_one", 18, ["-            self._changed.notify_all()", "+            self._changed.notify()"])]
    assert made(NESTED, "drop_wakeup") == [
        ("drop_wakeup", 14, ["-                self._done.set()", "+                pass"]),
        ("drop_wakeup", 18, ["-            self._done.set()", "+            pass"]),
        ("drop_wakeup", 25, ["-            self._a.release()", "+            pass"]),
    ]
    commented = "def wake(cond):\n    with cond:\n        cond.notify_all()  # every waiter\n        return True\n"
    assert made(commented, "drop_wakeup") == [("drop_wakeup", 3, ["-        cond.notify_all()  # every waiter"])]
    assert made("def wake(cond):\n    cond.notify(); return True\n", "drop_wakeup") == []


def test_wait_loops_and_predicates():
    loop = "-            while not self._items and not self._closed:"
    assert made(BOX, "while_to_if", "weaken_wait", "negate_wait") == [
        ("while_to_if", 23, [loop, "+            if not self._items and not self._closed:"]),
        ("weaken_wait", 23, [loop, "+            while not self._closed:"]),
        ("weaken_wait", 23, [loop, "+            while not self._items:"]),
        ("negate_wait", 23, [loop, "+            while not (not self._items and not self._closed):"]),
    ]
    predicate = "-            return self._ready.wait_for(lambda: self._done.is_set() and self._b.locked())"
    assert made(NESTED, "weaken_wait", "negate_wait") == [
        ("weaken_wait", 23, [predicate, "+            return self._ready.wait_for(lambda: self._b.locked())"]),
        ("weaken_wait", 23, [predicate, "+            return self._ready.wait_for(lambda: self._done.is_set())"]),
        ("negate_wait", 23, [predicate, "+            return self._ready.wait_for(lambda: not (self._done.is_set() "
                                        "and self._b.locked()))"]),
    ]


def test_no_deadline_passes_the_full_timeout():
    assert made(BOX, "no_deadline") == [
        ("no_deadline", 27, ["-                self._changed.wait(remaining)",
                             "+                self._changed.wait(timeout)"])]


def test_drop_flag_check_drops_an_operand_or_the_whole_if():
    assert made(BOX, "drop_flag_check") == [
        ("drop_flag_check", 15, ["-            if self._closed:", '-                raise ValueError("closed")']),
        ("drop_flag_check", 23, ["-            while not self._items and not self._closed:",
                                 "+            while not self._items:"]),
    ]


def test_off_by_one_flips_counts_not_times():
    """`remaining <= 0` compares a time and is left alone; each operator of a chained comparison flips alone."""
    assert made(BOX, "off_by_one") == [("off_by_one", 33, [
        "-            return len(self._items) >= self._capacity",
        "+            return len(self._items) > self._capacity"])]
    assert made("def valid(i, n):\n    return 0 <= i < n\n", "off_by_one") == [
        ("off_by_one", 2, ["-    return 0 <= i < n", "+    return 0 < i < n"]),
        ("off_by_one", 2, ["-    return 0 <= i < n", "+    return 0 <= i <= n"]),
    ]


def test_unchecked_set_replaces_compare_and_set():
    assert made(STACK) == [("unchecked_set", 5, [
        "-            if self._top.compare_and_set(top, (item, top)):",
        "+            if (self._top.set((item, top)) or True):"])]


def test_asyncio_operators():
    assert made(ASYNC) == [
        ("remove_async_lock", 5, ["-    async with slots:",
                                  "-        results = await asyncio.gather(*(fetch(url) for url in urls))",
                                  "+    results = await asyncio.gather(*(fetch(url) for url in urls))"]),
        ("sequential_gather", 6, ["-        results = await asyncio.gather(*(fetch(url) for url in urls))",
                                  "+        results = [await fetch(url) for url in urls]"]),
        ("sequential_gather", 8, ["-        tasks = [group.create_task(fetch(url)) for url in urls]",
                                  "+        tasks = [(_task := group.create_task(fetch(url)), "
                                  "await asyncio.wait([_task]))[0] for url in urls]"]),
        ("drop_cancel", 13, ["-    task.cancel()"]),
        ("drop_await_cancelled", 15, ["-    await task"]),
        ("drop_await_cancelled", 16, ["-    await writer.wait_closed()"]),
    ]


def test_ids_are_stable_and_name_operator_line_and_text():
    """The ids are pinned: equivalent_mutants.toml entries depend on them staying the same for the same text."""
    box = mutants.make(BOX, "box.py")
    assert [m.id for m in box][:6] == [
        "remove_lock-L14-72e49f", "release_out_of_finally-L14-67ab10", "narrow_first-L15-067e0f",
        "drop_flag_check-L15-5d9ba1", "split_section-L17-9beb1b", "narrow_last-L18-4f8d43"]
    assert [m.id for m in mutants.make(BOX, "other_name.py")] == [m.id for m in box]
    assert len({m.id for m in box}) == len(box)
    edited = mutants.make(BOX.replace("def full(self):", "def is_full(self):"), "box.py")  # any edit of the text
    assert edited[0].id.startswith("remove_lock-L14-") and edited[0].id != box[0].id


def test_no_ops_duplicates_and_mutants_that_do_not_compile_are_skipped():
    source = ("import threading\n\n\nclass Gate:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
              "        self._open = threading.Condition(self._lock)\n        self._closed = False\n\n"
              "    def wait(self):\n        with self._lock:\n            while not self._closed:\n"
              "                self._open.wait()\n                if self._closed:\n                    break\n")
    # One statement in the section: no narrowing or splitting; `while` -> `if` leaves a `break` outside a loop.
    assert [(op, line) for op, line, _ in made(source)] == [
        ("remove_lock", 11), ("negate_wait", 12), ("drop_flag_check", 14)]
    # Dropping `not self._closed` from the loop's test is both drop_flag_check and weaken_wait: made once.
    assert [op for op, line, _ in made(BOX) if line == 23] == [
        "narrow_first", "while_to_if", "drop_flag_check", "weaken_wait", "negate_wait"]


def test_every_mutant_of_the_catalog_differs_from_its_reference_and_has_a_unique_id():
    for problem in catalog.load_all(REPO):
        reference = problem.reference.read_text()
        made_here = mutants.generate(problem)
        assert [m.id for m in made_here] == [m.id for m in sorted(made_here, key=lambda m: m.line)]
        assert len({m.id for m in made_here}) == len(made_here), problem.slug
        for mutant in made_here:
            assert re.fullmatch(rf"{mutant.operator}-L{mutant.line}-[0-9a-f]{{6}}", mutant.id)
            assert mutant.source != reference and mutant.diff.startswith(f"--- solutions/{problem.slug}/")
            compile(mutant.source, mutant.id, "exec")


def test_sample_is_fixed_and_in_line_order():
    box = mutants.make(BOX, "box.py")
    picked = mutants.sample(box, 4)
    assert len(picked) == 4 and picked == [m for m in box if m in picked]
    assert mutants.sample(list(reversed(box)), 4) == picked[::-1]
    assert mutants.sample(box[:3], 4) == box[:3]


def test_stop_early_fails_the_checks_after_the_first_failure_unrun(fixture_root, tmp_path):
    tally = catalog.load("tally")
    result = runner.grade(tally, tally.bug("ignores_amount").write(tmp_path), stop_early=True)
    assert [(c.name, c.passed, c.message.splitlines()[0] if c.message else "") for c in result.checks] == [
        ("starts_at_zero", True, ""),
        ("adds_amount", False, "assert 2 == 6"),
        ("counts_every_add", False, "the check did not run to its end (pytest did not run all of it)"),
    ]


def test_equivalents_file_must_give_a_one_line_reason(copied_root):
    listing = copied_root / "solutions/tally" / mutants.EQUIVALENTS
    tally = catalog.load("tally")
    assert mutants.equivalents(tally) == {}
    listing.write_text('[remove_lock-L17-4b4e67]\nreason = "reads one int"\noperator = "remove_lock"\n')
    assert mutants.equivalents(tally) == {"remove_lock-L17-4b4e67": "reads one int"}
    for text, error in [
        ("[remove_lock-L17-4b4e67]\nline = 17\n", 'solutions/tally/equivalent_mutants.toml: [remove_lock-L17-4b4e67] '
         'needs reason = "<one line: why no program can tell it apart from the reference>"'),
        ('[remove_lock-L17-4b4e67]\nreason = "x"\nwhy = "y"\n', "solutions/tally/equivalent_mutants.toml: "
         "[remove_lock-L17-4b4e67] has unknown key(s) why (known: reason, operator, line)"),
        ("[remove_lock", "solutions/tally/equivalent_mutants.toml: not valid TOML: "),
    ]:
        listing.write_text(text)
        with pytest.raises(ProblemError) as raised:
            mutants.equivalents(tally)
        assert str(raised.value).startswith(error)


def run(*args):
    return CliRunner().invoke(main, list(args))


def _no_times(output):
    """The output with each time cell (`2.1 s`) as `T s`, right-aligned as it was."""
    return re.sub(r"\d+\.\d s", lambda time: "T s".rjust(len(time.group())), output)


ADD_DIFF = (
    "  --- solutions/tally/tally.py\n"
    "  +++ mutant remove_lock-L12-c62b06\n"
    "  @@ -10,6 +10,5 @@\n"
    "   \n"
    "       def add(self, n=1):\n"
    "  -        with self._lock:\n"
    "  -            self._value += n\n"
    "  +        self._value += n\n"
    "   \n"
    "       @property\n"
)


def test_check_mutants_lists_each_survivor_with_its_diff_and_exits_1(copied_root):
    (copied_root / "solutions/tally" / mutants.EQUIVALENTS).write_text(
        "[remove_lock-L17-4b4e67]\n"
        'reason = "value reads one int attribute, which add() replaces in one store under the lock"\n'
        "[remove_lock-L3-000000]\n"
        'reason = "a mutant of an earlier reference"\n')
    result = run("check", "--mutants", "--jobs", "2")
    assert result.exit_code == 1
    assert _no_times(result.output) == (
        "problem    made  killed  equivalent  survived   score    time\n"
        "tally         2       0           1         1      0%     T s\n"
        "\n"
        "SURVIVED tally remove_lock-L12-c62b06: no `with self._lock:` around its block\n" + ADD_DIFF +
        "  Grade it: grader test tally --mutant remove_lock-L12-c62b06\n"
        "  Kill it with a stronger check, or, if no program can tell it apart from the reference, list it with a "
        "one-line reason in solutions/tally/equivalent_mutants.toml\n"
        "\n"
        "STALE tally: solutions/tally/equivalent_mutants.toml lists remove_lock-L3-000000, a mutant the reference "
        "no longer makes\n"
        "1 problem(s): 2 mutant(s), 0 killed, 1 listed as equivalent, 1 survived\n"
    )


def test_check_mutants_passes_when_every_survivor_is_explained(copied_root):
    (copied_root / "solutions/tally" / mutants.EQUIVALENTS).write_text(
        '[remove_lock-L17-4b4e67]\nreason = "one int read"\n'
        '[remove_lock-L12-c62b06]\nreason = "listed for this test"\n')
    result = run("check", "tally", "--mutants")
    assert result.exit_code == 0
    assert _no_times(result.output) == (
        "problem    made  killed  equivalent  survived   score    time\n"
        "tally         2       0           2         0       -     T s\n"
        "1 problem(s): 2 mutant(s), 0 killed, 2 listed as equivalent, 0 survived: every mutant killed or explained\n"
    )


def test_check_mutants_grades_nothing_when_the_reference_fails(copied_root):
    reference = copied_root / "solutions/tally/tally.py"
    reference.write_text(reference.read_text().replace("self._value += n", "self._value += 1"))
    result = run("check", "--mutants")
    assert result.exit_code == 1
    assert result.output == (
        "problem    made  killed  equivalent  survived   score    time\n"
        "tally    the reference fails adds_amount (assert 2 == 6): mutants not graded\n"
        "1 problem(s): 0 mutant(s), 0 killed, 0 listed as equivalent, 0 survived; 1 problem(s) not graded\n"
    )


def test_test_mutant_grades_one_mutant_and_says_how_to_replay(fixture_root):
    result = run("test", "tally", "--mutant", "remove_lock-L12-c62b06", "--json")
    assert result.exit_code == 0
    assert '"score": 5' in result.output
    result = run("test", "tally", "--mutant", "remove_lock-L12-c62b07")
    assert (result.exit_code, result.output) == (2, (
        "Error: no mutant 'remove_lock-L12-c62b07' of tally. Did you mean 'remove_lock-L12-c62b06'? "
        "grader check --mutants tally lists the survivors\n"))
