"""Concurrency mutants of a problem's reference, and the gate `grader check --mutants` that grades them.

Each operator makes one small concurrency mistake at one place of the reference, in the spirit of the
ConMAn operators for Java (Bradbury, Cordy and Dingel 2006), adapted to Python: a `with lock:` removed, a
critical section narrowed or split, a wakeup lost, `while` turned into `if` around a wait, and so on (see
OPERATORS). A mutant is the reference's text with one or two spans replaced, so its diff shows only the
lines it changes. Its id `<operator>-L<line>-<hash>` names the operator, the reference line it changes and
a hash of the mutant's whole text: it stays the same while the reference does. Mutants that do not compile
or repeat an earlier one are left out; the order is the reference's line order.

A mutant is graded as a submission is, stopping at its first failing check: killed if a check fails, else
it survived. solutions/<slug>/equivalent_mutants.toml lists the mutants that no program can tell apart
from the reference, one table per id with a one-line `reason`; they are not graded. Any other survivor is
a gap in the checks, and fails the gate.
"""
from __future__ import annotations

import ast
import difflib
import hashlib
import re
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader import runner
from grader.catalog import GraderError, Problem, ProblemError
from grader.report import Report

__all__ = ["OPERATORS", "EQUIVALENTS", "Mutant", "Outcome", "Run", "make", "generate", "find", "sample",
           "equivalents", "grade", "check"]

EQUIVALENTS = "equivalent_mutants.toml"


@dataclass(frozen=True)
class Mutant:
    """One mutant of a reference: its id, what it changes (one line), its full text and its diff."""

    id: str
    operator: str
    line: int
    what: str
    source: str
    diff: str


# ---------------------------------------------------------------------------------------------------------
# Editing the reference's text. Offsets are in UTF-8 bytes, as ast's columns are.

class _Text:
    """The reference's source, with byte offsets of its lines, for replacing spans that ast nodes name."""

    def __init__(self, source: str):
        self.source = source
        self.data = source.encode()
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def at(self, line: int, col: int = 0) -> int:
        return self.starts[line - 1] + col

    def start(self, node) -> int:
        return self.at(node.lineno, node.col_offset)

    def end(self, node) -> int:
        return self.at(node.end_lineno, node.end_col_offset)

    def seg(self, node) -> str:
        return self.between(self.start(node), self.end(node))

    def between(self, start: int, end: int) -> str:
        return self.data[start:end].decode()

    def lines(self, first: int, last: int) -> str:
        """Lines first to last (1-based, inclusive), with their line ends."""
        return self.between(self.at(first), self.at(last + 1))

    def indent(self, line: int) -> str:
        text = self.lines(line, line)
        return text[: len(text) - len(text.lstrip(" \t"))]

    def rest_of_line(self, offset: int) -> str:
        """From offset to the end of its line, line end included."""
        line = next(i for i, start in enumerate(self.starts) if start > offset)
        return self.between(offset, self.starts[line])

    def edit(self, *edits: tuple[int, int, str]) -> str:
        """The source with each (start, end, text) span replaced; the spans must not overlap."""
        data = self.data
        for start, end, text in sorted(edits, reverse=True):
            data = data[:start] + text.encode() + data[end:]
        return data.decode()

    def replace(self, node, text: str) -> str:
        return self.edit((self.start(node), self.end(node), text))

    def replace_lines(self, first: int, last: int, text: str) -> str:
        return self.edit((self.at(first), self.at(last + 1), text))


def _dedent(block: str, width: int) -> str | None:
    """block with width columns of indentation taken off each line, or None if a line has less."""
    out = []
    for line in block.splitlines(keepends=True):
        if not line.strip():
            out.append(line.lstrip(" \t"))
        elif line[:width].strip(" ") == "":
            out.append(line[width:])
        else:
            return None
    return "".join(out)


def _walk(node):
    """Every node under node, not looking inside nested functions, lambdas or classes."""
    todo = list(ast.iter_child_nodes(node))
    while todo:
        child = todo.pop()
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(child))


