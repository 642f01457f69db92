"""What a submission's source may use: an allowlist, checked on its syntax tree before anything runs.

A concurrency exercise needs a few standard modules and ordinary Python. A file that steps outside that is
not run at all, and the report names each line and construct (`counter.py:3: imports os`). The rules:

- imports: only the modules of `DEFAULT_MODULES`, as a problem widens (`allowed_imports`) or narrows
  (`forbidden`) them in its problem.toml; `allowed_imports` may also name single names (`grader.sched.
  AtomicReference`, imported as `from grader.sched import AtomicReference`). No `import *`, no relative imports.
- a module is used only through its names (`threading.Lock`), never as a value (`t = threading`), never
  for a private name (`threading._shutdown`), a module not imported itself (`asyncio.events`) or one of
  `ALWAYS_FORBIDDEN` (names that trace, start processes or run code from strings); its attributes are never
  changed (`time.sleep = ...`); nor are the process-wide settings behind them (asyncio.set_event_loop_policy).
- no builtins that reach around the language: getattr, setattr, delattr, vars, globals, locals, eval, exec,
  compile, __import__, open, breakpoint, help.
- no dunder attributes but `ALLOWED_DUNDERS` (`super().__init__()`, `type(self).__name__`), no frame, code,
  traceback, generator or coroutine attributes (`f_back`, `tb_frame`, `gi_frame`, `co_code`, ...), no dunder
  names but `__name__`, `__doc__` and `__debug__` (a class body may define any), no `__name__ = ...`.
- a private attribute (`x._name`) only if the file itself defines that name somewhere (`self._name = ...`, a
  method or class attribute `_name`): no reading `_target` or `_waiters` of the standard library's objects.
- `str.format` only on a literal template whose fields read no attribute or item (`"{}".format(x)`).

The block `if __name__ == "__main__":` at the top level never runs when the grader imports the file, so it
is not checked (a self-test there may use anything).
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import string
import sys
import types
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_MODULES", "ALWAYS_FORBIDDEN", "ALLOWED_DUNDERS", "REFUSED_BUILTINS", "Rules", "violations"]

DEFAULT_MODULES = frozenset({
    "__future__", "abc", "asyncio", "bisect", "collections", "collections.abc", "concurrent.futures",
    "contextlib", "copy", "dataclasses", "enum", "functools", "heapq", "itertools", "math", "numbers", "operator",
    "queue", "random", "re", "statistics", "threading", "time", "typing", "weakref",
})
ALWAYS_FORBIDDEN = frozenset({
    "threading.settrace", "threading.setprofile", "threading.settrace_all_threads",
    "threading.setprofile_all_threads", "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
    "concurrent.futures.ProcessPoolExecutor", "typing.get_type_hints", "typing.ForwardRef",
    "functools.singledispatch", "functools.singledispatchmethod", "operator.attrgetter", "operator.methodcaller",
    "asyncio.set_event_loop_policy",
})
REFUSED_BUILTINS = frozenset({"getattr", "setattr", "delattr", "vars", "globals", "locals", "eval", "exec",
                              "compile", "__import__", "open", "breakpoint", "help"})
ALLOWED_DUNDERS = frozenset({
    "__init__", "__new__", "__name__", "__qualname__", "__doc__", "__class__", "__enter__", "__exit__",
    "__aenter__", "__aexit__", "__iter__", "__next__", "__aiter__", "__anext__", "__await__", "__len__",
    "__contains__", "__getitem__", "__setitem__", "__delitem__", "__repr__", "__str__", "__bool__", "__hash__",
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__call__", "__post_init__",
})
_DUNDER_NAMES = frozenset({"__name__", "__doc__", "__debug__"})
_MODULE_DUNDER_STORES = frozenset({"__all__", "__version__", "__author__"})
_INTERNAL_TYPES = (types.FrameType, types.CodeType, types.TracebackType, types.GeneratorType,
                   types.CoroutineType, types.AsyncGeneratorType)
_INTERNAL_ATTRIBUTES = frozenset(name for kind in _INTERNAL_TYPES for name in dir(kind)
                                 if name.startswith(("f_", "tb_", "gi_", "cr_", "ag_", "co_")))


@dataclass(frozen=True)
class Rules:
    """The allowlist of one problem: importable modules, importable single names, and forbidden names."""

    modules: frozenset = DEFAULT_MODULES
    names: frozenset = frozenset()
    forbidden: frozenset = frozenset()
    enforced: bool = True

    @classmethod
    def of(cls, allowed: tuple = (), forbidden: tuple = (), enforced: bool = True) -> Rules:
        """Rules from problem.toml's `allowed_imports` (modules or single names) and `forbidden`."""
        modules = {name for name in allowed if _is_module(name)}
        return cls(modules=(DEFAULT_MODULES | modules) - set(forbidden), names=frozenset(set(allowed) - modules),
                   forbidden=frozenset(forbidden) | ALWAYS_FORBIDDEN, enforced=enforced)

    def refuses(self, dotted: str) -> bool:
        parts = dotted.split(".")
        return any(".".join(parts[:i]) in self.forbidden for i in range(1, len(parts) + 1))


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except Exception:  # noqa: BLE001 - not a module (or not importable here): a single name, then
        return False


