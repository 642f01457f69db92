"""Single-decree Paxos over a network that loses, duplicates, delays and reorders messages. See README.md.

The message types below are yours to use (or to replace with your own: the network carries any
object and never looks inside). A ballot is any value that compares with < and ==, such as an int
or a tuple; see README.md, "Ballots".
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
    """One node of the cluster: proposer, acceptor and learner at once."""

    def __init__(self, node_id: int, peers: list[int], send: Callable[[int, object], None]):
        """Create the node node_id of a cluster whose nodes are peers (node_id included).

        send(to, message) hands message to the network for node `to` and returns at once; the
        network may lose it, deliver it late, out of order, or more than once.
        """
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def propose(self, value) -> None:
        """Try to get value chosen: start a new round with a ballot higher than any this node has seen.

        Called again (with the same value) to retry when a round seems lost. A node that has already
        decided tells the others the decision instead.
        """
        raise NotImplementedError("propose() is yours to write; see README.md")

    def on_message(self, sender: int, message) -> None:
        """Handle one message that node sender sent to this node."""
        raise NotImplementedError("on_message() is yours to write; see README.md")

    @property
    def decided(self) -> object | None:
        """The value this node has learned is chosen, or None while it does not know one."""
        raise NotImplementedError("decided is yours to write; see README.md")