def _ordered(nodes):
    return sorted(nodes, key=lambda n: (n.lineno, n.col_offset))


def _name(node) -> str:
    """The last name of an expression: `self._lock` -> `_lock`, `asyncio.gather` -> `gather`."""
    if isinstance(node, ast.Call):
        return _name(node.func)
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    return ""


def _method_call(node, *names) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names


def _blocks(tree):
    """(statement, the block that holds it) for every statement, in source order."""
    found = []
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                found += [(stmt, block) for stmt in block]
    return sorted(found, key=lambda sb: (sb[0].lineno, sb[0].col_offset))


def _delete(text: _Text, stmt, block) -> str | None:
    """The source without stmt (`pass` if it is alone in its block); None if it shares a line."""
    others = [s for s in block if s is not stmt]
    if any(s.end_lineno >= stmt.lineno and s.lineno <= stmt.end_lineno for s in others):
        return None
    after = text.rest_of_line(text.end(stmt)).strip()
    if (after and not after.startswith("#")) or text.between(text.at(stmt.lineno), text.start(stmt)).strip():
        return None  # code before or after it on its line (a trailing comment goes with it)
    if others:
        return text.replace_lines(stmt.lineno, stmt.end_lineno, "")
    return text.replace_lines(stmt.lineno, stmt.end_lineno, text.indent(stmt.lineno) + "pass\n")


# ---------------------------------------------------------------------------------------------------------
# Critical sections: `with` and `async with` on locks, conditions and semaphores.

def _lockish(expr) -> bool:
    """A lock, condition or semaphore as `with` takes it: `self._lock`, `locks[i]`, `rw.read_locked()`."""
    if isinstance(expr, (ast.Name, ast.Attribute, ast.Subscript)):
        return True
    return isinstance(expr, ast.Call) and "lock" in _name(expr).lower()


def _sections(tree, kinds=(ast.With, ast.AsyncWith)):
    """`with` statements whose items are all locks, with the header on one line and the body below it."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, kinds) and all(_lockish(item.context_expr) for item in node.items):
            header_end = max((item.optional_vars or item.context_expr).end_lineno for item in node.items)
            if header_end == node.lineno and node.body[0].lineno > node.lineno:
                found.append(node)
    return _ordered(found)


def _item(text: _Text, item) -> str:
    return text.seg(item.context_expr) + (f" as {text.seg(item.optional_vars)}" if item.optional_vars else "")


def _header(text: _Text, node, items, tail: bool = True) -> str:
    """node's header line with `items` instead of its own; its comment kept if tail."""
    keyword = "async with " if isinstance(node, ast.AsyncWith) else "with "
    rest = text.rest_of_line(text.end(node.items[-1].optional_vars or node.items[-1].context_expr))
    rest = rest if tail else ":\n"
    return text.indent(node.lineno) + keyword + ", ".join(_item(text, item) for item in items) + rest


def _shown(text: _Text, node) -> str:
    return _header(text, node, node.items, tail=False).strip()


def _width(node, body) -> int:
    return body[0].col_offset - node.col_offset


_LOCAL = (ast.Return, ast.Assign, ast.Pass, ast.Name, ast.Constant, ast.Load, ast.Store, ast.Tuple, ast.List,
          ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.expr_context, ast.operator, ast.boolop,
          ast.unaryop, ast.cmpop)


