"""The people and machines that talk to the mail server during a run.

Each actor is a small class whose docstring says what real behaviour it
models. Actors are configuration until :meth:`Actor.start` is called with a
:class:`~simlab.engine.world.World`; a run works on its own copy, so a
scenario can be run again with another seed. Every random choice an actor
makes comes from its own stream, :meth:`World.stream` (seeded by the run's
seed and the actor's name), so a change to one actor or to a defence leaves
every other actor's choices as they were.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from simlab.clock import mail_date
from simlab.engine.conversation import Conversation, Hold, Outcome, send_script
from simlab.engine.network import Reach
from simlab.engine.world import World
from simlab.protocol.reply import Pop3Reply
from simlab.restrictions.guards import Fail2Ban
from simlab.restrictions.relay import ClientHosts

__all__ = ["Actor", "LocalUser", "RemoteMta", "RelayScanner", "SpoofingSpammer", "RotatingSpammer",
           "Pop3Guesser", "Flooder", "Admin", "compose"]

#: The survey's message, in our words: a scan of port 25 for open relays, one test per server.
SURVEY_TEXT = ("Open relay survey: this message was sent through your server by a program that",
               "scans port 25 for open relays. It sends one test per server and collects the results.")


def compose(world: World, actor: str, sender: str, recipients: Sequence[str], subject: str,
            body: Sequence[str], intent: str) -> list[str]:
    """A message as a mail program writes it (RFC 5322 header, blank line, body), tagged with its intent."""
    serial = world.next_serial(actor)
    domain = sender.rpartition("@")[2] or "localhost"
    when = world.loop.clock.datetime()
    lines = [f"From: <{sender}>", f"To: {', '.join(f'<{r}>' for r in recipients)}", f"Subject: {subject}",
             f"Date: {mail_date(when)}", f"Message-ID: <{serial}.{_slug(actor)}@{domain}>", "", *body]
    world.tag_message(lines, intent)
    if world.keep_events:
        world.written.append((world.loop.now, actor, lines[4][12:]))
    if intent == "legit":
        world.counts["legit_sent"] += 1
    return lines


@functools.lru_cache(maxsize=256)
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@dataclass
class Actor:
    """Something that opens connections during a run."""

    name: str
    host: str

    def start(self, world: World) -> None:  # pragma: no cover - every actor overrides it
        raise NotImplementedError

    def connect(self, world: World, server: str, service: str, script, on_end=None, ip: str | None = None,
                port: int | None = None) -> None:
        ip = ip or world.network.host(self.host).ip
        Conversation(world, self.host, ip, server, service, script, self.name, on_end, port).start()


def _exp(rng, mean: float) -> float:
    return rng.expovariate(1.0 / mean) if mean > 0 else 0.0


@dataclass
class LocalUser(Actor):
    """A member of staff: sends mail out and to colleagues, and checks POP3 on a schedule.

    Models a 1998 mail client: it sends through the site's server on port 25
    (with ``use_auth``: logged in with SMTP AUTH on ``port``, by default 587), checks the mailbox every
    ``check_every`` seconds with USER/PASS, downloads and deletes, and
    sometimes mistypes the password (``typo_rate``) and tries again.
    """

    account: str = "bob"
    password: str = "s3cret"
    domain: str = "example.com"
    server: str = "mail.example.com"
    send_every: float = 3600.0
    check_every: float = 900.0
    typo_rate: float = 0.05
    recipients: Sequence[str] = ("carol@remote.test",)
    use_auth: bool = False
    port: int | None = None

    def start(self, world: World) -> None:
        if self.send_every > 0:
            world.loop.after(_exp(world.stream(self.name), self.send_every), self._send, world)
        if self.check_every > 0:
            world.loop.after(world.stream(self.name).uniform(0, self.check_every), self._check, world)

    def _send(self, world: World) -> None:
        rcpt = world.stream(self.name).choice(list(self.recipients))
        sender = f"{self.account}@{self.domain}"
        lines = compose(world, self.name, sender, [rcpt], "Re: the order", ["See you Monday."], "legit")
        auth = (self.account, self.password) if self.use_auth else None
        port = self.port or (587 if self.use_auth else 25)  # RFC 6409 submission, or plain SMTP

        def done(outcome: Outcome) -> None:
            if not outcome.message_accepted:
                world.legit_refused(lines)

        self.connect(world, self.server, "smtp", send_script(f"{self.host}", sender, [rcpt], lines, auth), done,
                     port=port)
        world.loop.after(_exp(world.stream(self.name), self.send_every), self._send, world)

    def _check(self, world: World) -> None:
        typo = world.stream(self.name).random() < self.typo_rate
        account, password = self.account, self.password

        def script(greeting):
            if greeting is None or not greeting.ok:
                return
            yield f"USER {account}"
            if typo:
                reply = yield f"PASS {password}x"
                if reply.ok:  # pragma: no cover - a typo never matches
                    yield "QUIT"
                    return
                yield f"USER {account}"
            reply = yield f"PASS {password}"
            if not reply.ok:
                yield "QUIT"
                return
            stat = yield "STAT"
            count = int(stat.text.split()[0]) if stat.ok and stat.text else 0
            for number in range(1, min(count, 20) + 1):
                yield f"RETR {number}"
                yield f"DELE {number}"
            yield "QUIT"

        def done(outcome: Outcome) -> None:
            passes = [reply for line, reply in outcome.replies if line.startswith("PASS")]
            for _ in range(sum(1 for r in passes if not r.ok)):
                world.mark("login_failures")
            if passes and passes[-1].ok:
                world.counts["logins_ok"] += 1
            else:
                world.mark("legit_logins_refused")

        self.connect(world, self.server, "pop3", script, done)
        world.loop.after(self.check_every, self._check, world)


@dataclass
class RemoteMta(Actor):
    """Another site's mail server delivering mail to our users: the traffic that must not be lost.

    It finds our mail host the way every MTA does, by the MX record of our
    domain (RFC 5321 §5.1) - our own server, or the provider's when the MX
    points there - and retries a deferred message every ``retry_every``
    seconds, ``retries`` times, before giving up.
    """

    ip: str = "198.51.100.80"
    domain: str = "remote.test"
    to_domain: str = "example.com"
    recipients: Sequence[str] = ("bob",)
    senders: Sequence[str] = ("carol", "dave")
    send_every: float = 1800.0
    retries: int = 6
    retry_every: float = 600.0

    def start(self, world: World) -> None:
        world.loop.after(_exp(world.stream(self.name), self.send_every), self._next, world)

    def _next(self, world: World) -> None:
        sender = f"{world.stream(self.name).choice(list(self.senders))}@{self.domain}"
        rcpt = f"{world.stream(self.name).choice(list(self.recipients))}@{self.to_domain}"
        lines = compose(world, self.name, sender, [rcpt], "Quote for June", ["Prices attached."], "legit")
        self._try(world, sender, rcpt, lines, 0)
        world.loop.after(_exp(world.stream(self.name), self.send_every), self._next, world)

    def _try(self, world: World, sender: str, rcpt: str, lines: list[str], attempt: int) -> None:
        answer = world.dns.lookup_mx(self.to_domain, world.stream(self.name))
        target = answer.hosts[0] if answer.status == "ok" else None

        def done(outcome: Outcome) -> None:
            if outcome.message_accepted:
                return
            rcpt_reply = outcome.reply_to("RCPT")
            permanent = (outcome.connected and rcpt_reply is not None and rcpt_reply.code >= 500) or (
                outcome.greeting is not None and getattr(outcome.greeting, "code", 0) >= 500)
            if permanent or attempt >= self.retries:
                world.legit_refused(lines)
            else:
                world.loop.after(self.retry_every, self._try, world, sender, rcpt, lines, attempt + 1)

        if target is None or target not in world.network.hosts:
            done(Outcome(Reach.DOWN))
            return
        self.connect(world, target, "smtp", send_script(f"mta.{self.domain}", sender, [rcpt], lines), done,
                     ip=self.ip)


@dataclass
class RelayScanner(Actor):
    """An open-relay survey program: one test message per server, to a domain that will not accept it.

    Models the 1998 survey in the thread: it connects to port 25, claims a
    sender at its own domain and sends one message to ``rtest@`` there,
    explaining that it tests each server once for a survey.
    The destination is built not to answer, so a relay that accepted the
    test ends up returning it - to its own postmaster.
    """

    ip: str = "203.0.113.66"
    server: str = "mail.example.com"
    at: float = 0.0
    sender: str = "sender@survey.test"
    recipient: str = "rtest@survey.test"

    def start(self, world: World) -> None:
        world.loop.after(self.at, self._probe, world)

    def _probe(self, world: World) -> None:
        lines = compose(world, self.name, self.sender, [self.recipient], "Open relay test", list(SURVEY_TEXT),
                        "probe")

        def done(outcome: Outcome) -> None:
            if not outcome.message_accepted:
                world.mark("spam_refused")

        self.connect(world, self.server, "smtp", send_script("scanner.survey.test", self.sender, [self.recipient],
                                                             lines), done, ip=self.ip)


@dataclass
class SpoofingSpammer(Actor):
    """A spammer who writes the site's own postmaster as the sender (the thread's S4 trick).

    It sends ``messages`` spams, one every ``every`` seconds on average, each
    to ``recipients_per_message`` foreign victims, with ``MAIL
    FROM:<Postmaster@<local domain>>`` - which passes a relay rule that
    trusts the sender's domain.
    """

    ips: Sequence[str] = ("203.0.113.50",)
    server: str = "mail.example.com"
    local_domain: str = "example.com"
    victims: Sequence[str] = ("user_name@yourcompany.test",)
    messages: int = 20
    every: float = 1800.0
    recipients_per_message: int = 1
    sender_mode: str = "spoof-local"

    def start(self, world: World) -> None:
        self._sent = 0
        self._ip_index = 0
        world.loop.after(_exp(world.stream(self.name), self.every), self._spam, world)

    def pick_ip(self, world: World) -> str:
        return self.ips[0]

    def _sender(self, world: World) -> str:
        if self.sender_mode == "spoof-local":
            return f"Postmaster@{self.local_domain}"
        return f"deals{world.stream(self.name).randrange(1000)}@bulk.test"

    def _spam(self, world: World) -> None:
        if self._sent >= self.messages:
            return
        self._sent += 1
        count = max(1, min(self.recipients_per_message, len(self.victims)))
        victims = world.stream(self.name).sample(list(self.victims), count)
        sender = self._sender(world)
        lines = compose(world, self.name, sender, victims, "MAKE MONEY FAST", ["Act now!"], "spam")
        ip = self.pick_ip(world)

        def done(outcome: Outcome) -> None:
            if not outcome.message_accepted:
                world.mark("spam_refused")
            self.after_session(world, outcome)

        self.connect(world, self.server, "smtp", send_script(f"[{ip}]", sender, victims, lines), done, ip=ip)
        world.loop.after(_exp(world.stream(self.name), self.every), self._spam, world)

    def after_session(self, world: World, outcome: Outcome) -> None:
        return None


@dataclass
class RotatingSpammer(SpoofingSpammer):
    """A spammer who changes IP address at random, as the thread's moderator once watched one do.

    ``switch="session"`` takes a new address from the pool for every
    session; ``switch="refusal"`` keeps an address until it is refused or
    banned. A per-address block then costs the spammer one address, not the
    campaign.
    """

    ips: Sequence[str] = tuple(f"203.0.113.{n}" for n in range(100, 150))
    switch: str = "session"

    def pick_ip(self, world: World) -> str:
        if self.switch == "session":
            return world.stream(self.name).choice(list(self.ips))
        return self.ips[self._ip_index % len(self.ips)]

    def after_session(self, world: World, outcome: Outcome) -> None:
        if self.switch == "refusal" and not outcome.message_accepted:
            self._ip_index += 1


@dataclass
class Pop3Guesser(Actor):
    """A password guesser: for each account, first the account's own name, then a small dictionary.

    One guess per connection (USER, PASS; QUIT only after a hit, else it hangs up), one every ``pace``
    seconds, from one address or rotating through ``ips``. A guess that
    works logs in like the owner and leaves no error line (S1). It moves to
    the next account after a success, and waits ``pace * 10`` when its
    connection is dropped (a ban), then goes on from the next address.
    """

    ips: Sequence[str] = ("203.0.113.226",)
    server: str = "mail.example.com"
    accounts: Sequence[str] = ("webmaster", "info", "bob")
    dictionary: Sequence[str] = ("password", "123456", "letmein", "admin", "mail")
    pace: float = 60.0
    at: float = 0.0

    def start(self, world: World) -> None:
        self._plan = [(acct, pw) for acct in self.accounts for pw in (acct, *self.dictionary)]
        self._index = 0
        self._ip_index = 0
        self._skip: set[str] = set()
        world.loop.after(self.at, self._guess, world)

    def _guess(self, world: World) -> None:
        while self._index < len(self._plan) and self._plan[self._index][0] in self._skip:
            self._index += 1
        if self._index >= len(self._plan):
            return
        account, password = self._plan[self._index]
        ip = self.ips[self._ip_index % len(self.ips)]
        if len(self.ips) > 1:
            self._ip_index += 1

        def script(greeting):
            if greeting is None or not greeting.ok:
                return
            yield f"USER {account}"
            reply = yield f"PASS {password}"
            if reply.ok:
                yield "QUIT"  # a hit: log out as the owner would
            # a miss: hang up at once and try again from a new connection, as guessing tools do

        def done(outcome: Outcome) -> None:
            passed = outcome.reply_to("PASS")
            if isinstance(passed, Pop3Reply):
                self._index += 1
                if passed.ok:
                    world.compromised.add(account)
                    world.mark("guess_succeeded")
                    self._skip.add(account)
                else:
                    world.mark("login_failures")
                world.loop.after(self.pace + passed.delay, self._guess, world)
            else:
                world.mark("guesser_blocked")
                if len(self.ips) > 1:
                    self._ip_index += 1
                world.loop.after(self.pace * 10, self._guess, world)

        self.connect(world, self.server, "pop3", script, done, ip=ip)


@dataclass
class Flooder(Actor):
    """A denial-of-service attacker keeping ``connections`` silent SMTP connections open.

    From ``at`` until ``until`` it holds each connection open without a word
    (``hold`` seconds, or until the server's idle timeout closes it) and opens
    a new one the moment one ends, as a flood tool does; a refused connection
    is tried again after ``retry_after`` seconds, so that whenever a slot
    frees, one of its attempts is already on the way. While the server's process limit is full,
    legitimate clients are refused too. A per-client connection limit
    (Postfix ``smtpd_client_connection_count_limit``) caps what one address
    can hold - unless the flooder spreads over many addresses.
    """

    ips: Sequence[str] = ("203.0.113.99",)
    server: str = "mail.example.com"
    connections: int = 150
    hold: float = 600.0
    at: float = 3600.0
    until: float = 3 * 3600.0
    retry_after: float = 60.0

    def start(self, world: World) -> None:
        # made once per run, not once per attempt: a flood held at a full server tries tens of thousands of times
        self._silence = Hold(self.hold)
        self._done = {ip: functools.partial(self._ended, world, ip) for ip in self.ips}
        for n in range(self.connections):
            world.loop.after(self.at + n * 0.01, self._open, world, self.ips[n % len(self.ips)])

    def _script(self, greeting):
        if greeting is None or greeting.code != 220:
            return
        yield self._silence
        yield "QUIT"

    def _open(self, world: World, ip: str) -> None:
        if world.loop.now >= self.until:
            return
        self.connect(world, self.server, "smtp", self._script, self._done[ip], ip=ip)

    def _ended(self, world: World, ip: str, outcome: Outcome) -> None:
        world.loop.after(0.0 if outcome.connected else self.retry_after, self._open, world, ip)


@dataclass
class Admin(Actor):
    """The site's administrator, reading the server log every ``every`` seconds and reacting.

    ``mode`` is what the thread's admins tried or were told:

    * ``"block"`` - add each address seen abusing the server ``threshold``
      times to the router's deny list ("register each suspicious party by
      hand"): it works until the abuser changes address;
    * ``"please_stop"`` - write to the abuser's claimed domain: no effect,
      since spammers hide who they are;
    * ``"allowlist"`` - switch relaying to an allow-list of the site's own
      network (SIMS Client Hosts, Postfix mynetworks): whatever the pool
      size, outsiders can no longer relay.

    ``patterns`` are the log lines the admin reads as abuse, fail2ban-style
    with ``<HOST>`` where the address is; each product's registry entry gives
    its own (:meth:`simlab.products.base.Product.log_patterns_for`).
    """

    mode: str = "block"
    server: str = "mail.example.com"
    router: str = "router"
    every: float = 3600.0
    threshold: int = 3
    lan: Sequence[str] = ("192.0.2.0/24",)
    patterns: Sequence[str] = ()
    complaints_to: Sequence[str] = field(default_factory=tuple)

    def start(self, world: World) -> None:
        self._seen = 0
        self._hits: dict[str, int] = {}
        self._blocked: set[str] = set()
        self._allowlisted = False
        # each pattern read as fail2ban reads it (a product's stock filter, whole, where it names one)
        self._readers = [Fail2Ban(jail="admin", failregex=pattern) for pattern in self.patterns]
        world.loop.after(self.every, self._review, world)

    def _suspects(self, line: str) -> str | None:
        for reader in self._readers:
            ip = reader.host_in(line)
            if ip:
                return ip
        return None

    def _review(self, world: World) -> None:
        server_host = world.network.host(self.server)
        records = server_host.server.log_records
        lan = ClientHosts(self.lan).client_hosts
        for _time, line in records[self._seen:]:
            ip = self._suspects(line)
            if ip and ip not in lan:
                self._hits[ip] = self._hits.get(ip, 0) + 1
        self._seen = len(records)
        offenders = [ip for ip, n in sorted(self._hits.items()) if n >= self.threshold and ip not in self._blocked]
        if self.mode == "block":
            router = world.network.host(self.router)
            for ip in offenders:
                router.filters[0].add_deny(ip)
                self._blocked.add(ip)
                world.mark("bans")
        elif self.mode == "please_stop":
            for ip in offenders:
                self._blocked.add(ip)
                world.mark("complaints_sent")
        elif self.mode == "allowlist" and offenders and not self._allowlisted:
            server_host.server.restrictions.append(ClientHosts(self.lan))
            self._allowlisted = True
            world.mark("allowlist_switched")
        world.loop.after(self.every, self._review, world)
