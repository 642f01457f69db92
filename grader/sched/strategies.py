"""Who runs next: seeded strategies, each schedule fully determined by (strategy, seed).

The portfolio rotates strategies by seed, as in Shuttle and Coyote: mostly "switch with probability
p" (cheap, and it finds shallow races fast), uniform random (finds deep ones, like the five-way
philosophers deadlock that PCT misses), and PCT with small depth (finds bugs that need a few
well-placed preemptions in a long run). Replay follows a recorded list of choices.
"""
from __future__ import annotations

import random

STAY = -1  # in a replayed choice list: keep the current thread


class Prob:
    """Keep the running thread; switch to a random other one with probability p at each point."""

    def __init__(self, seed: int, p: float):
        self.rng = random.Random(seed)
        self.p = p
        self.name = f"prob(p={p})"

    def choose(self, runnable, current, index):
        if current is not None and current in runnable and self.rng.random() >= self.p:
            return current
        others = [t for t in runnable if t is not current] or runnable
        return others[self.rng.randrange(len(others))]


class Uniform:
    """Any runnable thread, uniformly at each point."""

    name = "random"

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def choose(self, runnable, current, index):
        return runnable[self.rng.randrange(len(runnable))]


class PCT:
    """Probabilistic concurrency testing: random priorities, depth-1 priority drops over k steps.

    After 4k decisions it turns uniform (Coyote's fair PCT), so a spin loop is not starved forever.
    """

    def __init__(self, seed: int, depth: int, k: int):
        self.rng = random.Random(seed)
        self.name = f"pct(depth={depth})"
        self.k = max(k, 1)
        self.changes = set(self.rng.sample(range(self.k), min(depth - 1, self.k)))
        self.priority: dict[int, float] = {}
        self.low = 0.0

    def choose(self, runnable, current, index):
        if index > 4 * self.k:
            return runnable[self.rng.randrange(len(runnable))]
        for t in runnable:
            if t.tid not in self.priority:
                self.priority[t.tid] = 1.0 + self.rng.random()
        if index in self.changes and current is not None:
            self.low -= 1.0
            self.priority[current.tid] = self.low
        return max(runnable, key=lambda t: self.priority[t.tid])


class Bounded:
    """At most `bound` preemptions, at random decisions among the first k; otherwise keep running."""

    def __init__(self, seed: int, bound: int, k: int):
        self.rng = random.Random(seed)
        self.name = f"{bound} preemption(s)"
        self.at = set(self.rng.sample(range(max(k, bound)), bound))

    def choose(self, runnable, current, index):
        if current is not None and current in runnable:
            others = [t for t in runnable if t is not current]
            if index in self.at and others:
                return others[self.rng.randrange(len(others))]
            return current
        return runnable[self.rng.randrange(len(runnable))]


class Replay:
    """Follow recorded choices; where one no longer applies, keep the current thread if it can run."""

    name = "replay"

    def __init__(self, choices: list[int]):
        self.choices = choices

    def choose(self, runnable, current, index):
        if index < len(self.choices):
            wanted = self.choices[index]
            for t in runnable:
                if t.tid == wanted:
                    return t
        if current is not None and current in runnable:
            return current
        return runnable[0]


def for_seed(seed: int, k: int):
    """The portfolio: the strategy that schedule `seed` runs."""
    kind = seed % 4
    if kind in (0, 2):
        return Prob(seed, 0.1 if kind == 0 else 0.03)
    if kind == 1:
        return Uniform(seed)
    return PCT(seed, 3, k)