def violations(source: bytes, filename: str, rules: Rules) -> list[str]:
    """Every line of `source` that the rules refuse, as `counter.py:3: imports os`, in line order (one per
    line and kind). A file that does not parse has none: its import fails and says why."""
    if not rules.enforced:
        return []
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError):
        return []
    except (RecursionError, MemoryError):
        return [f"{Path(filename).name}:1: is nested too deeply to be read"]
    tree.body = [node for node in tree.body if not _is_main_block(node)]
    checker = _Checker(rules)
    try:
        checker.run(tree)
    except RecursionError:
        return [f"{Path(filename).name}:1: is nested too deeply to be read"]
    name = Path(filename).name
    return [f"{name}:{line}: {what}" for line, what in sorted(checker.found)]


def _is_main_block(node: ast.stmt) -> bool:
    """`if __name__ == "__main__":`, which never runs when the grader imports the file."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _submodule(parent, dotted: str) -> bool:
    """Whether `dotted` (an attribute of the module `parent`) is a module: a submodule of the package, or a
    module that `parent` imported (as typing does collections)."""
    if parent is None:
        return False
    if isinstance(getattr(parent, dotted.rpartition(".")[2], None), types.ModuleType):
        return True
    if not hasattr(parent, "__path__"):
        return False
    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, ValueError):
        return False


def _module(name: str):
    try:
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - an allowed name that does not import here: nothing to look into
        return None


class _Checker:
    def __init__(self, rules: Rules):
        self.rules = rules
        self.found: dict[tuple[int, str], None] = {}
        self.modules: dict[str, str] = {}  # local name -> the module it is bound to by an import
        self.refused: set[str] = set()  # local names of imports refused (their uses are not listed again)
        self.defined: set[str] = set()  # attribute names the file defines itself
        self.owners: set[str] = set()  # names of methods' first parameters (self, cls): what `self._x = ...` sets
        self.bound: dict[str, int] = {}  # names bound other than by an import -> a line that binds them
        self.handled: set[int] = set()  # id() of Attribute nodes looked at as part of a module's chain

    def add(self, node: ast.AST, what: str) -> None:
        self.found[(getattr(node, "lineno", 1), what)] = None

    def run(self, tree: ast.Module) -> None:
        self._collect(tree)
        for node in ast.walk(tree):  # what `self._x = ...` in a method sets is the file's own
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name) \
                    and node.value.id in self.owners:
                self.defined.add(node.attr)
        for name, module in self.modules.items():
            if name in self.bound:
                self.found[(self.bound[name], f"the name {name} is both the module {module} and a variable: "
                                              "rename the variable")] = None
        self._visit(tree, in_class=False)

    # -- what the file binds and defines -----------------------------------------------------------------------
    def _collect(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self._import(node, alias)
            elif isinstance(node, ast.ImportFrom):
                self._import_from(node)
            elif isinstance(node, ast.ClassDef):
                self._bind(node.name, node)
                for item in node.body:
                    self.defined.update(_class_names(item))
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.args.args:
                        self.owners.add(item.args.args[0].arg)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._bind(node.name, node)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                self._bind(node.id, node)
            elif isinstance(node, ast.arg):
                self._bind(node.arg, node)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self._bind(node.name, node)
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                self._bind(node.name, node)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                self._bind(node.rest, node)

    def _bind(self, name: str, node: ast.AST) -> None:
        self.bound.setdefault(name, getattr(node, "lineno", 1))

    def _import(self, node: ast.Import, alias: ast.alias) -> None:
        if not self._importable(alias.name):
            self.add(node, f"imports {alias.name}, which this problem does not allow")
            self.refused.add(alias.asname or alias.name.partition(".")[0])
            return
        if alias.asname:
            self.modules[alias.asname] = alias.name
        else:
            self.modules[alias.name.partition(".")[0]] = alias.name.partition(".")[0]

    def _import_from(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.add(node, "uses a relative import")
            return
        base = node.module or ""
        for alias in node.names:
            dotted = f"{base}.{alias.name}"
            if alias.name == "*":
                self.add(node, f"imports everything from {base} (import the names you use)")
            elif self.rules.refuses(dotted) or self.rules.refuses(base):
                self.add(node, f"imports {dotted}, which {_who(dotted)}")
            elif dotted in self.rules.names:
                self._bind(alias.asname or alias.name, node)
            elif base not in self.rules.modules:
                self.add(node, f"imports {dotted}, which this problem does not allow")
            elif alias.name.startswith("_"):
                self.add(node, f"imports {dotted}, a private name of a module")
            elif _submodule(_module(base), dotted):
                if self._importable(dotted):
                    self.modules[alias.asname or alias.name] = dotted
                else:
                    self.add(node, f"imports {dotted}, which this problem does not allow")
            else:
                self._bind(alias.asname or alias.name, node)

    def _importable(self, module: str) -> bool:
        return module in self.rules.modules and not self.rules.refuses(module)

    # -- what the file uses --------------------------------------------------------------------------------------
    def _visit(self, node: ast.AST, in_class: bool) -> None:
        if isinstance(node, ast.Attribute) and id(node) not in self.handled:
            self._attribute(node)
        elif isinstance(node, ast.Name) and id(node) not in self.handled:
            self._name(node, in_class)
        elif isinstance(node, ast.Call):
            self._call(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.ClassDef) and child in node.body:
                self._visit(child, in_class=True)
            else:
                self._visit(child, in_class=in_class and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                                   ast.Lambda)))

    def _attribute(self, node: ast.Attribute) -> None:
        chain = self._module_chain(node)
        if chain is not None:
            if not isinstance(node.ctx, ast.Load):
                self.add(node, f"changes {chain}: a submission may change only its own objects")
            return
        self._plain_attribute(node)

    def _plain_attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr.startswith("__") and attr.endswith("__"):
            if attr not in ALLOWED_DUNDERS:
                self.add(node, f"uses the attribute {attr}, which a submission may not use")
        elif attr in _INTERNAL_ATTRIBUTES:
            self.add(node, f"uses {attr}, an attribute of the interpreter's frames or code")
        elif attr.startswith("_") and attr not in self.defined:
            verb = "reads" if isinstance(node.ctx, ast.Load) else "sets"
            self.add(node, f"{verb} {attr}, a private attribute of an object this file does not define")

    def _module_chain(self, node: ast.Attribute) -> str | None:
        """If `node` is an attribute chain rooted at a module (`threading.Lock`, `concurrent.futures.Future.
        set_result`), check the module part of it and return the chain's text; else None."""
        parts, value = [], node
        while isinstance(value, ast.Attribute):
            parts.append(value)
            value = value.value
        if isinstance(value, ast.Name) and value.id in self.refused:
            self.handled.update(id(part) for part in (*parts, value))
            return value.id
        if not (isinstance(value, ast.Name) and value.id in self.modules):
            return None
        for part in (*parts, value):
            self.handled.add(id(part))
        current = self.modules[value.id]
        obj = _module(current)
        for part in reversed(parts):
            dotted = f"{current}.{part.attr}"
            if obj is None:  # past the module part: ordinary attributes of a class or function
                self._plain_attribute(part)
            elif part.attr.startswith("_"):
                self.add(part, f"uses {dotted}, a private name of a module")
                return dotted
            elif self.rules.refuses(dotted):
                self.add(part, f"uses {dotted}, which {_who(dotted)}")
                return dotted
            elif _submodule(obj, dotted):
                if not self._importable(dotted) and not any(m.startswith(dotted + ".") for m in self.rules.modules):
                    self.add(part, f"reaches the module {dotted} through {current}, which this problem does not allow")
                    return dotted
                obj = _module(dotted)
            else:
                obj = None
            current = dotted
        return current

    def _name(self, node: ast.Name, in_class: bool) -> None:
        name = node.id
        if isinstance(node.ctx, ast.Load):
            if name in self.refused:
                pass  # its import is refused already
            elif name in self.modules and name in self.bound:
                pass  # said once, where the name is bound
            elif name in self.modules:
                self.add(node, f"uses the module {self.modules[name]} as a value (use its names, as in "
                               f"{name}.something)")
            elif name in REFUSED_BUILTINS:
                self.add(node, f"uses {name}, which a submission may not use")
            elif name.startswith("__") and name.endswith("__") and name not in _DUNDER_NAMES:
                self.add(node, f"uses the name {name}, which a submission may not use")
        elif name == "__name__":
            self.add(node, "assigns __name__")
        elif name in REFUSED_BUILTINS:
            self.add(node, f"binds the name {name}, which a submission may not use")
        elif name.startswith("__") and name.endswith("__") and not in_class and name not in _MODULE_DUNDER_STORES:
            self.add(node, f"assigns {name}, which a submission may not set")

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("format", "format_map"):
            template = func.value
            if not (isinstance(template, ast.Constant) and isinstance(template.value, str)
                    and _plain_template(template.value)):
                self.add(node, f"calls .{func.attr}() on a template that is not a plain literal (use an f-string)")


def _who(dotted: str) -> str:
    return "a submission may not use" if dotted in ALWAYS_FORBIDDEN else "this problem does not allow"


def _class_names(item: ast.stmt) -> set[str]:
    """Names a class body defines: methods, attributes (`_lock = None`, `_x: int`), `__slots__` entries."""
    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {item.name}
    targets = item.targets if isinstance(item, ast.Assign) else [item.target] if isinstance(
        item, (ast.AnnAssign, ast.AugAssign)) else []
    names = {target.id for target in targets if isinstance(target, ast.Name)}
    if "__slots__" in names and isinstance(item, ast.Assign):
        names |= {elt.value for elt in ast.walk(item.value) if isinstance(elt, ast.Constant) and isinstance(elt.value, str)}
    return names


def _plain_template(template: str) -> bool:
    """Whether a str.format template's fields are all plain (`{}`, `{0}`, `{name}`), format specs included."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return True  # format() itself will raise
    for _, field, spec, _ in fields:
        if field is not None and ("." in field or "[" in field):
            return False
        if spec and not _plain_template(spec):
            return False
    return True


if sys.version_info < (3, 11):  # pragma: no cover - the grader needs 3.11
    raise ImportError("grader.policy needs Python 3.11 or newer")
