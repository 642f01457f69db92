"""The scheduler package is layered: its imports form a DAG, all at module level, with no private names
crossing a module boundary; and its primitives look like the real ones to ordinary code."""
import ast
import os
import threading
import time

import pytest

from grader.sched import primitives, state
from grader.sched.explore import run_once
from grader.sched.strategies import Replay

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "grader", "sched")


def _modules() -> dict[str, ast.Module]:
    return {name[:-3]: ast.parse(open(os.path.join(PACKAGE, name)).read(), name)
            for name in sorted(os.listdir(PACKAGE)) if name.endswith(".py")}


def _sibling(node, name: str) -> list[str]:
    """The grader.sched modules an import node names."""
    found = []
    if isinstance(node, ast.Import):
        found = [a.name.split(".")[2] for a in node.names if a.name.startswith("grader.sched.")]
    elif isinstance(node, ast.ImportFrom) and node.module:
        if node.module == "grader.sched":
            found = [a.name for a in node.names]
        elif node.module.startswith("grader.sched."):
            found = [node.module.split(".")[2]]
    return [m for m in found if m != name]


def test_every_import_is_at_module_level():
    late = [f"{name}.py:{node.lineno}" for name, tree in _modules().items() for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom)) and node not in tree.body]
    assert late == []


def test_the_import_graph_is_a_dag():
    modules = _modules()
    graph = {name: {m for node in tree.body for m in _sibling(node, name) if m in modules}
             for name, tree in modules.items()}
    assert graph["state"] == set(), "the leaf imports nothing of the package"
    order, done, visiting = [], set(), set()

    def visit(name, path):
        assert name not in visiting, f"import cycle: {' -> '.join(path + [name])}"
        if name in done:
            return
        visiting.add(name)
        for dep in sorted(graph[name]):
            visit(dep, path + [name])
        visiting.discard(name)
        done.add(name)
        order.append(name)
    for name in sorted(graph):
        visit(name, [])
    assert order.index("state") < order.index("places") < order.index("explain") < order.index("report") \
        < order.index("stress") < order.index("explore")


def test_no_private_name_crosses_a_module():
    crossings = []
    for name, tree in _modules().items():
        aliases = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader.sched"):
                for alias in node.names:
                    if alias.name.startswith("_"):
                        crossings.append(f"{name}: from {node.module} import {alias.name}")
                    if node.module == "grader.sched":
                        aliases.add(alias.asname or alias.name)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_")):
                crossings.append(f"{name}.py:{node.lineno}: {node.value.id}.{node.attr}")
    assert crossings == []


def test_settings_cannot_be_changed_in_place():
    with pytest.raises(AttributeError):
        state.settings.seed = 3


def _under_control(make):
    """make() called in a controlled run; its result."""
    primitives.install()
    made = []
    run = run_once(lambda: made.append(make()), Replay([]), 1000)
    assert run.failure is None
    return made[0]


def test_a_controlled_lock_looks_like_the_real_one():
    lock = _under_control(threading.Lock)
    assert type(lock).__name__ == type(lock).__qualname__ == "lock"
    assert type(lock).__module__ == "_thread"
    assert repr(lock) == f"<unlocked _thread.lock object at {id(lock):#x}>"
    lock.acquire()
    assert repr(lock).startswith("<locked _thread.lock object at 0x")


def test_a_controlled_rlock_looks_like_the_real_one():
    rlock = _under_control(threading.RLock)
    assert (type(rlock).__name__, type(rlock).__qualname__, type(rlock).__module__) == ("RLock", "RLock", "_thread")
    assert repr(rlock) == f"<unlocked _thread.RLock object owner=0 count=0 at {id(rlock):#x}>"


def test_a_controlled_thread_looks_like_the_real_one():
    thread = _under_control(lambda: threading.Thread(target=print, name="worker"))
    cls = type(thread)
    assert (cls.__name__, cls.__qualname__, cls.__module__) == ("Thread", "Thread", "threading")
    assert repr(thread) == "<Thread(worker, initial)>"
    assert isinstance(thread, threading.Thread)
    assert isinstance(threading.main_thread(), threading.Thread), "the main thread is a Thread too"
    assert issubclass(threading.main_thread().__class__, threading.Thread)


def test_the_clocks_start_where_a_running_machine_would_be():
    readings = {}
    primitives.install()
    for seed in (0, 1):
        seen = []
        run_once(lambda: seen.append((time.monotonic(), time.perf_counter(), time.time())), Replay([]), 100, seed)
        readings[seed] = seen[0]
    for monotonic, perf, epoch in readings.values():
        assert 10_000 <= monotonic <= 1_000_000 and perf == monotonic
        assert 1_767_225_600 <= epoch <= 1_830_297_600 and epoch != round(epoch, -3)
    assert readings[0] != readings[1], "the start depends on the seed"
