"""propose() starts each round from scratch, forgetting the decision along with the round's state.

A node that had decided, and is asked to propose again (a retry), reports decided == None until a
round completes again: its decision did not stay final.

Caught by: safe_under_any_faults, decides_once_the_network_heals
"""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Prepare:
    """Phase 1a, proposer to acceptors: promise to take part in no ballot lower than this one."""
    ballot: object


@dataclass(frozen=True)
class Promise:
    """Phase 1b, acceptor to proposer: promised; and the last ballot and value I accepted (None, None if none)."""
    ballot: object
    accepted_ballot: object
    accepted_value: object


@dataclass(frozen=True)
class Accept:
    """Phase 2a, proposer to acceptors: accept value in this ballot."""
    ballot: object
    value: object


@dataclass(frozen=True)
class Accepted:
    """Phase 2b, acceptor to proposer (or to every node): I accepted value in this ballot."""
    ballot: object
    value: object


@dataclass(frozen=True)
class Nack:
    """Acceptor to proposer: I refuse your Prepare or Accept for ballot, having promised the higher ballot promised."""
    ballot: object
    promised: object


@dataclass(frozen=True)
class Decided:
    """To every node: value is chosen."""
    value: object


class PaxosNode:
    """One node of the cluster: proposer, acceptor and learner at once.

    No locks: the network calls on_message() for one message at a time, and nothing else runs then.
    """

    def __init__(self, node_id: int, peers: list[int], send: Callable[[int, object], None]):
        """Create the node node_id of a cluster whose nodes are peers (node_id included)."""
        self._id = node_id
        self._peers = list(peers)
        self._send = send
        self._quorum = len(self._peers) // 2 + 1   # a strict majority: any two quorums share a node
        # Acceptor: the highest ballot promised, and the last (ballot, value) accepted. A ballot is
        # (round, node_id): two nodes never use the same one, and any two compare.
        self._promised = None
        self._accepted_ballot = None
        self._accepted_value = None
        # Proposer: the highest round seen anywhere, this node's current ballot and value, and the
        # distinct nodes that answered it (sets and dicts by sender: a duplicate reply counts once).
        self._round = 0
        self._ballot = None
        self._value = None
        self._promises = {}         # sender -> (accepted_ballot, accepted_value) for self._ballot
        self._proposal = None       # the value sent in Accept for self._ballot, once phase 2 began
        self._accepted_by = set()   # senders of Accepted for self._ballot
        # Learner.
        self._decided = None

    def propose(self, value) -> None:
        """Try to get value chosen: start a new round with a ballot higher than any this node has seen."""
        self._value = value
        self._round += 1
        self._ballot = (self._round, self._id)
        self._promises, self._proposal, self._accepted_by = {}, None, set()
        self._decided = None  # BUG: a new round forgets what this node had learned
        self._broadcast(Prepare(self._ballot))

    def on_message(self, sender: int, message) -> None:
        """Handle one message that node sender sent to this node."""
        if isinstance(message, Prepare):
            self._on_prepare(sender, message)
        elif isinstance(message, Accept):
            self._on_accept(sender, message)
        elif isinstance(message, Promise):
            self._on_promise(sender, message)
        elif isinstance(message, Accepted):
            self._on_accepted(sender, message)
        elif isinstance(message, Nack):
            self._see(message.promised)     # the next propose() goes higher
        elif isinstance(message, Decided):
            if self._decided is None:
                self._decided = message.value

    @property
    def decided(self) -> object | None:
        """The value this node has learned is chosen, or None while it does not know one."""
        return self._decided

    # Acceptor.

    def _on_prepare(self, sender, message):
        self._see(message.ballot)
        if self._promised is None or message.ballot >= self._promised:   # >=: a duplicate Prepare gets the same answer
            self._promised = message.ballot
            self._send(sender, Promise(message.ballot, self._accepted_ballot, self._accepted_value))
        else:
            self._send(sender, Nack(message.ballot, self._promised))

    def _on_accept(self, sender, message):
        self._see(message.ballot)
        if self._promised is None or message.ballot >= self._promised:   # never below a promise
            self._promised = message.ballot
            self._accepted_ballot, self._accepted_value = message.ballot, message.value
            self._send(sender, Accepted(message.ballot, message.value))
        else:
            self._send(sender, Nack(message.ballot, self._promised))

    # Proposer.

    def _on_promise(self, sender, message):
        if message.ballot != self._ballot or self._proposal is not None:
            return   # an old round's promise, or phase 2 has begun
        self._promises[sender] = (message.accepted_ballot, message.accepted_value)
        if len(self._promises) < self._quorum:
            return
        accepted = [(b, v) for b, v in self._promises.values() if b is not None]
        # A value some acceptor in the quorum accepted may already be chosen: propose the one
        # accepted in the highest ballot. Only if none was accepted is this node free to choose.
        self._proposal = max(accepted, key=lambda bv: bv[0])[1] if accepted else self._value
        self._broadcast(Accept(self._ballot, self._proposal))

    def _on_accepted(self, sender, message):
        if message.ballot != self._ballot:
            return
        self._accepted_by.add(sender)
        if len(self._accepted_by) >= self._quorum and self._decided is None:
            self._decided = message.value
            self._broadcast(Decided(message.value))

    def _see(self, ballot):
        self._round = max(self._round, ballot[0])

    def _broadcast(self, message):
        for peer in self._peers:
            self._send(peer, message)