def _local(tree, statements) -> bool:
    """Whether statements only read and write local names and constants, calling nothing: moving them
    across a lock release makes an equivalent mutant, so no operator does."""
    function = next((f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and any(statements[0] is n for n in _walk(f))), None)
    if function is None:
        return False
    names = {a.arg for a in function.args.args + function.args.kwonlyargs + function.args.posonlyargs}
    names |= {n.id for n in _walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    nodes = [n for s in statements for n in ast.walk(s)]
    return all(isinstance(n, _LOCAL) for n in nodes) and all(n.id in names for n in nodes if isinstance(n, ast.Name))


def remove_lock(tree, text, kinds=(ast.With,)):
    """`with lock:` removed, its body kept (of `with a, b:`, one of them)."""
    for node in _sections(tree, kinds):
        if len(node.items) == 1:
            body = _dedent(text.lines(node.lineno + 1, node.end_lineno), _width(node, node.body))
            if body is not None:
                yield node.lineno, f"no `{_shown(text, node)}` around its block", \
                    text.replace_lines(node.lineno, node.end_lineno, body)
            continue
        for i, item in enumerate(node.items):
            rest = node.items[:i] + node.items[i + 1:]
            yield node.lineno, f"`{_item(text, item)}` not taken", \
                text.replace_lines(node.lineno, node.lineno, _header(text, node, rest))


def remove_async_lock(tree, text):
    """`async with lock:` (or semaphore) removed, its body kept."""
    yield from remove_lock(tree, text, kinds=(ast.AsyncWith,))


def narrow_first(tree, text):
    """The first statement of a critical section moved out of it, before it."""
    for node in _sections(tree):
        first = node.body[0]
        if len(node.body) < 2 or first.end_lineno >= node.body[1].lineno or _local(tree, [first]):
            continue
        moved = _dedent(text.lines(first.lineno, first.end_lineno), _width(node, node.body))
        if moved is not None:
            between = text.lines(node.lineno + 1, first.lineno - 1) if first.lineno > node.lineno + 1 else ""
            header = text.lines(node.lineno, node.lineno)
            yield first.lineno, f"line {first.lineno} moved out of `{_shown(text, node)}`, before it", \
                text.replace_lines(node.lineno, first.end_lineno, moved + header + between)


def narrow_last(tree, text):
    """The last statement of a critical section moved out of it, after it."""
    for node in _sections(tree):
        last = node.body[-1]
        if len(node.body) < 2 or last.lineno <= node.body[-2].end_lineno or _local(tree, [last]):
            continue
        moved = _dedent(text.lines(last.lineno, last.end_lineno), _width(node, node.body))
        if moved is not None:
            yield last.lineno, f"line {last.lineno} moved out of `{_shown(text, node)}`, after it", \
                text.replace_lines(last.lineno, last.end_lineno, moved)


def split_section(tree, text):
    """A critical section split in two: the lock released and taken again between two of its statements."""
    for node in _sections(tree):
        for i, (before, after) in enumerate(zip(node.body, node.body[1:])):
            if after.lineno <= before.end_lineno or _local(tree, node.body[i + 1:]):
                continue
            at = text.at(before.end_lineno + 1)
            yield after.lineno, f"`{_shown(text, node)}` released and taken again before line {after.lineno}", \
                text.edit((at, at, _header(text, node, node.items, tail=False)))


def swap_locks(tree, text):
    """Two nested acquisitions taken in the other order."""
    for node in _sections(tree):
        items = node.items
        for i in range(len(items) - 1):
            swapped = items[:i] + [items[i + 1], items[i]] + items[i + 2:]
            yield node.lineno, f"`{_item(text, items[i + 1])}` taken before `{_item(text, items[i])}`", \
                text.replace_lines(node.lineno, node.lineno, _header(text, node, swapped))
        inner = node.body[0]
        if (len(items) == 1 and len(node.body) == 1 and inner in _sections(tree, (type(node),))
                and len(inner.items) == 1):
            a, b = items[0].context_expr, inner.items[0].context_expr
            yield node.lineno, f"`{text.seg(b)}` taken before `{text.seg(a)}`", text.edit(
                (text.start(a), text.end(a), text.seg(b)), (text.start(b), text.end(b), text.seg(a)))


def release_out_of_finally(tree, text):
    """A release moved out of its `finally` (or a `with lock:` that can raise turned into acquire ... release):
    it is skipped when the block raises."""
    for node in _ordered(n for n in ast.walk(tree) if isinstance(n, ast.Try) and n.finalbody):
        for stmt in node.finalbody:
            if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                    and _name(stmt.value).startswith(("release", "unlock"))):
                continue
            moved = _dedent(text.lines(stmt.lineno, stmt.end_lineno), stmt.col_offset - node.col_offset)
            what = f"line {stmt.lineno} moved out of its `finally`, after the `try`"
            if moved is None:
                continue
            if not node.handlers and not node.orelse and len(node.finalbody) == 1:
                body = _dedent(text.lines(node.body[0].lineno, node.body[-1].end_lineno), _width(node, node.body))
                if body is not None:
                    yield stmt.lineno, what, text.replace_lines(node.lineno, node.end_lineno, body + moved)
                continue
            after = text.at(node.end_lineno + 1)
            rest = [s for s in node.finalbody if s is not stmt]
            gone = "" if rest else text.indent(stmt.lineno) + "pass\n"
            yield stmt.lineno, what, text.edit((text.at(stmt.lineno), text.at(stmt.end_lineno + 1), gone),
                                               (after, after, moved))
    for node in _sections(tree):
        inside = list(_walk(node))
        if (not any(isinstance(n, ast.Raise) for n in inside) or any(item.optional_vars for item in node.items)
                or any(isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom, ast.Break, ast.Continue)) for n in inside)):
            continue
        body = _dedent(text.lines(node.lineno + 1, node.end_lineno), _width(node, node.body))
        if body is None:
            continue
        indent, wait = text.indent(node.lineno), "await " if isinstance(node, ast.AsyncWith) else ""
        names = [text.seg(item.context_expr) for item in node.items]
        acquire = "".join(f"{indent}{wait}{name}.acquire()\n" for name in names)
        release = "".join(f"{indent}{name}.release()\n" for name in reversed(names))
        yield node.lineno, f"`{_shown(text, node)}` as acquire() ... release(): not released when the block raises", \
            text.replace_lines(node.lineno, node.end_lineno, acquire + body + release)


