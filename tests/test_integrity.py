"""The integrity scan names each construct that has no place in an exercise, by line, however it is spelled.

(The guard in the test process is exercised through real gradings in test_hostile.py and test_runner.py.)
"""
import textwrap

from grader import integrity


def scan(source: str) -> list[str]:
    return integrity.scan(textwrap.dedent(source).encode(), "tally.py")


def test_a_plain_solution_has_no_notes():
    assert scan("""\
        import threading
        from collections import deque


        class Tally:
            def __init__(self):
                self._lock = threading.Lock()
                self._items = deque()
        """) == []


def test_each_construct_is_named_with_its_line():
    assert scan("""\
        import ctypes, gc, signal
        import sys as system
        from os import _exit as leave
        from grader import plugin
        frame = system._getframe(1)
        gc.get_objects()
        system.modules["grader.plugin"]
        leave(0)
        (lambda: 0).__code__
        exec("x = 1")
        getattr(system, "_getframe")
        """) == [
        "tally.py:1: uses ctypes",
        "tally.py:1: uses signal (the grader's time limits use signals)",
        "tally.py:3: calls os._exit",
        "tally.py:4: imports the grader's own modules",
        "tally.py:5: reads the call stack",
        "tally.py:6: walks the interpreter's objects",
        "tally.py:7: touches sys.modules",
        "tally.py:8: calls os._exit",
        "tally.py:9: reaches into function or frame internals",
        "tally.py:10: runs code built at run time (exec)",
        "tally.py:11: reads the call stack",
    ]


def test_a_module_read_by_a_name_built_at_run_time_is_named():
    assert scan("""\
        import sys
        import json as codec
        getattr(sys, "mod" + "ules")
        vars(codec)
        sys.__dict__
        getattr(sys, "modules")
        getattr(codec, "dumps")
        """) == [
        "tally.py:3: reads a module's attributes by a name built at run time",
        "tally.py:4: reads a module's attributes by a name built at run time",
        "tally.py:5: reads a module's attributes by a name built at run time",
        "tally.py:6: touches sys.modules",
    ]


def test_tampering_notes_are_those_that_reach_the_grader():
    notes = scan("""\
        import signal, sys
        sys.modules
        """)
    assert integrity.tampering(notes) == ["tally.py:2: touches sys.modules"]
    assert len(notes) == 2   # signal: a note for review; the guard refuses what it would do


def test_the_student_api_of_the_grader_is_not_flagged():
    assert scan("from grader.sched import AtomicReference\n") == []
    assert scan("from grader.sched import AtomicReference, explore\n") == [
        "tally.py:1: imports the grader's own modules"]


def test_a_local_name_that_shadows_a_builtin_is_not_flagged():
    assert scan("def compile(pattern):\n    return pattern\n\n\ncompile('x')\n") == []


def test_a_file_that_does_not_parse_has_no_notes():
    assert scan("class Tally\n    pass\n") == []
    assert integrity.scan(b"x = '\0'\n\0", "tally.py") == []


def test_tampering_past_the_cap_of_notes_is_still_found():
    source = "import os\n" + "os.kill\n" * 25 + "import sys\nsys.modules\n"
    assert integrity.tampering(scan(source)) == []        # the shown notes stop at the cap...
    found = integrity.findings(textwrap.dedent(source).encode(), "tally.py")
    assert integrity.tampering(found) == ["tally.py:28: touches sys.modules"]   # ...what is judged does not


def test_notes_are_capped():
    notes = scan("".join(f"import ctypes  # {i}\n" for i in range(50)))
    assert len(notes) == integrity.MAX_NOTES
    assert notes[-1] == f"... and {50 - integrity.MAX_NOTES + 1} more"
