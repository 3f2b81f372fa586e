"""What simlab knows about a product, beside its words: the :class:`Product` descriptor.

A product module (``simlab/products/<name>.py``) holds everything about one
mail server product: its :class:`~simlab.protocol.persona.Persona` (replies
and log lines), its factory (the preset, with settings in the product's own
configuration names) and one :class:`Product` instance that says what the
product *can do* (:data:`CAPABILITIES`), how many SMTP connections it serves
at once, which settings put it on the standard site, which log lines show an
attack (the fail2ban-style patterns its log needs) and how its relay
decisions read in plain words. Views, scenarios, exercises and the live lab
ask these questions of the registry (:mod:`simlab.products`) and never
compare a product's name.

The plain words - relay decisions, :attr:`Product.notes`, the labels of
:attr:`Product.panel_choices`, error messages - speak the current language
(:mod:`simlab.i18n`, ids ``product.*``): a product module may give a text as a
callable (a module-level function returning ``t("product.eims.notes.1_2")``), looked up each time it is read.

A factory wrapped by :func:`records_origin` notes on every server it builds
the product and the settings it was given (:class:`ServerOrigin`), so a
scenario can rebuild that server fresh for each run, with knobs on top.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simlab.errors import ConfigError
from simlab.i18n import t

if TYPE_CHECKING:
    from simlab.protocol.reply import Reply
    from simlab.protocol.server import MailServer

__all__ = ["CAPABILITIES", "Product", "ServerOrigin", "SiteNames", "records_origin", "origin_of",
           "QueueSchedule", "RetryPhase", "RFC5321_QUEUE", "ServiceLimit",
           "RELAY_CONTROL", "RELAY_BY_SENDER_DOMAIN", "RELAY_BY_CLIENT_IP", "IP_RANGE_RESTRICTION", "SMTP_AUTH",
           "SUBMISSION", "DNSBL", "CLIENT_CONNECTION_LIMIT", "SENDER_LOGIN_CHECK", "POP3", "DKIM_SIGNING"]

#: The product refuses to relay for some clients (EIMS 1.2 has no such control at all).
RELAY_CONTROL = "relay control"
#: Relaying decided by the *sender's* domain, which the client writes (EIMS Relay Restriction).
RELAY_BY_SENDER_DOMAIN = "relay by sender domain"
#: A list of client addresses allowed to relay (SIMS Client Hosts, Postfix mynetworks, Exim relay_from_hosts).
RELAY_BY_CLIENT_IP = "relay by client address"
#: Connections refused per service unless the client is in allowed ranges (EIMS IP Range Restriction).
IP_RANGE_RESTRICTION = "IP range restriction"
#: SMTP AUTH (RFC 4954): a logged-in client may relay.
SMTP_AUTH = "SMTP AUTH"
#: A submission service on port 587 (RFC 6409).
SUBMISSION = "submission port"
#: DNS blocklists (RFC 5782).
DNSBL = "DNS blocklist"
#: A limit on the connections one client address may hold (Postfix smtpd_client_connection_count_limit).
CLIENT_CONNECTION_LIMIT = "per-client connection limit"
#: The envelope sender must belong to the logged-in user (Postfix smtpd_sender_login_maps).
SENDER_LOGIN_CHECK = "sender login check"
#: A POP3 service (RFC 1939) beside SMTP.
POP3 = "POP3"
#: Outgoing mail signed with DKIM (RFC 6376) by the server (Postfix with the OpenDKIM milter).
DKIM_SIGNING = "DKIM signing"

CAPABILITIES = (RELAY_CONTROL, RELAY_BY_SENDER_DOMAIN, RELAY_BY_CLIENT_IP, IP_RANGE_RESTRICTION, SMTP_AUTH,
                SUBMISSION, DNSBL, CLIENT_CONNECTION_LIMIT, SENDER_LOGIN_CHECK, POP3, DKIM_SIGNING)


@dataclass(frozen=True)
class SiteNames:
    """The names a site's mail server goes by: its domain, its host name, its address and its LAN."""

    domain: str = "example.com"
    hostname: str = "mail.example.com"
    address: str = "192.0.2.25"
    lan: str = "192.0.2.0/24"