# ---------------------------------------------------------------------------------------------------------
# Waiting and waking.

def _waits(node) -> bool:
    return any(_method_call(n, "wait", "wait_for") for n in _walk(node))


def _wait_loops(tree):
    return _ordered(n for n in ast.walk(tree) if isinstance(n, ast.While) and not n.orelse and _waits(n))


def notify_one(tree, text):
    """`notify_all()` turned into `notify()`."""
    for node in _ordered(n for n in ast.walk(tree) if _method_call(n, "notify_all")):
        end = text.end(node.func)
        yield node.lineno, f"`{text.seg(node)}` wakes one waiter, not all", \
            text.edit((end - len("notify_all"), end, "notify"))


_WAKEUPS = {"notify": 1, "notify_all": 0, "set": 0, "release": 0, "release_read": 0, "release_write": 0}


def drop_wakeup(tree, text):
    """A `notify()`, `notify_all()`, `Event.set()` or `release()` deleted."""
    for stmt, block in _blocks(tree):
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if (_method_call(call, *_WAKEUPS) and not call.keywords
                and len(call.args) <= _WAKEUPS[call.func.attr]):
            mutated = _delete(text, stmt, block)
            if mutated is not None:
                yield stmt.lineno, f"`{text.seg(call)}` deleted", mutated


def while_to_if(tree, text):
    """`while` around a wait turned into `if`: a wakeup is taken as a guarantee."""
    for node in _wait_loops(tree):
        start = text.start(node)
        yield node.lineno, f"`if` instead of `while` around the wait at line {node.lineno}", \
            text.edit((start, start + len("while"), "if"))


def _conditions(tree):
    """(node, condition) of each wait: the test of a `while` around a wait, and a `wait_for` lambda's body."""
    found = [(loop, loop.test) for loop in _wait_loops(tree)]
    for call in ast.walk(tree):
        if _method_call(call, "wait_for") and call.args and isinstance(call.args[0], ast.Lambda):
            found.append((call, call.args[0].body))
    return sorted(found, key=lambda nc: (nc[1].lineno, nc[1].col_offset))


