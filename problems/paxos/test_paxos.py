"""Checks for paxos. Each check's docstring is the guarantee it proves; see README.md.

The nodes run on a simulated network kept here. It holds every message sent, and the check decides
which one to deliver next, how many times (0: lost; 2 or more: duplicated), and how late (delayed,
reordered, held back by a partition). Some checks play one classic race step by step; the others
draw hundreds of runs from seeds. A failing seeded run is shrunk to the fewest steps that still
fail and shown with its seed, which replays it exactly.

PYTEST_DONT_REWRITE: each assertion message is written for the student; pytest's rewritten
comparison would only repeat it in harness terms.
"""
import collections
import copy
import random

import pytest

from grader.checking import describe_error
from grader.sched import ScheduleFailure, seeds


class Stop(BaseException):
    """A run ends early: a guarantee broke, or the nodes' code raised. A BaseException, so that the
    nodes' own `except Exception` cannot swallow it."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


ATOMS = frozenset((int, str, bool, float, bytes, type(None)))


def immutable(value):
    """Whether value is made only of immutable parts (then a copy of it may be the value itself)."""
    kind = type(value)
    if kind in ATOMS:
        return True
    if kind is tuple or kind is frozenset:
        return all(map(immutable, value))
    params = getattr(kind, "__dataclass_params__", None)
    if params is not None and params.frozen:
        return all(immutable(getattr(value, name)) for name in kind.__dataclass_fields__)
    return False


class Cluster:
    """PaxosNode objects on a simulated network; only one node runs at a time.

    The network keeps every message sent, under a key (sender, to, text, copy number) that names the
    same message in a replay. Delivering a key hands a copy of that message to its node: never
    delivering it is loss, delivering it again is duplication, and delivering others first is delay.
    """

    def __init__(self, impl, ids, values):
        self.impl = impl
        self.ids = list(ids)
        self.values = dict(values)            # node -> the value it proposes
        self.messages = {}                    # key -> (sender, to, message)
        self.pending = []                     # keys sent and not yet delivered, oldest first
        self.sent = []                        # every key, in the order sent
        self.copies = {}                      # (sender, to, text) -> messages sent so far
        self.events = []                      # what happened, in the student's terms
        self.decisions = {}                   # node -> the value it decided first
        self.proposed = []                    # every value passed to propose()
        self.nodes = {}
        for i in self.ids:
            self.nodes[i] = self._call(f"PaxosNode({i}, {self.ids}, send)",
                                       lambda: impl.PaxosNode(i, list(self.ids), self._sender(i)))

    def _sender(self, node):
        def send(to, message):
            if to not in self.ids:
                raise Stop("error", f"node {node} called send({to!r}, {message!r}); the nodes are {self.ids}")
            frozen = immutable(message)
            if not frozen:
                try:
                    message = copy.deepcopy(message)   # a datagram carries a copy, not a shared object
                except Exception as exc:
                    raise Stop("error", f"node {node} sent {message!r}, which cannot be copied ({exc})") from None
            text = repr(message)
            n = self.copies.get((node, to, text), 0)
            self.copies[node, to, text] = n + 1
            key = (node, to, text, n)
            self.messages[key] = (node, to, message, frozen)
            self.sent.append(key)
            self.pending.append(key)
        return send

    def _call(self, what, body):
        try:
            return body()
        except Stop:
            raise
        except Exception as exc:
            raise Stop("error", f"{what} {describe_error(self.impl, exc, name_call=False)}") from None

    def note(self, text):
        self.events.append(f"({text})")

    def propose(self, node):
        value = self.values[node]
        self.proposed.append(value)
        self.events.append(f"node {node}: propose({value!r})")
        self._call(f"node {node}: propose({value!r})", lambda: self.nodes[node].propose(value))
        self._observe()

    def deliver(self, key):
        """Deliver one copy of the message under key; False if no such message was sent in this run."""
        if key not in self.messages:
            return False
        sender, to, message, frozen = self.messages[key]
        if key in self.pending:
            self.pending.remove(key)
        self.events.append(f"{sender} -> {to}: {key[2]}")
        self._call(f"node {to}: on_message({sender}, {key[2]})",
                   lambda: self.nodes[to].on_message(sender, message if frozen else copy.deepcopy(message)))
        self._observe()
        return True

    def do(self, action):
        if action[0] == "propose":
            self.propose(action[1])
            return True
        return self.deliver(action[1])

    def _observe(self):
        """After every step: decisions are final, agree, and were proposed."""
        for i, node in self.nodes.items():
            try:
                value = node.decided
            except Exception:
                value = self._call(f"node {i}: decided", lambda: node.decided)
            if i in self.decisions:
                first = self.decisions[i]
                if value is None or value != first:
                    raise Stop("changed", f"node {i} decided {first!r}, and later its decided was {value!r}; "
                                          "a decision is final")
                continue
            if value is None:
                continue
            self.decisions[i] = value
            self.events.append(f"    node {i} decides {value!r}")
            if value not in self.proposed:
                raise Stop("invalid", f"node {i} decided {value!r}, which no node proposed "
                                      f"(proposed: {', '.join(map(repr, dict.fromkeys(self.proposed)))})")
            for j, other in self.decisions.items():
                if other != value:
                    raise Stop("disagree", f"node {j} decided {other!r} and node {i} decided {value!r}; "
                                           "every node must decide the same value")

    def undecided(self, among=None):
        return [i for i in (among or self.ids) if i not in self.decisions]

    # Scripted network steps, for the checks that play a race step by step.

    def hop(self, *links):
        """Deliver the messages in flight now on these links (sender, to), oldest first; what they cause waits."""
        links = set(links)
        for key in [k for k in self.pending if (k[0], k[1]) in links]:
            self.deliver(key)

    def settle(self, group=None, copies=1, lose_others=False, limit=3000):
        """Deliver every message among group, oldest first, `copies` times each, until none is left.

        Messages to or from a node outside group wait for later, or are lost with lose_others.
        """
        group = set(self.ids if group is None else group)
        times = collections.Counter()
        delivered = 0
        waiting = []
        while self.pending:
            key = self.pending.pop(0)
            if key[0] not in group or key[1] not in group:
                if not lose_others:
                    waiting.append(key)
                continue
            self.pending.insert(0, key)
            self.deliver(key)
            times[key] += 1
            if times[key] < copies:
                self.pending.append(key)
            delivered += 1
            if delivered > limit:
                raise Stop("chatter", f"the nodes kept sending: {limit} messages delivered and more in flight, "
                                      "with no new propose() call; each message should need at most one answer")
        self.pending[:0] = waiting

    def lose_all(self):
        self.note("every message in flight is lost")
        self.pending.clear()


# Reports.

MAX_EVENTS = 40


def story(cluster, setup):
    """The setup and the numbered events of a run, long middles cut."""
    lines = [setup, "What happened (a message not shown was lost or never delivered; one shown twice was duplicated):"]
    numbered, n = [], 0
    for event in cluster.events:
        if event.startswith("    "):
            numbered.append(f"       {event.strip()}")
        else:
            n += 1
            numbered.append(f"  {n:3}. {event}")
    if len(numbered) > MAX_EVENTS:
        numbered = numbered[:28] + [f"       ... {len(numbered) - 38} lines not shown ..."] + numbered[-10:]
    return lines + numbered


def nodes(ids):
    """`node 3` or `nodes 0, 2`."""
    return f"node {ids[0]}" if len(ids) == 1 else f"nodes {', '.join(map(str, ids))}"


def setup_line(ids, values):
    who = ", ".join(f"node {n} proposes {v!r}" for n, v in values.items())
    return f"{len(ids)} nodes: {', '.join(map(str, ids))}; {who}."


def scripted(impl, ids, values, body):
    """Run body(cluster) on a new cluster; a broken guarantee fails the check with the whole story."""
    __tracebackhide__ = True
    cluster = None
    try:
        cluster = Cluster(impl, ids, values)
        body(cluster)
    except Stop as stop:
        if cluster is None:
            raise AssertionError(stop.message) from None
        raise AssertionError("\n".join([stop.message, *story(cluster, setup_line(ids, values))])) from None
    except AssertionError as exc:
        raise AssertionError("\n".join([str(exc), *story(cluster, setup_line(ids, values))])) from None


def retry_until_decided(cluster, node, group, times=3):
    """node proposes, and its group settles, until node decides (at most `times` proposals)."""
    for _ in range(times):
        if node in cluster.decisions:
            return
        cluster.propose(node)
        cluster.settle(group)


# A reliable network, or a clean cut: every message between the nodes that are up arrives, in order.


@pytest.mark.points(2)
@pytest.mark.hint("the proposer needs Promises, then Accepteds, from a majority; once it has them, every node must learn the value (send Decided)")
def test_one_proposer_decides(impl):
    """With one proposer and a network that delivers every message once, in order, every node decides the proposed value."""
    for ids in ([0, 1, 2], [1, 2, 3, 4, 5]):
        def body(cluster, ids=ids):
            for i in ids:
                assert cluster.nodes[i].decided is None, (
                    f"a new node {i} has decided == {cluster.nodes[i].decided!r}; expected None"
                )
            cluster.propose(ids[0])
            cluster.settle()
            assert not cluster.undecided(), (
                f"node {ids[0]} proposed 'x' and every message arrived, but {nodes(cluster.undecided())} "
                "did not decide; expected every node to decide 'x'"
            )
        scripted(impl, ids, {ids[0]: "x"}, body)


@pytest.mark.points(2)
@pytest.mark.hint("a majority is enough: wait for len(peers) // 2 + 1 answers, not for every node")
def test_decides_with_a_minority_down(impl):
    """With a minority of the nodes down (every message to or from them lost), a proposer still decides, and so do the nodes that are up."""
    for ids, down in (([0, 1, 2], [2]), ([0, 1, 2, 3, 4], [3, 4])):
        up = [i for i in ids if i not in down]

        def body(cluster, ids=ids, up=up, down=down):
            cluster.note(f"{nodes(down)} {'is' if len(down) == 1 else 'are'} down: every message to or from "
                         f"{'it' if len(down) == 1 else 'them'} is lost")
            cluster.propose(0)
            cluster.settle(up, lose_others=True)
            assert not cluster.undecided(up), (
                f"with {nodes(down)} of {len(ids)} down, node 0 proposed 'x'; every message between the others "
                f"arrived, but {nodes(cluster.undecided(up))} did not decide; "
                f"expected {nodes(up)} (a majority) to decide 'x'"
            )
        scripted(impl, ids, {0: "x"}, body)


@pytest.mark.points(2)
@pytest.mark.hint("a quorum is a strict majority of all nodes (len(peers) // 2 + 1), counting distinct senders: a duplicated reply counts once")
def test_minority_never_decides(impl):
    """A proposer cut off with a minority never decides, even when the network duplicates every message."""
    ids, minority, majority = [0, 1, 2, 3, 4], [0, 1], [2, 3, 4]

    def body(cluster):
        cluster.note("the network is cut in two, 0 1 | 2 3 4, and delivers every message twice")
        for _ in range(2):
            cluster.propose(0)
            cluster.settle(minority, copies=2, lose_others=True)
        assert not cluster.decisions, (
            f"nodes 0 and 1, cut off from 2, 3 and 4, are not a majority of 5, yet node "
            f"{next(iter(cluster.decisions))} decided {next(iter(cluster.decisions.values()))!r}"
        )
        cluster.propose(4)
        cluster.settle(majority, copies=2, lose_others=True)
    scripted(impl, ids, {0: "a", 4: "b"}, body)


# Classic races, played step by step: safety only; no check here asks anyone to decide.


@pytest.mark.points(2)
@pytest.mark.hint("a value that a majority accepted may be chosen: a proposer must propose the value accepted in the highest ballot among its promises")
def test_chosen_value_survives(impl):
    """After a majority has accepted a value, a later proposer reaching another majority decides that same value, not its own."""
    for a, x, b in ((0, 1, 2), (2, 1, 0)):
        def body(cluster, a=a, x=x, b=b):
            cluster.note(f"only {a} and {x} hear each other")
            cluster.propose(a)
            cluster.settle({a, x})
            cluster.lose_all()
            cluster.note(f"now only {x} and {b} hear each other")
            retry_until_decided(cluster, b, {x, b})
        scripted(impl, [0, 1, 2], {a: "a", b: "b"}, body)


@pytest.mark.points(2)
@pytest.mark.hint("ballots must be unique across nodes (e.g. (round, node_id)), and an acceptor must refuse an Accept below the ballot it promised")
def test_two_proposers_race(impl):
    """When two proposers race through one shared acceptor, an Accept that arrives after a newer Prepare never lets both values be decided."""
    for a, x, b in ((0, 1, 2), (2, 1, 0)):
        def body(cluster, a=a, x=x, b=b):
            cluster.note(f"{a} and {b} both propose; {x} hears both, and {a} and {b} never hear each other")
            cluster.propose(a)
            cluster.propose(b)
            cluster.hop((a, a), (a, x))   # a's Prepare reaches a and x
            cluster.hop((a, a), (x, a))   # their answers reach a
            cluster.hop((b, b), (b, x))   # b's Prepare reaches b and x
            cluster.hop((b, b), (x, b))   # their answers reach b
            cluster.hop((a, a), (a, x))   # a's next messages (its Accept) reach a and x
            cluster.hop((a, a), (x, a))
            cluster.hop((b, b), (b, x))   # b's next messages (its Accept) reach b and x
            cluster.hop((b, b), (x, b))
            cluster.settle({a, x})
            cluster.settle({b, x})
        scripted(impl, [0, 1, 2], {a: "a", b: "b"}, body)


@pytest.mark.points(2)
@pytest.mark.hint("accepted is not chosen: a node decides only once a majority accepted the same ballot (or it is told so)")
def test_accepted_is_not_chosen(impl):
    """A value that only a minority accepted before its proposer fell silent is never decided when another value is chosen."""
    for a, x, b in ((0, 1, 2), (2, 1, 0)):
        def body(cluster, a=a, x=x, b=b):
            cluster.propose(a)
            cluster.hop((a, a), (a, x))   # a's Prepare reaches a and x
            cluster.hop((a, a), (x, a))   # their answers reach a
            cluster.hop((a, x))           # a's next message (its Accept) reaches x only
            cluster.lose_all()
            cluster.note(f"{x} is cut off; {a} and {b} hear each other")
            retry_until_decided(cluster, b, {a, b})
        scripted(impl, [0, 1, 2], {a: "a", b: "b"}, body)


# Runs drawn from seeds: a network that loses, duplicates, delays, reorders and partitions.


class Plan:
    """What the network and the proposers do in one run, drawn from rng.

    Runs mix two kinds of faults. In views, for a while only the nodes of one group hear each other
    (often a bare majority), and messages to or from the others wait or are lost; then another
    group. In hops, a random set of links each deliver what they carry, all at once. Between them,
    single messages are delivered in random order, the newest often first.
    """

    def __init__(self, rng, proposes=(1, 3), steps=400):
        n = rng.choice([3, 3, 5])
        self.ids = list(range(n))
        proposers = rng.sample(self.ids, rng.choice([2, 2, 3]))
        self.values = {p: "abc"[i] for i, p in enumerate(proposers)}
        self.budget = {p: rng.randint(*proposes) for p in proposers}
        self.start = [p for p in proposers if rng.random() < 0.8]   # the others start later
        self.propose_rate = rng.choice([0.1, 0.3])
        self.newest_first = rng.choice([0.0, 0.3, 0.7])
        self.steps = steps
        self.views = rng.random() < 0.6
        self.view_sizes = rng.choice([[n // 2 + 1], list(range(1, n + 1))])
        self.view_steps = (3, rng.choice([8, 20, 40]))
        self.hops = rng.random() < 0.6
        self.link_open = rng.choice([0.3, 0.6])
        self.loss = rng.choice([0.0, 0.0, 0.1, 0.3])
        self.dup = rng.choice([0.0, 0.15, 0.4])
        self.cross_loss = rng.choice([0.0, 0.5, 1.0])   # a message outside the view: lost, or it waits


def drive(cluster, rng, plan, script):
    """Run plan on cluster, appending each action taken to script; raises Stop when a guarantee breaks."""
    budget = dict(plan.budget)
    lost, judged = set(), 0

    def act(action):
        script.append(action)
        cluster.do(action)
        if action[0] == "deliver" and rng.random() < plan.dup:
            cluster.pending.append(action[1])   # another copy, to arrive later

    for node in plan.start:
        if budget[node] > 0:
            budget[node] -= 1
            act(("propose", node))
    view, view_left, idle_views = set(plan.ids), 0, 0
    for _ in range(plan.steps):
        if plan.views and view_left <= 0:
            view = set(rng.sample(plan.ids, rng.choice(plan.view_sizes)))
            view_left = rng.randint(*plan.view_steps)
        view_left -= 1
        for key in cluster.sent[judged:]:   # the network's fate for each new message
            outside = key[0] not in view or key[1] not in view
            if rng.random() < plan.loss or (outside and rng.random() < plan.cross_loss):
                lost.add(key)
        judged = len(cluster.sent)
        live = [k for k in cluster.pending if k not in lost]
        ready = [k for k in live if k[0] in view and k[1] in view]
        proposers = [p for p, left in budget.items() if left > 0]
        if proposers and (not ready or rng.random() < plan.propose_rate):
            node = rng.choice(proposers)
            budget[node] -= 1
            act(("propose", node))
        elif ready and plan.hops:
            links = {(a, b) for a in plan.ids for b in plan.ids if rng.random() < plan.link_open}
            batch = [k for k in ready if (k[0], k[1]) in links] or [rng.choice(ready)]
            rng.shuffle(batch)
            for key in batch:
                act(("deliver", key))
        elif ready:
            idle_views = 0
            act(("deliver", ready[-1] if rng.random() < plan.newest_first else rng.choice(ready)))
        elif live and idle_views < 20:
            view_left, idle_views = 0, idle_views + 1   # nothing to do in this view: the next one
        else:
            return


def shrink(script, kind, fails, budget=300):
    """Drop actions from script (dropping a delivery = losing that message) while it fails the same way."""
    size = max(len(script) // 2, 1)
    while size >= 1 and budget > 0:
        i = 0
        while i < len(script) and budget > 0:
            trial = script[:i] + script[i + size:]
            budget -= 1
            stop = fails(trial)
            if stop is not None and stop.kind == kind:
                script = trial
            else:
                i += size
        size //= 2
    return script


def replay(impl, plan, script, finish=None):
    """Run script on a fresh cluster, then finish(cluster) if given: (cluster, Stop or None)."""
    cluster = Cluster(impl, plan.ids, plan.values)
    try:
        for action in script:
            cluster.do(action)
        if finish is not None:
            finish(cluster)
    except Stop as stop:
        return cluster, stop
    return cluster, None


def explore_network(impl, check, runs, make_plan, make_finish=None):
    """Try `runs` seeded runs; on the first failure, shrink it and raise a report with its seed."""
    __tracebackhide__ = True
    for seed in seeds(runs):
        rng = random.Random(f"{check}/{seed}")
        plan = make_plan(rng)
        finish = make_finish(rng, plan) if make_finish else None
        script, cluster = [], None
        try:
            cluster = Cluster(impl, plan.ids, plan.values)
            drive(cluster, rng, plan, script)
            if finish is not None:
                finish(cluster)
            continue
        except Stop as stop:
            if cluster is None:
                raise AssertionError(stop.message) from None
            failure = stop
        if failure.kind != "error":
            script = shrink(script, failure.kind, lambda trial: replay(impl, plan, trial, finish)[1])
            cluster, failure = replay(impl, plan, script, finish)
        setup = setup_line(plan.ids, plan.values) + " propose() is called again to retry."
        lines = [failure.message, *story(cluster, setup)]
        lines.append(f"Network seed {seed}; the run is cut down to the fewest steps that still fail this way.")
        raise ScheduleFailure("\n".join(lines), seed=seed, kind=failure.kind)


@pytest.mark.points(3)
@pytest.mark.hint("count each node once per ballot, ignore answers for an older ballot, never accept below a promise, and adopt the value accepted in the highest ballot")
def test_safe_under_any_faults(impl):
    """Whatever the network loses, duplicates, delays, reorders or cuts off, nodes never decide differently, never change a decision, and decide only a proposed value."""
    explore_network(impl, "safe_under_any_faults", 400, lambda rng: Plan(rng))


RETRIES = 3


def heal(stayer):
    """The network heals; only stayer proposes, again whenever the network goes quiet undecided, RETRIES times."""
    def finish(cluster):
        cluster.pending.clear()
        cluster.note(f"the network heals: what was in flight is lost, and every later message arrives, in order; "
                     f"only node {stayer} proposes from now on")
        for _ in range(RETRIES):
            if not cluster.undecided():
                return
            cluster.propose(stayer)
            cluster.settle()
        if cluster.undecided():
            told = (f" Node {stayer} itself had decided {cluster.decisions[stayer]!r}: its propose() should tell "
                    "the others." if stayer in cluster.decisions else "")
            raise Stop("stuck", f"after the network healed, propose({cluster.values[stayer]!r}) was called on node "
                                f"{stayer} {RETRIES} times, each time once every message had arrived, and no other "
                                f"node proposed; {nodes(cluster.undecided())} still had not decided.{told}")
    return finish


def liveness_plan(rng):
    plan = Plan(rng, proposes=(6, 6), steps=rng.randint(20, 120))
    plan.stayer = rng.choice(sorted(plan.budget))
    plan.budget[plan.stayer] = rng.randint(0, 1)   # the others have proposed more, with higher ballots
    return plan


@pytest.mark.points(3)
@pytest.mark.hint("a refused proposer must learn the ballot that beat it (Nack) and go higher next time; a node that has decided must tell the others again")
def test_decides_once_the_network_heals(impl):
    """Once the network heals and one proposer keeps retrying alone, every node decides (within 3 propose() calls)."""
    explore_network(impl, "decides_once_the_network_heals", 80, liveness_plan, lambda rng, plan: heal(plan.stayer))
