"""The source allowlist (grader.policy) refuses, by line, whatever an exercise does not need, however it is
spelled, and lets ordinary concurrent code through. (The runtime guard is exercised through real gradings in
test_hostile.py and test_runner.py.)"""
import textwrap
from pathlib import Path

import pytest

from grader import catalog
from grader.policy import Rules, violations

ROOT = Path(__file__).resolve().parent.parent


def check(source: str, rules: Rules = Rules.of()) -> list[str]:
    return violations(textwrap.dedent(source).encode(), "tally.py", rules)


def test_ordinary_concurrent_code_passes():
    assert check("""\
        from __future__ import annotations

        import asyncio
        import concurrent.futures
        import threading
        import time
        from collections import deque
        from dataclasses import dataclass, field


        @dataclass
        class Item:
            _rank: int = 0
            tags: list = field(default_factory=list)


        class Tally:
            __slots__ = ("_lock", "_items", "__weakref__")

            def __init__(self):
                super().__init__()
                self._lock = threading.Lock()
                self._items = deque()

            def __repr__(self):
                return f"{type(self).__name__}({self._items!r}) {'{} of {n}'.format(1, n=2)}"

            def __eq__(self, other):
                return self._items == other._items

            def wait(self, timeout):
                deadline = time.monotonic() + timeout
                future = concurrent.futures.Future()
                with self._lock:
                    return deadline, future, Item()._rank

            async def run(self):
                await asyncio.sleep(0)


        if __name__ == "__main__":  # never runs when graded: a self-test may use anything
            import os
            print(eval(input()), os.getcwd())
        """) == []


def test_each_way_out_is_named_with_its_line():
    assert check("""\
        import os, ctypes
        import sys as system
        from threading import _shutdown
        from queue import *
        from . import helper
        import threading as t
        alias = t
        getattr(t, "Lock")
        vars()["x"] = 1
        t.excepthook = print
        open("/etc/passwd")
        (lambda: 0).__code__
        __builtins__
        "{0.__class__}".format(1)
        exc.__traceback__.tb_frame.f_back
        t.current_thread()._target
        t.settrace(None)
        __name__ = "__main__"
        """) == [
        "tally.py:1: imports ctypes, which this problem does not allow",
        "tally.py:1: imports os, which this problem does not allow",
        "tally.py:2: imports sys, which this problem does not allow",
        "tally.py:3: imports threading._shutdown, a private name of a module",
        "tally.py:4: imports everything from queue (import the names you use)",
        "tally.py:5: uses a relative import",
        "tally.py:7: uses the module threading as a value (use its names, as in t.something)",
        "tally.py:8: uses getattr, which a submission may not use",
        "tally.py:8: uses the module threading as a value (use its names, as in t.something)",
        "tally.py:9: uses vars, which a submission may not use",
        "tally.py:10: changes threading.excepthook: a submission may change only its own objects",
        "tally.py:11: uses open, which a submission may not use",
        "tally.py:12: uses the attribute __code__, which a submission may not use",
        "tally.py:13: uses the name __builtins__, which a submission may not use",
        "tally.py:14: calls .format() on a template that is not a plain literal (use an f-string)",
        "tally.py:15: uses f_back, an attribute of the interpreter's frames or code",
        "tally.py:15: uses tb_frame, an attribute of the interpreter's frames or code",
        "tally.py:15: uses the attribute __traceback__, which a submission may not use",
        "tally.py:16: reads _target, a private attribute of an object this file does not define",
        "tally.py:17: uses threading.settrace, which a submission may not use",
        "tally.py:18: assigns __name__",
    ]


def test_a_module_is_reached_only_through_what_was_imported():
    assert check("""\
        import asyncio
        import collections
        import typing
        asyncio.events.get_event_loop()
        collections.abc.Callable
        typing.collections.deque
        typing.get_type_hints(print)
        """) == [
        "tally.py:4: reaches the module asyncio.events through asyncio, which this problem does not allow",
        "tally.py:6: reaches the module typing.collections through typing, which this problem does not allow",
        "tally.py:7: uses typing.get_type_hints, which a submission may not use",
    ]


def test_a_name_that_is_both_a_module_and_a_variable_is_refused():
    assert check("""\
        import time

        def wait(time):
            return time + 1
        """) == ["tally.py:3: the name time is both the module time and a variable: rename the variable"]


def test_a_problem_widens_and_narrows_the_allowlist():
    rules = Rules.of(("grader.sched.AtomicReference",), ("queue", "itertools.count"))
    assert check("""\
        from grader.sched import AtomicReference, explore
        import queue
        import itertools
        from itertools import count
        itertools.count()
        itertools.chain()
        """, rules) == [
        "tally.py:1: imports grader.sched.explore, which this problem does not allow",
        "tally.py:2: imports queue, which this problem does not allow",
        "tally.py:4: imports itertools.count, which this problem does not allow",
        "tally.py:5: uses itertools.count, which this problem does not allow",
    ]
    assert check("import socket\n", Rules.of(("socket",))) == []
    assert check("import socket\n") == ["tally.py:1: imports socket, which this problem does not allow"]


def test_a_file_that_does_not_parse_has_no_findings_and_a_policy_off_has_none():
    assert check("def (:\n") == []
    assert check("import os\n", Rules.of(enforced=False)) == []
    assert check("x = " + " + ".join(["1"] * 100_000)) == ["tally.py:1: is nested too deeply to be read"]


def every_shipped_file():
    for problem in catalog.load_all(ROOT):
        files = {"stub": problem.stub.read_bytes, "reference": problem.reference.read_bytes,
                 "second solution": (ROOT / "tests" / "second_solutions" / f"{problem.slug}.py").read_bytes,
                 **{f"bug {bug.name}": bug.source for bug in problem.bugs}}
        for what, source in files.items():
            yield pytest.param(problem, what, source, id=f"{problem.slug}:{what}")


# bugs that are refused on purpose: each uses what its problem's README forbids, which the refusal says
REFUSED_BUGS = {"bug uses_threading_barrier", "bug guarded_by_a_lock", "bug uses_thread_pool_executor"}


@pytest.mark.parametrize(("problem", "what", "source"), every_shipped_file())
def test_every_shipped_solution_and_stub_keeps_the_rules(problem, what, source):
    found = violations(source(), f"{problem.slug}.py", problem.rules)
    assert bool(found) == (what in REFUSED_BUGS), found