def _operand(text: _Text, node) -> str:
    shown = text.seg(node)
    return f"({shown})" if isinstance(node, (ast.BoolOp, ast.IfExp, ast.Lambda, ast.NamedExpr)) else shown


def _without(text: _Text, boolop, i: int) -> str:
    kept = boolop.values[:i] + boolop.values[i + 1:]
    if len(kept) == 1:
        return text.seg(kept[0])
    return (" and " if isinstance(boolop.op, ast.And) else " or ").join(_operand(text, v) for v in kept)


def weaken_wait(tree, text):
    """One operand dropped from the condition a wait waits on (a `while` test or a `wait_for` predicate)."""
    for _, cond in _conditions(tree):
        boolop = cond.operand if isinstance(cond, ast.UnaryOp) and isinstance(cond.op, ast.Not) else cond
        if not isinstance(boolop, ast.BoolOp):
            continue
        for i, value in enumerate(boolop.values):
            yield value.lineno, f"`{text.seg(value)}` dropped from the wait condition `{text.seg(cond)}`", \
                text.replace(boolop, _without(text, boolop, i))


def negate_wait(tree, text):
    """The condition a wait waits on negated."""
    for _, cond in _conditions(tree):
        if isinstance(cond, ast.UnaryOp) and isinstance(cond.op, ast.Not):
            new = text.seg(cond.operand)
        else:
            new = f"not ({text.seg(cond)})"
        yield cond.lineno, f"the wait condition `{text.seg(cond)}` negated", text.replace(cond, new)


def _has_timeout(function) -> bool:
    return any(arg.arg == "timeout" for arg in function.args.args + function.args.kwonlyargs)


def no_deadline(tree, text):
    """The full timeout passed to every wait of a retry loop, instead of the time left until the deadline."""
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or not _has_timeout(function):
            continue
        for loop in (n for n in _walk(function) if isinstance(n, ast.While)):
            for call in _ordered(n for n in _walk(loop) if _method_call(n, "wait", "wait_for")):
                position = 0 if call.func.attr == "wait" else 1
                given = [k.value for k in call.keywords if k.arg == "timeout"] or call.args[position:position + 1]
                if given and text.seg(given[0]) != "timeout":
                    yield call.lineno, f"`{text.seg(call)}` waits the full timeout, not the time left", \
                        text.replace(given[0], "timeout")


_FLAGS = ("closed", "shutdown", "stop")


def _flag(node) -> bool:
    """Whether an expression reads a closed/shutdown/stop flag (`self._closed`, `_STOP`)."""
    return any(isinstance(n, (ast.Name, ast.Attribute)) and any(f in _name(n).lower().replace("_", "") for f in _FLAGS)
               for n in ast.walk(node))


def drop_flag_check(tree, text):
    """A check of a closed or shutdown flag dropped: one operand of a test, or a whole `if` without `else`."""
    for stmt, block in _blocks(tree):
        if not isinstance(stmt, (ast.If, ast.While)) or not _flag(stmt.test):
            continue
        test = stmt.test
        boolop = test.operand if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) else test
        if isinstance(boolop, ast.BoolOp) and not all(_flag(v) for v in boolop.values):
            for i, value in enumerate(boolop.values):
                if _flag(value):
                    yield value.lineno, f"`{text.seg(value)}` dropped from `{text.seg(test)}`", \
                        text.replace(boolop, _without(text, boolop, i))
        elif isinstance(stmt, ast.If) and not stmt.orelse:
            mutated = _delete(text, stmt, block)
            if mutated is not None:
                yield stmt.lineno, f"the check `if {text.seg(test)}:` deleted", mutated


_FLIP = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">"}
_TIMING = ("remaining", "deadline", "monotonic", "timeout")


