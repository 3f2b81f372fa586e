"""The running world: event loop, network, DNS, servers and the tallies a lesson reads.

:class:`World` wires the pieces together and keeps score. It listens to every
simulated server's accepted messages (so it knows what was relayed and for
whom), follows legitimate mail to its final mailbox, and records each
command and reply as an event row. It makes no protocol or policy decision:
those stay in the servers' sessions and restrictions.

Every message an actor writes carries a ``Message-ID``; the world remembers
the sender's *intent* by it (``legit``, ``spam``, ``probe``, ``bounce``), as
a researcher with the whole network's traffic in view would.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simlab.engine.delivery import QueueManager
from simlab.engine.loop import EventLoop
from simlab.engine.network import Host, Network, NetworkDns
from simlab.products.base import RFC5321_QUEUE, QueueSchedule, ServerOrigin
from simlab.protocol.message import Message
from simlab.protocol.policy import Recipient, SmtpContext

if TYPE_CHECKING:
    from simlab.engine.conversation import Conversation

__all__ = ["World", "SUMMARY_KEYS", "EVENT_COLUMNS", "TranscriptRecord"]

#: The keys of :attr:`Result.summary`, always present.
SUMMARY_KEYS = (
    "legit_delivered", "legit_refused", "spam_relayed", "spam_refused", "spam_delivered_local",
    "bounces_to_postmaster", "login_failures", "logins_ok", "accounts_compromised", "legit_logins_refused",
    "bans", "connections_dropped", "connections_refused", "sessions", "log_lines",
)
EVENT_COLUMNS = ("time", "host", "client_ip", "actor", "command", "reply_code", "outcome")


@dataclass(frozen=True)
class TranscriptRecord:
    """One session's dialogue, as the server recorded it."""

    start: float
    actor: str
    client_ip: str
    host: str
    service: str
    lines: tuple[str, ...]