@dataclass(frozen=True)
class ServerOrigin:
    """How a server was made: the product's registry name and the settings given to its factory."""

    product: str
    settings: Mapping[str, Any]


def records_origin(product: str) -> Callable:
    """Wrap a preset so each server it builds remembers ``product`` and the settings it was given."""

    def wrap(factory: Callable[..., MailServer]) -> Callable[..., MailServer]:
        signature = inspect.signature(factory)

        @functools.wraps(factory)
        def build(*args: Any, **kwargs: Any) -> MailServer:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise ConfigError("settings", ", ".join(kwargs) or args,
                                  t("product.error.settings_do_not_fit", factory=factory.__name__, reason=exc),
                                  t("product.expected.settings_among", names=", ".join(signature.parameters))) from None
            server = factory(*args, **kwargs)
            given = {name: value for name, value in bound.arguments.items() if name != "clock"}
            server.origin = ServerOrigin(product, given)
            return server

        return build

    return wrap


def origin_of(server: object) -> ServerOrigin:
    """The :class:`ServerOrigin` of a server built by a preset, or a ``ConfigError``."""
    origin = getattr(server, "origin", None)
    if not isinstance(origin, ServerOrigin):
        raise ConfigError("server", server, t("product.error.not_from_a_preset"), t("product.expected.preset_server"))
    return origin


@dataclass(frozen=True)
class RetryPhase:
    """One phase of a retry schedule, as an Exim retry rule writes it (``F,2h,15m`` or ``G,16h,1h,1.5``).

    ``kind`` is ``"F"`` (every ``interval`` seconds) or ``"G"`` (intervals from ``interval`` up, each
    ``factor`` times the one before); the phase applies until ``until`` seconds after the first failure.
    """

    kind: str
    until: float
    interval: float
    factor: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("F", "G") or self.interval <= 0 or (self.kind == "G" and self.factor <= 1):
            raise ValueError(f"not a retry phase: {self}")