def off_by_one(tree, text):
    """`<` and `<=` (or `>` and `>=`) swapped in a comparison of counts, capacities or amounts (not of times)."""
    for node in _ordered(n for n in ast.walk(tree) if isinstance(n, ast.Compare)):
        if any(word in _name(n).lower() for n in ast.walk(node) for word in _TIMING):
            continue
        sides = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, sides, sides[1:]):
            if type(op) not in _FLIP:
                continue
            start, end = text.end(left), text.start(right)
            match = re.search(r"<=|>=|<|>", text.between(start, end))
            if match:
                new = _FLIP[type(op)]
                yield node.lineno, f"`{match.group()}` turned into `{new}` in `{text.seg(node)}`", \
                    text.edit((start + match.start(), start + match.end(), new))


def unchecked_set(tree, text):
    """`ref.compare_and_set(expected, new)` turned into a plain `set(new)` that reports success: the update
    no longer fails when another thread changed the reference since it was read."""
    for node in _ordered(n for n in ast.walk(tree) if _method_call(n, "compare_and_set")):
        if len(node.args) == 2 and not node.keywords:
            receiver = text.seg(node.func.value)
            yield node.lineno, f"`{text.seg(node)}` sets without comparing", \
                text.replace(node, f"({receiver}.set({text.seg(node.args[1])}) or True)")


# ---------------------------------------------------------------------------------------------------------
# asyncio.

def _imports_asyncio(tree) -> bool:
    return any(isinstance(n, ast.Import) and any(a.name == "asyncio" and a.asname is None for a in n.names)
               for n in ast.walk(tree))


def sequential_gather(tree, text):
    """`await asyncio.gather(...)`, or a task made by `create_task`, awaited one after another."""
    if not _imports_asyncio(tree):
        return
    for node in _ordered(n for n in ast.walk(tree) if isinstance(n, ast.Await)):
        call = node.value
        if not (isinstance(call, ast.Call) and _name(call) == "gather") or call.keywords:
            continue
        if len(call.args) == 1 and isinstance(call.args[0], ast.Starred):
            many = call.args[0].value
            if isinstance(many, (ast.GeneratorExp, ast.ListComp)):
                last = many.generators[-1]
                end = text.end(last.ifs[-1] if last.ifs else last.iter)
                new = f"[await {text.seg(many.elt)}{text.between(text.end(many.elt), end)}]"
            else:
                new = f"[await _aw for _aw in {text.seg(many)}]"
        elif not any(isinstance(arg, ast.Starred) for arg in call.args):
            new = "[" + ", ".join(f"await {text.seg(arg)}" for arg in call.args) + "]"
        else:
            continue
        yield node.lineno, f"`{text.seg(node)}` awaited one after another", text.replace(node, new)
    for node in _ordered(n for n in ast.walk(tree) if _method_call(n, "create_task")):
        yield node.lineno, f"the task of `{text.seg(node)}` awaited before the next one starts", \
            text.replace(node, f"(_task := {text.seg(node)}, await asyncio.wait([_task]))[0]")


def drop_cancel(tree, text):
    """A `cancel()` deleted."""
    for stmt, block in _blocks(tree):
        if isinstance(stmt, ast.Expr) and _method_call(stmt.value, "cancel") and not stmt.value.args:
            mutated = _delete(text, stmt, block)
            if mutated is not None:
                yield stmt.lineno, f"`{text.seg(stmt.value)}` deleted", mutated


