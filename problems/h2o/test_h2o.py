"""Checks for h2o. Each check's docstring is the guarantee it proves; see README.md.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import collections
import threading
import time

import pytest

from grader.checking import Crew, describe_error, run_threads
from grader.sched import explore

KIND = {"H": "hydrogen", "O": "oxygen"}


class Gate:
    """The H2O under test, and release() callbacks that log when each atom's release() begins and ends."""

    def __init__(self, impl):
        self.h2o = impl.H2O()
        self.log = []        # (event, kind, atom, thread that called release()); event is "begin" or "end"
        self.returned = {}   # atom -> how many of its release() calls had ended when its call returned

    def release_for(self, kind, atom):
        def release():
            self.log.append(("begin", kind, atom, threading.current_thread().name))
            time.sleep(0)  # a scheduling point: release() takes a while, and other threads run meanwhile
            self.log.append(("end", kind, atom, threading.current_thread().name))
        return release

    def arrive(self, kind, atom):
        """Call hydrogen() or oxygen() for one atom, and note what its release() had done when the call returned."""
        call = self.h2o.hydrogen if kind == "H" else self.h2o.oxygen
        call(self.release_for(kind, atom))
        self.returned[atom] = sum(1 for event, _, who, _ in self.log if event == "end" and who == atom)

    def atoms(self, thread, kinds):
        """The body of a thread that makes one call per letter of kinds ("HH": two hydrogen calls)."""
        def body():
            for n, kind in enumerate(kinds, start=1):
                self.arrive(kind, thread if n == 1 else f"{thread} (call {n})")
        return body

    def begun(self):
        return [(kind, atom) for event, kind, atom, _ in self.log if event == "begin"]


def settle():
    """Let every other thread run until it finishes or blocks: virtual time moves on only when no thread can run."""
    time.sleep(1.0)


def finish(crews):
    """Wait for every thread of these crews, and fail if any raised (a thread still waiting is reported as such)."""
    __tracebackhide__ = True
    for crew in crews:
        crew.join().check()


def atoms_text(counts):
    return " and ".join(f"{n} {KIND[kind]}{'s' if n > 1 else ''}" for kind, n in sorted(counts.items()) if n)


def mixing_problem(log, settled=False):
    """What breaks "whole molecules, one at a time" in a log of release() begins and ends, or None.

    settled: every thread has since finished or is blocked, so a molecule begun but not finished never will be.
    """
    begun, ended = [], set()
    for event, kind, atom, _ in log:
        if event == "end":
            ended.add(atom)
            continue
        n = len(begun)
        begun.append((kind, atom))
        molecule = begun[n - n % 3:]
        counts = collections.Counter(k for k, _ in molecule)
        if counts["H"] > 2 or counts["O"] > 1:
            return (f"the release() calls began in this order: {', '.join(a for _, a in begun)}; calls "
                    f"{n - n % 3 + 1}-{n + 1} ({', '.join(a for _, a in molecule)}) are {atoms_text(counts)}, "
                    "but each group of three must be two hydrogens and one oxygen")
        previous = begun[n - n % 3 - 3:n - n % 3] if n >= 3 else []
        unfinished = [a for _, a in previous if a not in ended]
        if unfinished:
            return (f"{atom}'s release() began (release call {n + 1}, the next molecule) while the release() of "
                    f"{' and '.join(unfinished)} (the molecule before) had not yet returned: "
                    "molecules must not overlap")
    if settled and len(begun) % 3:
        last = begun[len(begun) - len(begun) % 3:]
        return (f"the release() calls began in this order: {', '.join(a for _, a in begun)}, and then every thread "
                f"waited: the last molecule was left with {atoms_text(collections.Counter(k for k, _ in last))} "
                f"({', '.join(a for _, a in last)}), never completed")
    return None


# Interleaving checks: the scheduler runs each scenario under many interleavings, on virtual time.


@pytest.mark.points(2)
@pytest.mark.hint("each call must call its own release() argument itself, once, before returning; never another thread's")
def test_each_atom_released_once_by_its_own_thread(impl):
    """Every hydrogen() and oxygen() call calls its release() exactly once, in its own thread, before returning."""
    def scenario():
        gate = Gate(impl)

        def later(delay, kind, atom):
            def body():
                time.sleep(delay)  # virtual time: arrive once the atoms before have arrived and are waiting
                gate.arrive(kind, atom)
            return body

        run_threads(impl, {
            "hydrogen-0": later(0, "H", "hydrogen-0"),
            "hydrogen-1": later(1, "H", "hydrogen-1"),
            "oxygen-0": later(2, "O", "oxygen-0"),
        })
        for atom in ["hydrogen-0", "hydrogen-1", "oxygen-0"]:
            callers = [thread for event, _, who, thread in gate.log if event == "begin" and who == atom]
            assert len(callers) == 1, (
                f"hydrogen-0, hydrogen-1 and then oxygen-0 arrived; {atom}'s release() was called {len(callers)} "
                "times; expected exactly once"
            )
            assert callers == [atom], (
                f"hydrogen-0, hydrogen-1 and then oxygen-0 arrived; {atom}'s release() was called by {callers[0]}; "
                f"expected {atom} to call it itself, in its own thread"
            )
            assert gate.returned[atom] == 1, (
                f"{atom}'s call returned before its release() had returned; "
                "expected it to call release() and then return"
            )
    explore(scenario, schedules=50)


