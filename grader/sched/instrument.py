"""Scheduling points at bytecode instructions of the submission's own code.

Python 3.12+ uses sys.monitoring with INSTRUCTION events local to the submission's code objects;
3.11 uses sys.settrace with opcode tracing (settrace opcode tracing crashes on 3.12.1). Only the
instructions that can touch state shared between threads are points: attribute, global, closure and
subscript loads and stores, calls, and loop back-edges (so a busy wait on a local name still yields). `self.value += 1` is then three points (load, call-free
add, store), and a switch can land between the load and the store.
"""
from __future__ import annotations

import dis
import sys

from grader.sched import state
from grader.sched.state import tracked_files, tracked_globals

_SHARED_NAMES = (
    "LOAD_ATTR", "STORE_ATTR", "DELETE_ATTR", "LOAD_METHOD", "LOAD_SUPER_ATTR",
    "LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_NAME", "STORE_NAME",
    "LOAD_DEREF", "STORE_DEREF", "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF",
    "BINARY_SUBSCR", "STORE_SUBSCR", "DELETE_SUBSCR", "BINARY_SLICE", "STORE_SLICE",
    "CALL", "CALL_KW", "CALL_FUNCTION_EX", "FOR_ITER", "JUMP_BACKWARD",
    "POP_JUMP_BACKWARD_IF_FALSE", "POP_JUMP_BACKWARD_IF_TRUE", "POP_JUMP_BACKWARD_IF_NONE",
    "POP_JUMP_BACKWARD_IF_NOT_NONE",
)
SHARED_OPCODES = frozenset(dis.opmap[n] for n in _SHARED_NAMES if n in dis.opmap)

_get_ident = state.get_ident
_identity = state.identity
_opcodes: dict = {}   # code object -> its bytecode (co_code makes a fresh copy on each access)


def _ops(code) -> bytes:
    ops = _opcodes.get(code)
    if ops is None:
        ops = _opcodes[code] = code.co_code
    return ops


def _point(code, offset) -> None:
    run = state.active
    if run is None:
        return
    st = run.by_ident.get(_get_ident())
    if st is None:
        if not run.aborting:
            run.uncontrolled(code)
        return
    st.at = (code, offset)
    run.point(st)
    st.at = None
    run.trace.append((st.tid, code, offset))


if sys.version_info >= (3, 12):
    _mon = sys.monitoring
    _TOOL = next(i for i in (4, 3, 2, 5) if _mon.get_tool(i) is None)
    _mon.use_tool_id(_TOOL, "concurrency-drills scheduler")
    # By identity: a file loaded again makes code objects that are equal to the old ones, not the same.
    _instrumented: dict[int, object] = {}

    def _on_start(code, offset):
        if code.co_filename in tracked_files and _identity(code) not in _instrumented:
            _instrumented[_identity(code)] = code
            _mon.set_local_events(_TOOL, code, _mon.events.INSTRUCTION)
        return _mon.DISABLE

    def _on_instruction(code, offset):
        if _ops(code)[offset] not in SHARED_OPCODES:
            return _mon.DISABLE
        _point(code, offset)

    _mon.register_callback(_TOOL, _mon.events.PY_START, _on_start)
    _mon.register_callback(_TOOL, _mon.events.INSTRUCTION, _on_instruction)

    def run_started() -> None:
        _mon.set_events(_TOOL, _mon.events.PY_START)

    def run_finished() -> None:
        pass

    def thread_started() -> None:
        pass

    def thread_finished() -> None:
        pass

else:
    # Reading frame.f_code raises an audit event on 3.11, which the grading child's audit hook pays for:
    # one opcode tracer per code object holds its code, and _global reads f_code only in the submission.
    _tracers: dict[int, object] = {}

    def _tracer_for(code):
        tracer = _tracers.get(_identity(code))
        if tracer is None:
            ops = _ops(code)

            def tracer(frame, event, arg, code=code):
                if event == "opcode":
                    offset = frame.f_lasti
                    if ops[offset] in SHARED_OPCODES:
                        _point(code, offset)
                return tracer
            _tracers[_identity(code)] = tracer
        return tracer

    def _global(frame, event, arg):
        # Called for every Python call in a controlled thread: the frame's module namespace rules out
        # most without reading f_code (not its __file__, which the submission could rebind). Code run
        # with a submission's namespace but from elsewhere, like a dataclass's generated __init__, is
        # then told apart by its own file name.
        if _identity(frame.f_globals) not in tracked_globals:
            return None
        code = frame.f_code
        if code.co_filename in tracked_files:
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
            return _tracer_for(code)
        return None

    _saved_trace = []

    def run_started() -> None:
        _saved_trace.append(sys.gettrace())
        sys.settrace(_global)

    def run_finished() -> None:
        sys.settrace(_saved_trace.pop() if _saved_trace else None)

    def thread_started() -> None:
        sys.settrace(_global)

    def thread_finished() -> None:
        sys.settrace(None)