class World:
    """Everything a run needs, and its score.

    Args:
        seed: the run's seed. network, dns: the simulated network and DNS.
        site: the name of the host whose server the lesson is about.
        keep_events, keep_transcripts: record per-command rows and dialogues (off: counts only).
        keep_mail: keep accepted messages in mailboxes and relay them onward; off (counts only),
            each accepted message is counted and handed off at once, so memory stays flat.
        connect_timeout: seconds a client waits for a connection that never answers.
        site_queue: the site server's queue schedule when a scenario changes it (a shortened lifetime);
            None: its product's (:attr:`simlab.products.base.Product.queue`). Every other server keeps its
            product's schedule.
    """

    def __init__(self, seed: int, network: Network, dns: NetworkDns, site: str, keep_events: bool = True,
                 keep_transcripts: bool = True, connect_timeout: float = 30.0,
                 site_queue: QueueSchedule | None = None, keep_mail: bool = True) -> None:
        self.loop = EventLoop(seed)
        self.seed = seed
        self.network = network
        self.dns = dns
        self.site = site
        self.keep_events = keep_events
        self.keep_transcripts = keep_transcripts
        self.connect_timeout = connect_timeout
        #: Seconds a DNS lookup waits before the resolver gives up.
        self.dns_timeout = 30.0
        self.counts: Counter[str] = Counter({key: 0 for key in SUMMARY_KEYS})
        self.events: list[tuple] = []
        self.transcripts: list[TranscriptRecord] = []
        self.compromised: set[str] = set()
        self.intents: dict[str, str] = {}
        self._settled: set[str] = set()
        self.queue_managers: dict[str, QueueManager] = {}
        self._session_start: dict[int, float] = {}
        self.timeline: list[tuple[float, str]] = []  # (time, what) for plots: "spam relayed", "legit lost", ...
        self._site_queue = site_queue
        self.keep_mail = keep_mail
        #: ``(time, actor, message id)`` of every message an actor wrote (not kept in counts-only runs).
        self.written: list[tuple[float, str, str]] = []
        self._streams: dict[str, random.Random] = {}
        self._serials: Counter[str] = Counter()

    def stream(self, name: str) -> random.Random:
        """The random stream of ``name`` (an actor, a queue manager): seeded by the run's seed and the name.

        Each actor drawing from its own stream is what makes comparisons fair (common random numbers):
        a change of defence, product or attacker leaves the ordinary actors' choices - when they send,
        to whom, when they check their mail - exactly as they were.
        """
        rng = self._streams.get(name)
        if rng is None:
            digest = hashlib.sha256(f"{self.seed}\x00{name}".encode()).digest()
            rng = self._streams[name] = random.Random(int.from_bytes(digest[:8], "big"))
        return rng

    def next_serial(self, name: str) -> int:
        """``name``'s next message number (1, 2, ...), so message ids do not depend on other actors."""
        self._serials[name] += 1
        return self._serials[name]

    # --- wiring ----------------------------------------------------------------------
    def attach(self, host: Host, transport: dict[str, str] | None = None) -> None:
        """Give a server host its clock, a queue manager and the world's ear."""
        server = host.server
        server.clock = self.loop.clock
        if not self.keep_events:
            server.keep_log = False
        self.queue_managers[host.name] = QueueManager(self, host, self.queue_schedule(host), transport)
        server.accept_listeners.append(lambda ctx, message, rcpts: self._accepted(host, ctx, message, rcpts))

    def queue_schedule(self, host: Host) -> QueueSchedule:
        """The queue schedule of ``host``'s server: the scenario's for the site, if it set one, else its product's."""
        if host.name == self.site and self._site_queue is not None:
            return self._site_queue
        origin = getattr(host.server, "origin", None)
        if isinstance(origin, ServerOrigin):
            from simlab import products

            return products.get(origin.product).queue
        return RFC5321_QUEUE

    @property
    def site_host(self) -> Host:
        return self.network.host(self.site)

    # --- recording ---------------------------------------------------------------------
    def record(self, host: str, client_ip: str, actor: str, command: str, code, outcome: str) -> None:
        if self.keep_events:  # ``loop.clock.now`` is ``loop.now`` without the property's call (once per event)
            self.events.append((self.loop.clock.now, host, client_ip, actor, command, code, outcome))
        if command == "CONNECT" and host == self.site:
            if outcome in ("filtered", "down", "refused", "dropped"):
                self.mark("connections_dropped")
            elif isinstance(code, int) and code >= 400:
                self.mark("connections_refused")  # the server answered, but with a refusal (421, 554)

    def sessions_opened(self, conversation: Conversation) -> None:
        if conversation.host.name == self.site:
            self.counts["sessions"] += 1
        self._session_start[id(conversation)] = self.loop.now

    def sessions_closed(self, conversation: Conversation) -> None:
        start = self._session_start.pop(id(conversation), self.loop.now)
        if self.keep_transcripts and conversation.session is not None:
            self.transcripts.append(TranscriptRecord(start, conversation.actor, conversation.client_ip,
                                                     conversation.host.name, conversation.service,
                                                     tuple(conversation.session.transcript)))

    def mark(self, what: str, count: int = 1) -> None:
        """Count ``what`` in the summary and on the timeline."""
        self.counts[what] += count
        self.timeline.append((self.loop.clock.now, what))

    # --- messages and intents --------------------------------------------------------------
    def tag_message(self, message: Message | list[str], intent: str) -> None:
        lines = message.lines if isinstance(message, Message) else message
        message_id = _message_id(lines)
        if message_id:
            self.intents.setdefault(message_id, intent)

    def intent_of(self, message: Message) -> str:
        return self.intents.get(_message_id(message.lines) or "", "unknown")

    def _settle(self, message: Message, what: str) -> None:
        """Count a legitimate message once: delivered, or lost."""
        key = _message_id(message.lines) or message.queue_id
        if key in self._settled:
            return
        self._settled.add(key)
        self.mark(what)

    def _accepted(self, host: Host, ctx: SmtpContext, message: Message, recipients: list[Recipient]) -> None:
        intent = self.intent_of(message)
        local = any(r.account is not None for r in recipients)
        relayed = [r.path.text for r in recipients if r.account is None]
        if not self.keep_mail:
            self._hand_off(host, message, recipients)
        elif relayed:
            self.queue_managers[host.name].submit(self._queued(host, message))
        if host.name == self.site and intent in ("spam", "probe"):
            if relayed:
                self.mark("spam_relayed")
            elif local:
                self.mark("spam_delivered_local")
        if intent == "legit" and local and not relayed:
            self._settle(message, "legit_delivered")

    def _hand_off(self, host: Host, message: Message, recipients: list[Recipient]) -> None:
        """Counts-only runs: take the message out of the store at once (read, or passed on)."""
        store = host.server.store
        for rcpt in recipients:
            box = store.mailboxes.get(rcpt.account or "")
            if box and box[-1] is message:
                box.pop()
        if store.queue and store.queue[-1].queue_id == message.queue_id:
            store.queue.pop()
            self.counts["handed_off"] += 1

    def _queued(self, host: Host, message: Message) -> Message:
        for queued in reversed(host.server.queue):
            if queued.queue_id == message.queue_id:
                return queued
        return message

    def message_failed(self, message: Message, failures) -> None:
        if self.intent_of(message) == "legit":
            self._settle(message, "legit_refused")

    def bounce_to_postmaster(self, host: Host, report: Message) -> None:
        if host.name == self.site:
            self.mark("bounces_to_postmaster")

    def legit_refused(self, message_lines: list[str]) -> None:
        """A legitimate message its sender could not hand over at all."""
        key = _message_id(message_lines)
        if key and key not in self._settled:
            self._settled.add(key)
            self.mark("legit_refused")

    def summary(self) -> dict[str, int]:
        counts = dict(self.counts)
        counts["accounts_compromised"] = len(self.compromised)
        counts["log_lines"] = len(self.site_host.server.log)
        counts["legit_pending"] = max(0, counts.get("legit_sent", 0) - counts["legit_delivered"]
                                      - counts["legit_refused"])
        return {key: counts.get(key, 0) for key in SUMMARY_KEYS} | {
            key: value for key, value in counts.items() if key not in SUMMARY_KEYS}


def _message_id(lines: list[str]) -> str | None:
    for line in lines[:40]:
        # ``line[10] == ":"`` first: the same test as ``line[:11].lower() == "message-id:"`` (no character but
        # ":" lowers to ":", and none lowers to nothing), without lowering every header line of every message
        if len(line) > 10 and line[10] == ":" and line[:10].lower() == "message-id":
            return line[11:].strip()
        if not line:
            break
    return None
