"""The traffic simulation: event loop, network, actors, delivery and results.

Pure: a scenario and a seed in, a :class:`Result` out. No printing, sleeping
or threads; every decision about a connection is made by the servers'
sessions and restrictions.
"""

from simlab.engine.actors import (
    Actor,
    Admin,
    Flooder,
    LocalUser,
    Pop3Guesser,
    RelayScanner,
    RemoteMta,
    RotatingSpammer,
    SpoofingSpammer,
)
from simlab.engine.conversation import Conversation, Hold, Outcome
from simlab.engine.loop import EventLoop
from simlab.engine.network import Host, Network, NetworkDns, Reach
from simlab.engine.result import Result
from simlab.engine.traffic import TrafficMix
from simlab.engine.world import SUMMARY_KEYS, World

__all__ = [
    "SUMMARY_KEYS", "Actor", "Admin", "Conversation", "EventLoop", "Flooder", "Hold", "Host", "LocalUser", "Network",
    "NetworkDns", "Outcome", "Pop3Guesser", "Reach", "RelayScanner", "RemoteMta", "Result", "RotatingSpammer",
    "SpoofingSpammer", "TrafficMix", "World",
]