def drop_await_cancelled(tree, text):
    """The `await` of a task the code cancelled (or of a stream it closed, `wait_closed()`) deleted."""
    for function in (n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef)):
        cancelled, closed = set(), set()
        for loop in [function, *(n for n in _walk(function) if isinstance(n, ast.For))]:
            for call in (n for n in _walk(loop) if _method_call(n, "cancel", "close")):
                receiver = text.seg(call.func.value)
                (cancelled if call.func.attr == "cancel" else closed).add(receiver)
                if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and receiver == loop.target.id:
                    cancelled.add(text.seg(loop.iter))
        for stmt, block in _blocks(function):
            value = stmt.value.value if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Await) else None
            if value is None:
                continue
            awaited = {text.seg(value)}
            if isinstance(value, ast.Call):
                if _method_call(value, "wait_closed") and text.seg(value.func.value) in closed:
                    awaited.add(text.seg(value.func.value))
                    cancelled |= closed
                if _name(value) in ("gather", "wait"):
                    awaited |= {text.seg(a.value if isinstance(a, ast.Starred) else a) for a in value.args}
            if awaited & cancelled:
                mutated = _delete(text, stmt, block)
                if mutated is not None:
                    yield stmt.lineno, f"`{text.seg(stmt)}` deleted", mutated


OPERATORS = {
    "remove_lock": remove_lock,
    "remove_async_lock": remove_async_lock,
    "narrow_first": narrow_first,
    "narrow_last": narrow_last,
    "split_section": split_section,
    "swap_locks": swap_locks,
    "release_out_of_finally": release_out_of_finally,
    "notify_one": notify_one,
    "drop_wakeup": drop_wakeup,
    "while_to_if": while_to_if,
    "drop_flag_check": drop_flag_check,
    "weaken_wait": weaken_wait,
    "negate_wait": negate_wait,
    "no_deadline": no_deadline,
    "off_by_one": off_by_one,
    "unchecked_set": unchecked_set,
    "sequential_gather": sequential_gather,
    "drop_cancel": drop_cancel,
    "drop_await_cancelled": drop_await_cancelled,
}


def make(source: str, name: str = "reference.py", operators=None) -> list[Mutant]:
    """The mutants of source (named name in diffs), in line order, each once; `operators` picks some by name."""
    tree = ast.parse(source)
    text = _Text(source)
    made, seen = [], {source}
    for index, operator in enumerate(operators or OPERATORS):
        for line, what, mutated in OPERATORS[operator](tree, text):
            if mutated in seen:
                continue
            seen.add(mutated)
            try:
                compile(mutated, name, "exec", dont_inherit=True)
            except (SyntaxError, ValueError):
                continue
            mutant_id = f"{operator}-L{line}-{hashlib.sha256(mutated.encode()).hexdigest()[:6]}"
            diff = "".join(difflib.unified_diff(source.splitlines(keepends=True), mutated.splitlines(keepends=True),
                                                name, f"mutant {mutant_id}", n=2))
            made.append((line, index, Mutant(mutant_id, operator, line, what, mutated, diff)))
    return [mutant for _, _, mutant in sorted(made, key=lambda m: m[:2])]


def _shown_path(problem: Problem) -> str:
    return f"solutions/{problem.slug}/{problem.slug}.py"


def generate(problem: Problem) -> list[Mutant]:
    """The mutants of problem's reference. Raises GraderError if it has none."""
    if problem.reference is None:
        raise GraderError(f"{problem.slug} has no reference solution ({_shown_path(problem)})")
    return make(problem.reference.read_text(encoding="utf-8"), _shown_path(problem))