@dataclass(frozen=True)
class QueueSchedule:
    """How a product's queue manager retries deferred mail and when it gives up, with the source of each figure.

    After a failed attempt the next one waits :meth:`next_delay` seconds (at most ``max_interval``); with
    ``queue_run_interval`` the attempt happens only at the next queue run after that (Postfix's deferred
    queue scans, Exim's queue runners), runs counted from the start of the simulated day. A failed attempt
    made ``lifetime`` seconds or more after the message arrived returns it to its sender (``bounce_lifetime``
    for a message from ``<>``, a bounce): RFC 5321 §4.5.4.1's "give up".

    Attributes:
        lifetime, bounce_lifetime: seconds before an undeliverable message (a bounce) is given up.
        phases: the retry phases in order; the first whose ``until`` has not passed applies (the last one after).
        max_interval: the longest wait between attempts.
        queue_run_interval: seconds between queue runs (0: each attempt at its own time).
        settings: the product's own names and values for these figures (``{"maximal_queue_lifetime": "5d"}``).
        source: where the figures come from, and which parts are modelling choices.
    """

    lifetime: float
    bounce_lifetime: float
    phases: tuple[RetryPhase, ...]
    max_interval: float = float("inf")
    queue_run_interval: float = 0.0
    settings: Mapping[str, str] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        if not self.phases or self.lifetime <= 0 or self.bounce_lifetime <= 0 or self.queue_run_interval < 0:
            raise ValueError(f"not a queue schedule: {self}")

    def next_delay(self, since_first_failure: float, previous: float = 0.0) -> float:
        """Seconds from a failed attempt to the next one, ``since_first_failure`` seconds after the first
        failure, when the wait before was ``previous`` (Exim spec 32.7: a G phase takes the first of its
        intervals longer than the previous one)."""
        phase = next((p for p in self.phases if since_first_failure < p.until), self.phases[-1])
        delay = phase.interval
        if phase.kind == "G":
            while delay <= previous and delay < self.max_interval:
                delay *= phase.factor
        return min(delay, self.max_interval)

    def next_attempt(self, now: float, delay: float) -> float:
        """When the attempt due ``delay`` seconds after ``now`` is made: at the next queue run, if runs are set."""
        due = now + delay
        if self.queue_run_interval <= 0:
            return due
        runs = -(-due // self.queue_run_interval)  # the first run at or after ``due``
        return runs * self.queue_run_interval

    def gives_up(self, age: float, bounce: bool = False) -> bool:
        """Whether a failed attempt ``age`` seconds after arrival returns the message."""
        return age >= (self.bounce_lifetime if bounce else self.lifetime)

    def with_lifetime(self, seconds: float, why: str) -> QueueSchedule:
        """This schedule with a shorter (or longer) lifetime for both kinds of message, ``why`` noted."""
        return dataclasses.replace(self, lifetime=float(seconds), bounce_lifetime=float(seconds),
                                   source=f"{self.source} Lifetime set to {_duration(seconds)} by the scenario: {why}")

    def with_fixed_retry(self, seconds: float) -> QueueSchedule:
        """This schedule retrying every ``seconds`` (no backoff, no queue runs): a scenario's knob."""
        return dataclasses.replace(self, phases=(RetryPhase("F", float("inf"), float(seconds)),),
                                   max_interval=float("inf"), queue_run_interval=0.0,
                                   source=f"{self.source} Retries every {_duration(seconds)}, set by the scenario.")

    @property
    def min_interval(self) -> float:
        """The shortest wait between attempts (the first phase's first interval)."""
        return min(self.phases[0].interval, self.max_interval)

    def describe(self) -> str:
        """One line: lifetime and retries, in the product's words where it has them."""
        if self.settings:
            return ", ".join(f"{k} = {v}" for k, v in self.settings.items())
        phases = "; ".join(f"{p.kind},{_duration(p.until)},{_duration(p.interval)}"
                           + (f",{p.factor:g}" if p.kind == "G" else "") for p in self.phases)
        return t("product.queue.describe", lifetime=_duration(self.lifetime), phases=phases)


def _duration(seconds: float) -> str:
    """``300`` -> ``5m``, ``432000`` -> ``5d``: the way Postfix and Exim write times."""
    if seconds == float("inf"):
        return "forever"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


#: The queue of a product without documented figures: RFC 5321 §4.5.4.1 ("the retry interval SHOULD be at
#: least 30 minutes"; "the give-up time generally needs to be at least 4-5 days"). A modelling choice.
RFC5321_QUEUE = QueueSchedule(
    lifetime=5 * 86400.0, bounce_lifetime=5 * 86400.0, phases=(RetryPhase("F", float("inf"), 1800.0),),
    source="Modelling choice after RFC 5321 §4.5.4.1: retry every 30 minutes, give up after 5 days.")


@dataclass(frozen=True)
class ServiceLimit:
    """Connections one server program serves at once, and the services (``"smtp"``, ``"pop3"``) it serves.

    Services listed together share the limit: a connection to either takes a slot from both.
    """

    services: tuple[str, ...]
    limit: int
    program: str
    source: str = ""

    def __post_init__(self) -> None:
        if not self.services or isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"not a service limit: {self}")


def _text(value: str | Callable[[], str]) -> str:
    return value() if callable(value) else value


class _LearnerText:
    """A :class:`Product` field of learner text: plain text, or a callable returning ``t("id")``, called each time
    the field is read, so that a registry built at import time still speaks the current language. Give a
    module-level function rather than a lambda, so that the Product still pickles."""

    default: Any = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_text_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self.default  # the dataclass field's default
        return self._read(instance.__dict__[self._slot])

    def __set__(self, instance: object, value: Any) -> None:
        instance.__dict__[self._slot] = value  # frozen dataclasses set their fields with object.__setattr__

    def _read(self, value: Any) -> Any:
        return _text(value)


class _PanelChoices(_LearnerText):
    """:attr:`Product.panel_choices`: ``(label, settings)`` pairs whose labels may be callables."""

    default = ()

    def _read(self, value: Any) -> Any:
        return tuple((_text(label), settings) for label, settings in value)