@pytest.mark.points(3)
@pytest.mark.hint("an atom may call release() only once its molecule is there: two hydrogens and one oxygen that have arrived and not been released")
def test_no_release_before_the_molecule_is_complete(impl):
    """No atom is released until two hydrogens and one oxygen have arrived for its molecule."""
    def scenario():
        for order in [("O", "H", "H"), ("H", "O", "H"), ("H", "H", "O")]:
            gate = Gate(impl)
            counts = collections.Counter()
            arrived, crews = [], []
            for kind in order:
                name = f"{KIND[kind]}-{counts[kind]}"
                counts[kind] += 1
                crews.append(Crew(impl, {name: gate.atoms(name, kind)}))
                arrived.append(name)
                settle()
                released = [atom for _, atom in gate.begun()]
                assert len(arrived) == 3 or not released, (
                    f"{' and then '.join(arrived)} arrived, and {' and '.join(released)} was released at once; "
                    "expected every atom to wait until two hydrogens and one oxygen are there"
                )
            finish(crews)
    explore(scenario, schedules=50)


@pytest.mark.points(3)
@pytest.mark.hint("let the next molecule form only once all three release() calls of this one have returned (a barrier between molecules)")
def test_molecules_do_not_mix(impl):
    """Releases come in whole molecules: every three consecutive release() calls are two hydrogens and one oxygen, and molecules do not overlap."""
    def scenario():
        gate = Gate(impl)
        # One call per hydrogen thread: a thread cannot be both hydrogens of a molecule, so any pairing can finish.
        crew = Crew(impl, {
            **{f"hydrogen-{i}": gate.atoms(f"hydrogen-{i}", "H") for i in range(4)},
            "oxygen-0": gate.atoms("oxygen-0", "OO"),
        })
        settle()
        problem = mixing_problem(gate.log, settled=True)
        assert problem is None, (
            f"hydrogen-0 to hydrogen-3 each called hydrogen() once, and oxygen-0 called oxygen() twice: {problem}"
        )
        finish([crew])
    explore(scenario, schedules=100)


@pytest.mark.points(2)
@pytest.mark.hint("whichever atom completes a molecule (the second hydrogen or the oxygen, whatever the order) must let it go; count with >=, extra atoms wait")
def test_no_atom_waits_when_a_molecule_can_form(impl):
    """Whenever two hydrogens and one oxygen are waiting, a molecule is released; only the atoms left over wait."""
    def scenario():
        gate = Gate(impl)
        crews = [Crew(impl, {name: gate.atoms(name, name[0].upper())
                             for name in ["hydrogen-0", "hydrogen-1", "hydrogen-2", "oxygen-0"]})]
        settle()
        released = sorted(atom for _, atom in gate.begun())
        assert len(released) == 3 and [kind for kind, _ in sorted(gate.begun())] == ["H", "H", "O"], (
            "hydrogen-0, hydrogen-1, hydrogen-2 and oxygen-0 arrived together; "
            + (f"only {', '.join(released)} were released" if released else "nothing was released")
            + "; expected one molecule (two of the hydrogens and the oxygen), with one hydrogen left waiting"
        )
        crews.append(Crew(impl, {"hydrogen-3": gate.atoms("hydrogen-3", "H"), "oxygen-1": gate.atoms("oxygen-1", "O")}))
        finish(crews)  # the hydrogen left over, hydrogen-3 and oxygen-1 make the second molecule
    explore(scenario, schedules=100)


# Real threads: a smoke test. It proves little about races (the checks above do); it never flakes.

STRESS_HYDROGENS, STRESS_OXYGENS, STRESS_OXYGEN_CALLS, STRESS_TIMEOUT = 60, 3, 10, 10


@pytest.mark.points(1)
def test_stress_real_threads(impl):
    """60 real hydrogen threads calling once and 3 oxygen threads calling 10 times: 30 whole molecules, each atom released once by its own thread."""
    gate = Gate(impl)
    errors = {}

    def guarded(name, body):
        def run():
            try:
                body()
            except Exception as exc:
                errors[name] = exc
        return run

    # One call per hydrogen thread: a thread cannot be both hydrogens of a molecule, so any pairing must finish.
    plan = {f"hydrogen-{i}": "H" for i in range(STRESS_HYDROGENS)}
    plan.update({f"oxygen-{i}": "O" * STRESS_OXYGEN_CALLS for i in range(STRESS_OXYGENS)})
    threads = [threading.Thread(target=guarded(name, gate.atoms(name, kinds)), name=name, daemon=True)
               for name, kinds in plan.items()]
    deadline = time.monotonic() + STRESS_TIMEOUT
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not errors, "\n".join(f"{name}: {describe_error(impl, exc)}" for name, exc in errors.items())
    wrong = [(atom, thread) for event, _, atom, thread in gate.log if event == "begin" and atom.split(" ")[0] != thread]
    assert not wrong, (
        f"{wrong[0][0]}'s release() was called by {wrong[0][1]}; expected the atom's own thread to call it"
    )
    problem = mixing_problem(gate.log)
    assert problem is None, problem
    running = [t.name for t in threads if t.is_alive()]
    calls = STRESS_HYDROGENS + STRESS_OXYGENS * STRESS_OXYGEN_CALLS
    assert not running, (
        f"threads still waiting after {STRESS_TIMEOUT} s: {', '.join(running)}; "
        f"{len(gate.begun())} of {calls} atoms were released"
    )
    counts = collections.Counter(atom for _, atom in gate.begun())
    twice = [atom for atom, n in counts.items() if n > 1]
    assert not twice and len(counts) == calls, (
        f"{calls} calls made {sum(counts.values())} release() calls"
        + (f"; released more than once: {', '.join(twice[:5])}" if twice else "")
        + "; expected each atom released exactly once"
    )