def find(problem: Problem, mutant_id: str) -> Mutant:
    """The mutant called mutant_id; raises GraderError with a suggestion if there is none."""
    made = generate(problem)
    for mutant in made:
        if mutant.id == mutant_id:
            return mutant
    close = difflib.get_close_matches(mutant_id, [m.id for m in made], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise GraderError(f"no mutant {mutant_id!r} of {problem.slug}.{hint} grader check --mutants {problem.slug} "
                      "lists the survivors")


def sample(mutants: list[Mutant], count: int) -> list[Mutant]:
    """A fixed sample: the count mutants whose ids hash lowest, in line order (the same while the ids are)."""
    picked = sorted(mutants, key=lambda m: hashlib.sha256(m.id.encode()).hexdigest())[:count]
    return [m for m in mutants if m in picked]


def equivalents(problem: Problem) -> dict[str, str]:
    """{mutant id: why it is equivalent} from solutions/<slug>/equivalent_mutants.toml ({} if it has none).

    Raises:
        ProblemError: the file is not valid TOML, or an entry has no one-line `reason`.
    """
    path = problem.folder.parent.parent / "solutions" / problem.slug / EQUIVALENTS
    if not path.is_file():
        return {}
    shown = f"solutions/{problem.slug}/{EQUIVALENTS}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProblemError(f"{shown}: not valid TOML: {exc}") from None
    reasons = {}
    for mutant_id, entry in data.items():
        reason = entry.get("reason") if isinstance(entry, dict) else None
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason.strip():
            raise ProblemError(f"{shown}: [{mutant_id}] needs reason = \"<one line: why no program can tell it "
                               "apart from the reference>\"")
        unknown = set(entry) - {"reason", "operator", "line"}
        if unknown:
            raise ProblemError(f"{shown}: [{mutant_id}] has unknown key(s) {', '.join(sorted(unknown))} "
                               "(known: reason, operator, line)")
        reasons[mutant_id] = reason.strip()
    return reasons


def grade(problem: Problem, mutant: Mutant, **options) -> Report:
    """Grade mutant as the file <slug>.py in a temporary folder; options go to runner.grade."""
    with tempfile.TemporaryDirectory(prefix="grader-mutant-") as folder:
        path = Path(folder) / f"{problem.slug}.py"
        path.write_text(mutant.source, encoding="utf-8")
        return runner.grade(problem, path, **options)


@dataclass
class Outcome:
    """What became of one mutant: killed (detail: the check), equivalent (detail: why) or survived."""

    mutant: Mutant
    verdict: str
    detail: str = ""
    seconds: float = 0.0


@dataclass
class Run:
    """The mutant gate on one problem: each mutant's outcome, stale equivalence entries, the wall time."""

    problem: Problem
    outcomes: list[Outcome] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # why no mutant was graded (the reference fails, or there is none)

    def count(self, verdict: str) -> int:
        return sum(o.verdict == verdict for o in self.outcomes)

    @property
    def survivors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == "survived"]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.survivors


def _grade_one(problem: Problem, mutant: Mutant) -> Outcome:
    started = time.perf_counter()
    result = grade(problem, mutant, stop_early=True)
    failed = next((c.name for c in result.checks if not c.passed), None)
    seconds = time.perf_counter() - started
    return Outcome(mutant, "killed" if failed else "survived", failed or "", seconds)


def check(problem: Problem, jobs: int = 1, only=None, reference: bool = True) -> Run:
    """Grade problem's mutants `jobs` at a time, each until its first failing check; the listed equivalents
    are not graded. `only`: grade just these mutants (a sample). With `reference`, first make sure the
    reference gets full marks (else every mutant would look killed)."""
    started = time.perf_counter()
    run = Run(problem)
    if problem.reference is None:
        run.error = f"missing {_shown_path(problem)}"
        return run
    if reference:
        graded = runner.grade(problem, problem.reference, stop_early=True)
        failed = next((c for c in graded.checks if not c.passed), None)
        if failed is not None:
            first = failed.message.splitlines()[0] if failed.message else "no message"
            run.error = f"the reference fails {failed.name} ({first}): mutants not graded"
            run.seconds = time.perf_counter() - started
            return run
    listed = equivalents(problem)
    made = generate(problem)
    ids = {m.id for m in made}
    run.stale = [mutant_id for mutant_id in listed if mutant_id not in ids]
    chosen = made if only is None else [m for m in made if m in only or m.id in only]
    todo = [m for m in chosen if m.id not in listed]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        graded = dict(zip((m.id for m in todo), pool.map(lambda m: _grade_one(problem, m), todo)))
    run.outcomes = [graded.get(m.id) or Outcome(m, "equivalent", listed[m.id]) for m in chosen]
    run.seconds = time.perf_counter() - started
    return run
