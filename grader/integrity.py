"""Defence in depth inside the test process: an audit hook, an import filter and a seal on loaded modules.

The walls are elsewhere: grader.policy refuses, before anything runs, a source that steps outside what an
exercise needs, and grader.sandbox isolates the test process by the operating system. This guard is the
layer between, for what gets past the one and must not depend on the other. It refuses, for all code in the
test process, what would reach beyond the grading: reading files outside the Python installation, the grader
package, the scratch directory and (until the checks are collected) the harness directory; writing outside
the scratch directory; starting programs; network traffic to anything but loopback; signalling processes
outside the run; adding audit hooks. The submission may not import the grader's own modules nor change the
modules loaded before it. Each refusal is a "needs review" note with the line (`tally.py:7: tried to write
'/tmp/x' (refused)`). Code in the same process can get around all of this (audit hooks are not a sandbox).
"""
from __future__ import annotations

import _posixsubprocess
import ast
import builtins
import ipaddress
import linecache
import os
import socket
import sys
import sysconfig
import types
from _thread import get_ident as _get_ident
from pathlib import Path

__all__ = ["REFUSED_MODULES", "ALLOWED_IMPORTS", "MAX_NOTES", "Guard"]

#: The grader's own modules: a submission importing them is refused.
REFUSED_MODULES = frozenset({"grader", "pytest", "_pytest", "pluggy", "hypothesis", "_hypothesis_pytestplugin",
                             "pytest_timeout"})
#: What a submission may import from those modules: the student-facing names some problems need.
ALLOWED_IMPORTS = {"grader.sched": frozenset({"AtomicReference"})}
MAX_NOTES = 20

_FRAMES = "reads the call stack"
_OBJECTS = "walks the interpreter's objects"
_PROCESSES = "starts processes"


# -- the guard, in the test process ------------------------------------------------------------------------

_START = "start a program: a submission runs in this one Python process"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
_PROGRAMS = frozenset({"os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen", "pty.spawn",
                       "os.startfile"})
