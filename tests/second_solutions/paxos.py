"""A second correct Paxos, written differently from the reference: integer ballots (round * n + rank),
acceptors broadcast Accepted to every node and each node counts a majority itself (no Decided
message), a node handles its own messages directly instead of through the network, and a proposer
retries by itself as soon as a Nack shows that its ballot lost. It must get full marks, so the checks
cannot demand one design."""
from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Prepare:
    ballot: int


@dataclass(frozen=True)
class Promise:
    ballot: int
    accepted_ballot: int
    accepted_value: object


@dataclass(frozen=True)
class Accept:
    ballot: int
    value: object


@dataclass(frozen=True)
class Accepted:
    ballot: int
    value: object


@dataclass(frozen=True)
class Nack:
    ballot: int
    promised: int


class PaxosNode:
    def __init__(self, node_id, peers, send):
        self.me = node_id
        self.everyone = sorted(peers)
        self.net_send = send
        self.majority = len(self.everyone) // 2 + 1
        self.rank = self.everyone.index(node_id)   # ballots round * n + rank are distinct across nodes
        self.promised = -1                         # acceptor: no ballot is below -1
        self.accepted = (-1, None)                 # acceptor: (ballot, value) last accepted
        self.highest_seen = -1
        self.ballot = -1                           # proposer: current ballot, -1 when idle
        self.want = None
        self.promises = {}                         # sender -> (accepted_ballot, value)
        self.phase2 = False
        self.votes = defaultdict(set)              # learner: ballot -> senders of Accepted
        self.chosen = None

    @property
    def decided(self):
        return self.chosen

    def send(self, to, message):
        if to == self.me:
            self.on_message(self.me, message)   # no need for the network to reach oneself
        else:
            self.net_send(to, message)

    def broadcast(self, message):
        for node in self.everyone:
            self.send(node, message)

    def propose(self, value):
        self.want = value
        n = len(self.everyone)
        round_ = self.highest_seen // n + 1
        self.ballot = round_ * n + self.rank
        self.highest_seen = self.ballot
        self.promises, self.phase2 = {}, False
        self.broadcast(Prepare(self.ballot))

    def on_message(self, sender, message):
        kind = type(message).__name__
        if hasattr(message, "ballot"):
            self.highest_seen = max(self.highest_seen, message.ballot)
        handlers = {"Prepare": self.got_Prepare, "Accept": self.got_Accept, "Promise": self.got_Promise,
                    "Accepted": self.got_Accepted, "Nack": self.got_Nack}
        handlers[kind](sender, message)

    def got_Prepare(self, sender, m):
        if m.ballot < self.promised:
            return self.send(sender, Nack(m.ballot, self.promised))
        self.promised = m.ballot
        self.send(sender, Promise(m.ballot, *self.accepted))

    def got_Accept(self, sender, m):
        if m.ballot < self.promised:
            return self.send(sender, Nack(m.ballot, self.promised))
        self.promised = m.ballot
        self.accepted = (m.ballot, m.value)
        self.broadcast(Accepted(m.ballot, m.value))   # every node learns for itself

    def got_Promise(self, sender, m):
        if m.ballot != self.ballot or self.phase2:
            return
        self.promises[sender] = (m.accepted_ballot, m.accepted_value)
        if len(self.promises) >= self.majority:
            self.phase2 = True
            best_ballot, best_value = max(self.promises.values(), key=lambda p: p[0])
            self.broadcast(Accept(self.ballot, best_value if best_ballot >= 0 else self.want))

    def got_Accepted(self, sender, m):
        self.votes[m.ballot].add(sender)
        if len(self.votes[m.ballot]) >= self.majority and self.chosen is None:
            self.chosen = m.value

    def got_Nack(self, sender, m):
        self.highest_seen = max(self.highest_seen, m.promised)
        if m.ballot == self.ballot and self.chosen is None:
            self.propose(self.want)   # our ballot lost: go again, higher
