"""Who runs next: seeded strategies, each schedule fully determined by (strategy, seed, profile).

A strategy has `choose(run, runnable, current)`, the thread to run at a decision (current is None
when the running thread blocked or ended), and `jump(run)`, whether the clock runs ahead to the next
timer (a submission's sleep) now. The profile is what the first, unpreempted run of the scenario
measured (see `Profile`); it is the same on every replay.

Small scenarios get the portfolio that finds their bugs fast: "switch with probability p" (cheap;
shallow races), uniform random (deep ones, like the five-way philosophers deadlock that PCT misses)
and PCT. Scenarios with many threads add two whose power does not fall with the number of threads:
PCT with its priority change points over the run's measured length, and a weighted walk after SURW
(Zhao et al., ASPLOS 2025): a thread runs next with a chance in proportion to the events it (with
the threads it will start) has left, so a thread that starts many others keeps running until it has,
and, when selective, decisions are made only at the events on one shared name drawn by the seed, so
a run is long stretches without a switch and a few well-placed ones. Replay follows recorded choices.
"""
from __future__ import annotations

import dis
import random

STAY = -1  # in a replayed choice list: keep the current thread
JUMP = -2  # in a replayed choice list: let the clock run ahead to the next timer
WIDE = 6   # threads from which a scenario counts as having many
JUMP_P = 0.05   # chance that the clock runs ahead at a point while a submission's sleep is the next timer


class Profile:
    """What the scenario's unpreempted run measured: its steps, and per thread its steps, its parent, and
    which of its steps touched which name (an attribute, global or closure variable; `[]` for items)."""

    def __init__(self, run):
        self.steps = run.steps
        self.threads = len(run.threads)
        self.own = [t.steps for t in run.threads]
        self.parent = [t.parent for t in run.threads]
        names: dict[str, list[int]] = {}
        for tid, code, offset in run.trace:
            if code is not None:
                name = touched(code, offset)
                if name is not None:
                    names.setdefault(name, [0] * self.threads)[tid] += 1
        # the shared names: touched by two threads or more
        self.names = {n: counts for n, counts in names.items() if sum(1 for c in counts if c) >= 2}


_touched: dict = {}


def touched(code, offset) -> str | None:
    """The name the instruction at `offset` of `code` loads or stores, `[]` for an item; None for others."""
    table = _touched.get(code)
    if table is None:
        table = _touched[code] = {}
        for ins in dis.get_instructions(code):
            if ins.opname.endswith(("_ATTR", "_GLOBAL", "_DEREF", "_NAME", "_METHOD")) and isinstance(ins.argval, str):
                table[ins.offset] = ins.argval
            elif "SUBSCR" in ins.opname or "SLICE" in ins.opname:
                table[ins.offset] = "[]"
    return table.get(offset)


class _Random:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def jump(self, run) -> bool:
        return self.rng.random() < JUMP_P


class Prob(_Random):
    """Keep the running thread; switch to a random other one with probability p at each point."""

    def __init__(self, seed: int, p: float):
        super().__init__(seed)
        self.p = p
        self.name = f"prob(p={p})"

    def choose(self, run, runnable, current):
        if current is None:
            return runnable[self.rng.randrange(len(runnable))]
        if self.rng.random() >= self.p:
            return current
        i = self.rng.randrange(len(runnable) - 1)      # among the others, in tid order
        return runnable[i + 1] if runnable[i].tid >= current.tid else runnable[i]


class Uniform(_Random):
    """Any runnable thread, uniformly at each point."""

    name = "random"

    def choose(self, run, runnable, current):
        return runnable[self.rng.randrange(len(runnable))]


class PCT(_Random):
    """Probabilistic concurrency testing (Burckhardt et al.): random priorities, the highest runnable
    runs; at depth-1 change points, drawn uniformly over the run's measured steps, the running thread
    drops below all others. After 4x those steps it turns uniform (Coyote's fair PCT), so that a spin
    loop is not starved forever."""

    def __init__(self, seed: int, depth: int, steps: int):
        super().__init__(seed)
        self.name = f"pct(depth={depth})"
        self.k = max(steps, 1)
        self.changes = sorted(self.rng.randrange(1, self.k + 1) for _ in range(depth - 1))
        self.priority: dict[int, float] = {}
        self.low = 0.0

    def choose(self, run, runnable, current):
        if run.steps > 4 * self.k:
            return runnable[self.rng.randrange(len(runnable))]
        while self.changes and run.steps >= self.changes[0]:
            self.changes.pop(0)
            if current is not None:
                self.low -= 1.0
                self.priority[current.tid] = self.low
        priority = self.priority
        best, top = None, None
        for t in runnable:
            p = priority.get(t.tid)
            if p is None:
                p = priority[t.tid] = 1.0 + self.rng.random()
            if top is None or p > top:
                best, top = t, p
        return best