# events with paths to check: event -> indexes of the path arguments that must lie in the scratch directory
_MUTATIONS = {
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.symlink": (1,),
    "os.link": (0, 1), "os.truncate": (0,), "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,),
    "os.mkfifo": (0,), "os.mknod": (0,), "os.setxattr": (0,), "os.removexattr": (0,), "shutil.rmtree": (0,),
    "os.chflags": (0,), "os.lchflags": (0,),
}
_NETWORK = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg", "socket.bind"})
_LOOKUPS = frozenset({"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                      "socket.gethostbyaddr", "socket.getnameinfo"})
# events flagged when the submission makes them; not sys._getframe, which the scheduler calls at every lock
# acquire (a hook call per acquire tripled the CPU time of scheduled checks): the source scan flags it
_FLAGS = {
    "gc.get_objects": _OBJECTS, "gc.get_referrers": _OBJECTS, "gc.get_referents": _OBJECTS,
    "sys._current_frames": _FRAMES, "sys.settrace": "installs a tracer",
    "sys.setprofile": "installs a tracer", "os.fork": _PROCESSES,
}
_WATCHED = frozenset({"open", "os.kill", "os.killpg", "sys.addaudithook", "socket.__new__", *_PROGRAMS,
                      *_MUTATIONS, *_NETWORK, *_LOOKUPS, *_FLAGS})


class Guard:
    """The test process's audit hook and import filter, for the submission at `impl` (see the module doc).

    `note(text)` receives each review note (`tally.py:7: ...`), at most MAX_NOTES distinct ones.
    """

    def __init__(self, impl: str, scratch: str, harness: str, private: list[str], grader_pid: int, note):
        self.impl = os.path.realpath(impl)
        self.name = Path(impl).name
        self.module = Path(impl).stem
        self.scratch = _folder(scratch)
        self.harness = _folder(harness)
        self.harness_open = True
        paths = sysconfig.get_paths()
        installed = [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")]
        installed.append(str(Path(__file__).resolve().parent))  # the grader package
        self.installed = tuple(map(_folder, installed))
        # sys.path as it is before the checks are collected: site folders that .pth files added, too
        search = [_folder(entry) for entry in sys.path if entry and os.path.isdir(entry)]
        self.roots = (*self.installed, *(entry for entry in search if entry not in (self.scratch, self.harness)))
        self.private = tuple(map(_folder, private))  # the problems and solutions, wherever sys.path points
        self._stdlib = tuple(os.path.realpath(paths[key]) + os.sep for key in ("stdlib", "platstdlib"))
        self._site = tuple(os.path.realpath(paths[key]) + os.sep for key in ("purelib", "platlib"))
        self._own = __file__
        self.grader_pid = grader_pid
        self.pgid = os.getpgid(0)
        self._note = note
        self._noted: set[str] = set()
        self._busy: set[int] = set()
        self._realpaths: dict[str, str] = {}
        self._real_import = builtins.__import__
        self._classes: list[tuple[type, dict]] = []

    def install(self) -> None:
        """Add the audit hook (for the rest of the process's life) and the import filter, and take away
        _posixsubprocess.fork_exec, the one way to start a program that raises no audit event (it is how
        subprocess and multiprocessing's spawn start theirs)."""
        sys.addaudithook(self._hook)
        builtins.__import__ = self._import
        _posixsubprocess.fork_exec = self._fork_exec

    def _fork_exec(self, *args, **kwargs):
        ident = _get_ident()
        self._busy.add(ident)
        try:
            self._refuse(_START)
        finally:
            self._busy.discard(ident)

    def seal(self) -> None:
        """From now on the submission may not set or delete attributes of the modules loaded so far (the
        grader's, pytest's, the checks', the standard library's) with its own statements; the grader, pytest
        and the import system still may. Their classes are recorded, for changed_classes(). Called just before
        the submission's first import."""
        guard = self

        class Sealed(types.ModuleType):
            __slots__ = ()

            def __setattr__(self, name, value):
                if sys._getframe(1).f_code.co_filename == guard.impl:
                    guard._refuse_change(self.__name__, name)
                super().__setattr__(name, value)

            def __delattr__(self, name):
                if sys._getframe(1).f_code.co_filename == guard.impl:
                    guard._refuse_change(self.__name__, name)
                super().__delattr__(name)

        for module in list(sys.modules.values()):
            if type(module) is types.ModuleType and module.__name__ != self.module:
                module.__class__ = Sealed
                for value in list(vars(module).values()):
                    if isinstance(value, type) and value.__module__ == module.__name__:
                        self._classes.append((value, dict(vars(value))))

    def changed_classes(self) -> str | None:
        """`module.Class.name` of an attribute of a class recorded by seal() that is no longer the same object
        (a submission that set `collections.Counter.__eq__`, say), or None."""
        for cls, attributes in self._classes:
            now = vars(cls)
            for name in attributes.keys() | now.keys():
                if name not in _CLASS_CACHES and now.get(name, _MISSING) is not attributes.get(name, _MISSING):
                    return f"{cls.__module__}.{cls.__qualname__}.{name}"
        return None

    def _refuse_change(self, owner: str, name: str) -> None:
        self._refuse(f"change {owner}.{name}: a submission may change only its own module and classes")

    def close_harness(self, hidden: set[str]) -> None:
        """The checks are collected: from now on the harness directory cannot be read (and the runner removes
        the checks' file). linecache keeps the checks' lines, which tracebacks and Hypothesis (whose fixed
        seeds come from a check's source) read, except those of the hidden checks `hidden` (function names),
        which become blank lines: a hidden check's code must not reach a message or a printed stack."""
        for path in list(linecache.cache):
            if isinstance(path, str) and os.path.realpath(path).startswith(self.harness):
                del linecache.cache[path]
        for path in map(str, Path(self.harness).glob("*.py")):
            lines = linecache.getlines(path)
            for first, last in _spans(lines, hidden):
                lines[first:last] = ["\n"] * (last - first)
            if lines:  # an entry without a modification time is never checked against the disk again
                linecache.cache[path] = (sum(map(len, lines)), None, lines, path)
        self.harness_open = False

    # -- the import filter ---------------------------------------------------------------------------------
    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name.partition(".")[0] in REFUSED_MODULES:
            ident = _get_ident()
            self._busy.add(ident)
            try:
                caller = sys._getframe(1).f_code.co_filename
            finally:
                self._busy.discard(ident)
            file = globals.get("__file__") if isinstance(globals, dict) else None
            if caller == self.impl or (isinstance(file, str) and self._realpath(file) == self.impl):
                allowed = ALLOWED_IMPORTS.get(name, frozenset())
                if fromlist and all(item in allowed for item in fromlist):
                    return _only(self._real_import(name, globals, locals, fromlist, level), name, fromlist)
                raise ImportError(f"{self.name} may not import {name!r}: the grader's own modules are off limits "
                                  "to submissions (use the standard library)", name=name)
        return self._real_import(name, globals, locals, fromlist, level)

    def _realpath(self, file: str) -> str:
        """os.path.realpath, remembered: the grader's own late imports come through here on hot paths."""
        real = self._realpaths.get(file)
        if real is None:
            real = self._realpaths[file] = os.path.realpath(file)
        return real

    # -- the audit hook ------------------------------------------------------------------------------------
    def _hook(self, event, args):
        if event not in _WATCHED:
            return
        ident = _get_ident()
        if ident in self._busy:
            return
        self._busy.add(ident)
        try:
            self._check(event, args)
        finally:
            self._busy.discard(ident)

    def _check(self, event, args):
        if event == "open":
            self._open(args)
        elif event in _FLAGS:
            self._flag(_FLAGS[event], direct=True)
        elif event in _MUTATIONS:
            for index in _MUTATIONS[event]:
                if index < len(args) and not isinstance(args[index], int) and not self._in_scratch(args[index]):
                    self._refuse(f"change {_text(args[index])}: only files in the working directory may be changed")
        elif event in _PROGRAMS:
            self._refuse(_START)
        elif event in _NETWORK:
            self._address(event, args[0], args[-1] if event != "socket.sendmsg" else args[1])
        elif event in _LOOKUPS:  # a name (or, in reverse, an address) other than loopback means DNS traffic
            host = args[0][0] if event == "socket.getnameinfo" else args[0]
            literal = event in ("socket.getaddrinfo", "socket.gethostbyname") and _ip(host) is not None
            if host not in (None, "", "localhost", b"localhost") and not literal and not _loopback(host):
                self._refuse(f"look up {_text(host)}: only loopback addresses are allowed")
        elif event == "socket.__new__":
            if args[1] not in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX, -1):
                self._refuse("open a raw or special socket")
        elif event in ("os.kill", "os.killpg"):
            self._signal(event, args[0])
        elif event == "sys.addaudithook":
            raise RuntimeError("the grader's audit hook is the last one")

    def _open(self, args):
        path, mode, flags = args
        if path is None or isinstance(path, int):
            return
        try:
            real = os.path.realpath(os.fsdecode(path)).rstrip(os.sep) + os.sep  # a folder as its own prefix
        except (TypeError, ValueError):  # not a path at all: open() itself says so
            return
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(flags & _WRITE_FLAGS)
        if real.rstrip(os.sep) in _DEVICES or real.startswith(self.scratch):
            return
        if writing:
            self._refuse(f"write {_text(path)}: only files in the working directory may be written")
        private = real.startswith(self.private) and not real.startswith(self.installed)
        if not private and (real.startswith(self.roots) or (self.harness_open and real.startswith(self.harness))):
            return
        self._refuse(f"read {_text(path)}: a submission may read only its own directory and the Python "
                     "installation")

    def _address(self, event, sock, address):
        if sock.family == socket.AF_UNIX:
            path = address.decode(errors="replace") if isinstance(address, bytes) else str(address)
            if not path.startswith("\0") and self._in_scratch(path):
                return
            self._refuse(f"connect to the socket {_text(path)}")
        if not isinstance(address, tuple) or not address:
            return
        host = address[0]
        if host in ("localhost", b"localhost") or _loopback(host) or (host == "" and event != "socket.bind"):
            return
        verb = "listen on" if event == "socket.bind" else "send to" if event != "socket.connect" else "connect to"
        self._refuse(f"{verb} {_text(host)}: only loopback addresses (127.0.0.1, ::1) are allowed")

    def _signal(self, event, target):
        if event == "os.killpg":
            if target not in (0, self.pgid) or target == 1:  # killpg(1) is kill(-1): every process there is
                self._refuse(f"signal the process group {target}: only the run's own processes may be signalled")
            return
        if target in (0, os.getpid()) or (target == -self.pgid and target != -1):
            return
        if target > 0 and target != self.grader_pid:
            try:
                if os.getpgid(target) == self.pgid:
                    return
            except OSError:
                return  # no such process: kill() says so itself
        self._refuse(f"signal the process {target}: only the run's own processes may be signalled")

    def _in_scratch(self, path) -> bool:
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return real.startswith(self.scratch) or real + os.sep == self.scratch or real in _DEVICES

    def _refuse(self, what: str):
        message = f"the grader does not let a submission {what}"
        self._flag(f"tried to {what.partition(':')[0]} (refused)", direct=False)
        raise PermissionError(message)

    # -- notes ---------------------------------------------------------------------------------------------
    def _flag(self, what: str, direct: bool) -> None:
        line = self._line(direct)
        if line is None:
            return
        text = f"{self.name}:{line}: {what}"
        if text in self._noted or len(self._noted) >= MAX_NOTES:
            return
        self._noted.add(text)
        self._note(text)

    def _line(self, direct: bool) -> int | None:
        """The submission's line that caused the current event: the innermost frame of the submission on the
        stack, or with `direct`, only if the first frame outside the standard library is the submission's."""
        frame = sys._getframe(1)
        for _ in range(200):
            if frame is None:
                return None
            filename = frame.f_code.co_filename
            if filename == self.impl:
                return frame.f_lineno
            if direct and filename != self._own and not self._is_stdlib(filename):
                return None
            frame = frame.f_back
        return None

    def _is_stdlib(self, filename: str) -> bool:
        return filename.startswith("<frozen") or (filename.startswith(self._stdlib)
                                                  and not filename.startswith(self._site))


_MISSING = object()
_CLASS_CACHES = frozenset({"__abstractmethods__", "_abc_impl", "__parameters__"})  # may change on their own


def _spans(lines: list[str], functions: set[str]) -> list[tuple[int, int]]:
    """(first, past-last) line indexes of the top-level functions named in `functions`, decorators included."""
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return [(0, len(lines))] if functions else []  # cannot tell which lines: keep none
    return [(min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1, node.end_lineno)
            for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name in functions]


def _only(module, name: str, names) -> types.ModuleType:
    """A stand-in for `module` holding only `names`: what `from <name> import <names>` may see."""
    stand_in = types.ModuleType(name)
    for item in names:
        setattr(stand_in, item, getattr(module, item))
    return stand_in


def _folder(path: str) -> str:
    return os.path.realpath(path).rstrip(os.sep) + os.sep


def _ip(host):
    """`host` as an IP address if it is written as one, else None."""
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    try:
        return ipaddress.ip_address(str(host).partition("%")[0])
    except ValueError:
        return None


def _loopback(host) -> bool:
    address = _ip(host)
    return address is not None and address.is_loopback


def _text(value) -> str:
    text = os.fsdecode(value) if isinstance(value, (bytes, str)) else str(value)
    return repr(text[:200])