@dataclass(frozen=True)
class Product:
    """One product: its factory, what it can do, and the words simlab's views need about it.

    Attributes:
        name: the registry and CLI name (``"postfix"``).
        label: how lessons name it (``"Postfix 3.7"``).
        factory: the preset that builds a server, settings named as the product named them.
        year: the year of the version modelled (1998, or today's).
        capabilities: what it can do, from :data:`CAPABILITIES`.
        smtp_process_limit: SMTP connections it serves at once.
        pop3_limit: POP3 connections its POP3 program serves at once, when POP3 is a program of its own
            (Dovecot's ``pop3-login``); None: SMTP and POP3 share one program and ``smtp_process_limit``
            (the 1998 Mac servers: one program, one thread pool). See :attr:`service_limits`.
        pop3_limit_source: where ``pop3_limit`` comes from.
        queue: how its queue manager retries and gives up (:class:`QueueSchedule`, with sources).
        pop3_label: how its POP3 side is named, when another program serves it (``"Dovecot"``).
        relay_allowlist_setting: the setting that lists the client addresses allowed to relay.
        connection_limit_setting: the setting that caps the connections of one client address.
        log_patterns: fail2ban-style patterns (``<HOST>`` marks the address) by event:
            ``"pop3_failure"``, ``"auth_failure"``, ``"relay_refused"``, and ``"relay_abuse"`` (what an admin
            reads as someone outside abusing the relay: refusals, or on a server that relays, relayed mail).
            ``{domain}`` stands for the site's domain.
        fail2ban_filters: named patterns for :class:`~simlab.restrictions.guards.Fail2Ban`'s ``failregex``.
        panel_choices: ``(label, settings)`` a panel offers for this product (the first is the default); a
            label may be given as a callable returning ``t("id")``, read in the current language.
        notes: where the facts above come from (text, or a callable looked up when read).
        setting_labels: how the product's own documentation names a setting (``{"client_hosts": "Client Hosts"}``),
            for the descriptions of panel controls; a setting not listed goes by its name.
        smtp_auth_setting: the switch that offers SMTP AUTH (with :data:`SMTP_AUTH`).
        panel_hidden_settings: factory settings a panel's settings form leaves alone (the sandbox's): the
            site's identity (host name, domains, address), its objects (accounts, DNS) and fine tuning.
            ``clock`` and ``restrictions`` are not settings (:attr:`setting_names`) and need no mention.
    """

    name: str
    label: str
    factory: Callable[..., MailServer]
    year: int
    capabilities: frozenset[str]
    smtp_process_limit: int
    pop3_label: str = ""
    relay_allowlist_setting: str | None = None
    connection_limit_setting: str | None = None
    log_patterns: Mapping[str, str] = field(default_factory=dict)
    fail2ban_filters: Mapping[str, str] = field(default_factory=dict)
    panel_choices: tuple[tuple[str, Mapping[str, Any]], ...] = _PanelChoices()
    notes: str = _LearnerText()
    setting_labels: Mapping[str, str] = field(default_factory=dict)
    smtp_auth_setting: str | None = None
    panel_hidden_settings: frozenset[str] = frozenset()
    pop3_limit: int | None = None
    pop3_limit_source: str = ""
    queue: QueueSchedule = RFC5321_QUEUE

    def __post_init__(self) -> None:
        unknown = set(self.capabilities) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"{self.name}: unknown capabilities {sorted(unknown)}")
        if (RELAY_BY_CLIENT_IP in self.capabilities) != (self.relay_allowlist_setting is not None):
            raise ValueError(f"{self.name}: {RELAY_BY_CLIENT_IP} goes with relay_allowlist_setting")
        if (CLIENT_CONNECTION_LIMIT in self.capabilities) != (self.connection_limit_setting is not None):
            raise ValueError(f"{self.name}: {CLIENT_CONNECTION_LIMIT} goes with connection_limit_setting")

    @property
    def service_limits(self) -> tuple[ServiceLimit, ...]:
        """The connection limits of the product's programs: SMTP's and POP3's, or one both share.

        A flood of SMTP connections fills only SMTP's slots where POP3 has a limit of its own (Postfix and
        Dovecot, Exim and Dovecot); where both share one (EIMS, SIMS) it refuses POP3 logins too.
        """
        if self.pop3_limit is None:
            return (ServiceLimit(("smtp", "pop3"), self.smtp_process_limit, self.label,
                                 "SMTP and POP3 in one program with one pool of connections: modelling choice"),)
        return (ServiceLimit(("smtp",), self.smtp_process_limit, self.label, self.notes),
                ServiceLimit(("pop3",), self.pop3_limit, self.pop3_label or "POP3", self.pop3_limit_source))

    # --- questions -----------------------------------------------------------------------
    def can(self, capability: str) -> bool:
        """Whether the product has ``capability`` (one of :data:`CAPABILITIES`)."""
        if capability not in CAPABILITIES:
            raise ConfigError("capability", capability, t("product.error.not_a_capability"),
                              t("expected.one_of", choices=", ".join(CAPABILITIES)))
        return capability in self.capabilities

    def require(self, capability: str, knob: str) -> None:
        """Refuse ``knob`` with a ``ConfigError`` naming the capability this product lacks."""
        if not self.can(capability):
            from simlab.products import with_capability

            offer = ", ".join(p.name for p in with_capability(capability)) or t("product.none")
            raise ConfigError(knob, self.name, t("product.error.lacks", capability=capability, label=self.label),
                              t("product.expected.has_it", products=offer))

    def setting_label(self, setting: str) -> str:
        """The product's own words for ``setting`` (``"Client Hosts"`` for ``client_hosts``), else its name."""
        return self.setting_labels.get(setting, setting)

    @property
    def relay_allowlist_by_default(self) -> bool:
        """Whether the relay allow-list decides relaying under the product's own relay rule (SIMS Client Hosts,
        Postfix mynetworks), rather than only once an allow-list defence switches it on next to a rule on the
        sender's domain (EIMS 2.1 "AND if from a valid IP")."""
        return self.can(RELAY_BY_CLIENT_IP) and not self.can(RELAY_BY_SENDER_DOMAIN)

    def pop3_filter(self) -> str:
        """The fail2ban filter that reads this product's failed POP3 logins: its name among
        :attr:`fail2ban_filters` (``"dovecot"``), else the pattern itself."""
        pattern = self.pattern("pop3_failure")
        return next((name for name, regex in self.fail2ban_filters.items() if regex == pattern), pattern)

    @property
    def setting_names(self) -> tuple[str, ...]:
        """The factory's settings, in the product's own names (without ``clock`` and ``restrictions``)."""
        return tuple(p for p in inspect.signature(self.factory).parameters if p not in ("clock", "restrictions"))

    def pattern(self, event: str, domain: str = "example.com") -> str:
        """The log pattern for ``event`` at a site with ``domain``; a ``ConfigError`` when the log has no such line."""
        try:
            return self.log_patterns[event].replace("{domain}", re.escape(domain))
        except KeyError:
            raise ConfigError("log pattern", event, t("product.error.not_a_log_line", label=self.label),
                              t("expected.one_of", choices=", ".join(self.log_patterns) or t("product.none"))) from None

    def log_patterns_for(self, domain: str) -> list[str]:
        """Every line this product's log writes when someone outside abuses the server, at ``domain``."""
        return list(dict.fromkeys(self.pattern(event, domain) for event in self.log_patterns))

    # --- the standard site ------------------------------------------------------------------
    def site_settings(self, site: SiteNames, accounts: Mapping[str, str]) -> dict[str, Any]:
        """Settings that put this product at ``site`` (its domain, host name, address, staff accounts)."""
        return {"hostname": site.hostname, "local_domains": [site.domain], "address": site.address,
                "accounts": dict(accounts)}

    def site_names(self, server: MailServer) -> SiteNames:
        """Where a server of this product stands: domain, host name and address from its own settings."""
        settings = server.settings
        domains = [d for d in settings.get("local_domains", ()) if d != server.hostname]
        domain = domains[0] if domains else server.hostname
        return SiteNames(domain=domain, hostname=server.hostname, address=str(settings.get("address", "192.0.2.25")))

    def relay_allowlist(self, networks: Iterable[str]) -> dict[str, Any]:
        """Settings that let only ``networks`` relay (for an allow-list defence)."""
        self.require(RELAY_BY_CLIENT_IP, "relay allow-list")
        return {self.relay_allowlist_setting: list(networks)}

    def relay_restriction(self, on: bool, domains: Iterable[str] | None = None) -> dict[str, Any]:
        """Settings for a relay rule on the sender's domain (EIMS Relay Restriction); ``domains``, when given,
        are the other sender domains the rule accepts besides the local ones."""
        self.require(RELAY_BY_SENDER_DOMAIN, "relay_restriction")
        settings: dict[str, Any] = {"relay_restriction": bool(on)}
        if domains is not None:
            settings["relay_domains"] = list(domains)
        return settings

    def smtp_auth(self, on: bool) -> dict[str, Any]:
        """Settings that offer SMTP AUTH (or not)."""
        self.require(SMTP_AUTH, "smtp_auth")
        if self.smtp_auth_setting is None:
            raise NotImplementedError(f"{self.name} has {SMTP_AUTH} but no smtp_auth_setting")
        return {self.smtp_auth_setting: bool(on)}

    def sender_login_check(self, restriction: str, owners: Mapping[str, str]) -> dict[str, Any]:
        """Settings that refuse a sender address its client is not logged in as the owner of
        (Postfix ``smtpd_sender_login_maps`` with ``restriction``, e.g. ``reject_sender_login_mismatch``)."""
        self.require(SENDER_LOGIN_CHECK, "sender_login_check")
        raise NotImplementedError(f"{self.name} has {SENDER_LOGIN_CHECK} but no settings for it")

    def dkim_signing(self, domain: str, selector: str, networks: Iterable[str]) -> dict[str, Any]:
        """Settings that sign the mail of ``networks`` (and logged-in users) from ``domain`` with DKIM."""
        self.require(DKIM_SIGNING, "dkim")
        raise NotImplementedError(f"{self.name} has {DKIM_SIGNING} but no settings for it")

    def idle_timeout_reply(self, server: MailServer) -> Reply | None:
        """What the product says to a client it drops for idling, or None when it just closes."""
        return None

    def ip_range(self, service: str, ranges: Iterable[str]) -> dict[str, Any]:
        """Settings for a connection allow-list on ``service`` (EIMS IP Range Restriction)."""
        self.require(IP_RANGE_RESTRICTION, f"{service}_ip_restriction")
        return {"ip_range_restriction": {service: list(ranges)}}

    def connection_limit(self, limit: int) -> dict[str, Any]:
        """Settings for a per-client connection limit."""
        self.require(CLIENT_CONNECTION_LIMIT, "connection_limit")
        return {self.connection_limit_setting: limit}

    def auth_submission_port(self) -> int | None:
        """The port a roaming user submits on with SMTP AUTH, or None to send as any outside client."""
        return None

    # --- relay decisions in plain words --------------------------------------------------------
    def why_relayed(self, server: MailServer, client_ip: str, sender: str) -> tuple[str, str]:
        """Why this server relayed for ``client_ip`` writing ``sender``: (sentence, a few words).

        The default is a client-address rule that trusted the client.
        """
        return (t("product.why_relayed.trusted", client_ip=client_ip), t("product.why_relayed.trusted.short"))

    def why_refused(self, server: MailServer, client_ip: str, sender: str, reply: Reply) -> str:
        """Why this server refused to relay, in one sentence."""
        return t("product.why_refused", label=self.label, client_ip=client_ip)

    def why_sender_refused(self, server: MailServer, sender: str, reply: Reply) -> str:
        """Why this server refused the sender at ``MAIL FROM``, in one sentence (no relay decision was made)."""
        said = f"{reply.code} {reply.text}".rstrip()
        return t("product.why_sender_refused", label=self.label, sender=sender, said=said)

    def describe(self, server: MailServer) -> str:
        """The product and its settings, for a result's heading."""
        shown = ", ".join(f"{k}={v!r}" for k, v in server.settings.items() if k != "accounts")
        return f"{self.label} ({shown})" if shown else self.label