class Weighted(_Random):
    """A weighted walk after SURW: the next thread is drawn in proportion to the events it has left, by the
    profile, counting those of the threads it will start; selective with a `name`: only the events that
    touch that name count, decisions are made only before them, and the running thread keeps running
    through all others (it also runs on when a decision draws it)."""

    def __init__(self, seed: int, profile: Profile, name: str | None):
        super().__init__(seed)
        self.name = "weighted walk" + (f" on {name!r}" if name else "")
        self.resource = name
        own = list(profile.names[name]) if name else list(profile.own)
        self.parent = profile.parent
        subtree = own[:]
        for tid in range(len(own) - 1, 0, -1):
            if self.parent[tid] is not None:
                subtree[self.parent[tid]] += subtree[tid]
        self.own, self.subtree = own, subtree
        self.pending = [subtree[t] - own[t] for t in range(len(own))]   # events of threads not started yet
        self.done = [0] * len(own)
        self.created = 0

    def _weight(self, t) -> int:
        tid = t.tid
        if tid >= len(self.own):
            return 1
        done = self.done[tid] if self.resource else t.steps
        return max(1, self.own[tid] - done) + max(0, self.pending[tid])

    def choose(self, run, runnable, current):
        while self.created < len(run.threads):        # a started thread takes its events from its parent's
            tid = self.created
            self.created += 1
            if tid < len(self.own) and self.parent[tid] is not None:
                self.pending[self.parent[tid]] -= self.subtree[tid]
        if current is not None and self.resource is not None:
            at = current.at
            if at is None or touched(*at) != self.resource:
                return current
            if current.tid < len(self.done):
                self.done[current.tid] += 1
        weights = [self._weight(t) for t in runnable]
        r = self.rng.random() * sum(weights)
        for t, w in zip(runnable, weights):
            r -= w
            if r < 0:
                return t
        return runnable[-1]


class Bounded:
    """At most `bound` preemptions, at random decisions among the first k; otherwise keep running."""

    def __init__(self, seed: int, bound: int, k: int):
        self.rng = random.Random(seed)
        self.name = f"{bound} preemption(s)"
        self.at = set(self.rng.sample(range(max(k, bound)), bound))

    def jump(self, run) -> bool:
        return False

    def choose(self, run, runnable, current):
        if current is not None:
            if len(run.decisions) in self.at:
                others = [t for t in runnable if t is not current]
                return others[self.rng.randrange(len(others))]
            return current
        return runnable[self.rng.randrange(len(runnable))]


class Replay:
    """Follow recorded choices; where one no longer applies, keep the current thread if it can run."""

    name = "replay"

    def __init__(self, choices: list[int]):
        self.choices = choices

    def jump(self, run) -> bool:
        index = len(run.decisions)
        return index < len(self.choices) and self.choices[index] == JUMP

    def choose(self, run, runnable, current):
        index = len(run.decisions)
        if index < len(self.choices):
            wanted = self.choices[index]
            for t in runnable:
                if t.tid == wanted:
                    return t
        if current is not None:
            return current
        return runnable[0]


def for_seed(seed: int, profile: Profile):
    """The portfolio: the strategy that schedule `seed` runs, for a scenario with this profile."""
    if profile.threads < WIDE:
        kind = seed % 4
        if kind in (0, 2):
            return Prob(seed, 0.1 if kind == 0 else 0.03)
        if kind == 1:
            return Uniform(seed)
        return PCT(seed, 3, profile.steps)
    kind = seed % 6
    if kind == 0:
        return Prob(seed, 0.1)
    if kind == 1:
        return PCT(seed, 1 + (seed // 6) % 3, profile.steps)
    if kind == 2:
        return Weighted(seed, profile, None)
    names = sorted(profile.names)
    if not names:
        return Weighted(seed, profile, None)
    return Weighted(seed, profile, names[random.Random(seed).randrange(len(names))])
