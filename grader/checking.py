"""Helpers for check authors: named threads whose exceptions become messages in the student's terms.

    from grader.checking import run_threads, attempt, said

    run_threads(impl, {"producer-0": lambda: buf.put(1), "consumer-0": lambda: got.append(buf.get())})
    outcome = attempt(lambda: buf.get(timeout=0.05))      # ("raised", TimeoutError(...))
    assert raised(outcome, TimeoutError), f"get() on an empty buffer {said(impl, outcome)}"

They work the same under `grader.sched.explore` and on real threads. On real threads (a stress check), give a
timeout: the threads are daemons, and join() fails naming those still running when it passes:

    run_threads(impl, {f"adder-{i}": add_many for i in range(4)}, timeout=STRESS_TIMEOUT)

Compare only plain values:

    assert plain(counter.value, "value") == 11, ...     # an int subclass whose __eq__ says True fails here
"""
import os
import threading
import time
import traceback


class Crew:
    """Named threads, one body each, started at once; join() waits for some or all, check() fails if any raised.

    With `timeout` (seconds, for real threads), the threads are daemons and every join() waits until one
    deadline, `timeout` after the start, then fails naming the threads still running.
    """

    def __init__(self, impl, bodies, timeout=None):
        self.impl = impl
        self.errors = {}
        self.timeout = timeout
        self.threads = {name: threading.Thread(target=self._guarded(name, body), name=name,
                                               daemon=timeout is not None or None)
                        for name, body in bodies.items()}
        self.deadline = None if timeout is None else time.monotonic() + timeout
        for t in self.threads.values():
            t.start()

    def _guarded(self, name, body):
        def run():
            try:
                body()
            except Exception as exc:
                self.errors[name] = exc
        return run

    def join(self, *names):
        __tracebackhide__ = True
        for name in names or self.threads:
            if self.deadline is None:
                self.threads[name].join()
            else:
                self.threads[name].join(max(0.0, self.deadline - time.monotonic()))
        running = [name for name in names or self.threads if self.threads[name].is_alive()]
        if running:
            raise AssertionError(f"threads still running after {self.timeout:g} s: {', '.join(running)}")
        return self

    def check(self):
        __tracebackhide__ = True
        if self.errors:
            raise AssertionError("\n".join(f"{name}: {describe_error(self.impl, exc)}"
                                           for name, exc in self.errors.items()))


def run_threads(impl, bodies, timeout=None):
    """Run each body in a thread named by its key, join them all, and fail if any of them raised (or, with
    `timeout`, if any is still running that long after the start)."""
    __tracebackhide__ = True
    Crew(impl, bodies, timeout).join().check()


def describe_error(impl, exc, name_call=True):
    """`get() raised IndexError: pop from an empty deque (bounded_buffer.py:31)`, naming the student's line."""
    mine = [f for f in traceback.extract_tb(exc.__traceback__)
            if os.path.basename(f.filename) == os.path.basename(impl.__file__)]
    where = f" ({os.path.basename(mine[-1].filename)}:{mine[-1].lineno})" if mine else ""
    call = f"{mine[-1].name}() raised " if mine and name_call else "raised "
    return f"{call}{type(exc).__name__}: {exc}{where}" if str(exc) else f"{call}{type(exc).__name__}{where}"


def attempt(call):
    """Call call() and return what happened: ("returned", value) or ("raised", exception)."""
    try:
        return "returned", call()
    except Exception as exc:
        return "raised", exc


def raised(outcome, kind):
    return outcome[0] == "raised" and isinstance(outcome[1], kind)


def said(impl, outcome):
    """An outcome in the student's terms: `returned None`, `raised TimeoutError: ... (bounded_buffer.py:40)`."""
    how, what = outcome
    return f"returned {what!r}" if how == "returned" else describe_error(impl, what, name_call=False)


_PLAIN = (int, float, complex, str, bytes, bool, type(None))
_CONTAINERS = (list, tuple, dict, set, frozenset)


def plain(value, what="the value"):
    """`value` itself if it is a plain builtin value: an int, float, str, bytes, bool or None, or a list, tuple,
    dict, set or frozenset of such values (exactly those types, not subclasses). Anything else fails the check:
    a subclass or a proxy could answer ==, len() or iteration with whatever makes a check pass. Nothing of
    the submission's runs here (no __eq__, __len__, __iter__ or __repr__ of its objects).

    `what` names the value in the message: `value returned an int subclass (Liar); return a plain int`.
    """
    __tracebackhide__ = True
    problem = _not_plain(value, what)
    if problem is not None:
        raise AssertionError(problem)
    return value


def _not_plain(value, what: str, depth: int = 0) -> str | None:
    kind = type(value)
    if kind in _PLAIN:
        return None
    if kind in _CONTAINERS and depth < 20:
        items = [*value.keys(), *value.values()] if kind is dict else value
        for item in items:
            problem = _not_plain(item, f"a value in {what}", depth + 1)
            if problem is not None:
                return problem
        return None
    for base in (*_PLAIN, *_CONTAINERS):
        if isinstance(value, base):
            name = base.__name__
            return f"{what} is {_a(name)} {name} subclass ({kind.__qualname__}), not a plain {name}: return a plain {name}"
    return f"{what} is {_a(kind.__qualname__)} {kind.__qualname__}, not a plain value (an int, a str, a list, ...)"


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
