"""Postfix's Milter support (``smtpd_milters``) and the server that runs sender checks, as Debian 12 sets them up.

Postfix 3.7 hands each message, at the end of DATA, to the mail filters listed in ``smtpd_milters``, one
after the other; each sees the message as the ones before it left it (its own ``Received:`` header and
any ``PREPEND`` of a policy service included) and may insert header fields, reject, or hold the message.
The words are Postfix's (``src/cleanup/cleanup_milter.c``, ``cleanup_milter_apply()``):

* a reject: the filter's reply goes to the client (``550 5.7.1 rejected by DMARC policy for example.com``)
  and cleanup logs ``<queue id>: milter-reject: END-OF-MESSAGE from <name>[<addr>]: 5.7.1 <text>;
  from=<s> to=<r> proto=ESMTP helo=<h>`` (the reply without its three-digit code);
* a hold (``smfi_quarantine``): ``<queue id>: milter-hold: END-OF-MESSAGE from <name>[<addr>]: milter
  triggers HOLD action; from=...``; the client gets the usual ``250 2.0.0 Ok: queued as ...`` and the
  message waits in the hold queue (``postsuper -r``), not in the mailbox.

:class:`SenderAuthServer` is the Postfix server with these checks: policyd-spf at RCPT
(:mod:`simlab.products.policyd_spf`), OpenDKIM and OpenDMARC at the end of DATA
(:mod:`simlab.products.opendkim`, :mod:`simlab.products.opendmarc`), and ``virtual_alias_maps``
forwarding (Postfix's cleanup rewrites an alias to its target, which is then relayed unchanged - the
alias of RFC 7960's indirect mail flows, which keeps the envelope sender). The decisions are made in
:mod:`simlab.auth`; these modules only word them.

Modelling choices: milter header insertions are placed at the top of the header (OpenDKIM and OpenDMARC
ask for index 0 or 1); the message reads, top down: the filters' fields (newest on top), the policy
service's PREPEND, then Postfix's own ``Received:`` (smtpd writes PREPEND headers before it). Hold-queue messages
are kept in :attr:`SenderAuthServer.held`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from simlab.addresses.mail import parse_path
from simlab.addresses.networks import ip_text
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.dovecot import DovecotMailServer
from simlab.products.postfix import PostfixPersona
from simlab.protocol.message import Message
from simlab.protocol.policy import Recipient, SmtpContext
from simlab.protocol.reply import Reply
from simlab.protocol.smtp import SmtpSession

if TYPE_CHECKING:
    from simlab.protocol.server import MailServer

__all__ = ["Milter", "MilterVerdict", "SenderAuthServer", "SenderAuthSession", "zone_of", "sender_auth_persona",
           "milter_names", "OWN_PROCESSES", "unix_time", "SenderAuthPersona"]

#: Programs that log under their own syslog name, not ``postfix/...``.
OWN_PROCESSES = ("policyd-spf", "opendkim", "opendmarc")


def unix_time(server: MailServer, at: float) -> int:
    """The simulated time ``at`` in Unix seconds (the clock's calendar time read as UTC, as mail_date does)."""
    when = server.clock.datetime(at)
    if when.tzinfo is not None:
        return int(when.timestamp())
    return calendar.timegm(when.timetuple())


def zone_of(dns: object) -> Mapping[str, object]:
    """The DNS as the auth layer reads it: a mapping as given, or a simulated DNS's ``zone()``."""
    if dns is None:
        return {}
    if isinstance(dns, Mapping):
        return dns
    zone = getattr(dns, "zone", None)
    if callable(zone):
        return zone()
    raise ConfigError("auth_dns", dns, t("product.milters.not_a_dns"), t("product.milters.expected_dns"))


@dataclass
class MilterVerdict:
    """What one filter says at the end of a message."""

    insert: list[str] = field(default_factory=list)  # header lines to insert at the top (folded lines kept)
    reply: Reply | None = None  # a refusal (4xx/5xx) for the client
    hold: str | None = None  # smfi_quarantine's reason: the message goes to the hold queue
    log: list[str] = field(default_factory=list)  # the filter's own syslog lines (without the prefix)


class Milter:
    """A mail filter: :meth:`end_of_message` sees the message and the session."""

    #: The syslog name and the ``smtpd_milters`` entry Debian's package documents.
    process = "milter"
    socket = ""
    pid = 0

    def end_of_message(self, ctx: SmtpContext, lines: list[str], server: MailServer) -> MilterVerdict:
        raise NotImplementedError

    def describe(self) -> str:
        return self.socket


def milter_names() -> tuple[str, ...]:
    """The filters simlab's Postfix can run, by the names ``smtpd_milters`` takes here."""
    return ("opendkim", "opendmarc")


class SenderAuthSession(SmtpSession):
    """Postfix's smtpd with a policy service's PREPEND and the milters at the end of DATA."""

    def _reset_transaction(self) -> None:
        super()._reset_transaction()
        self.ctx.prepend = []  # PREPEND headers belong to one transaction

    def _end_of_data(self) -> Reply:
        server, ctx = self.server, self.ctx
        limit = server.message_size_limit
        if limit and self._data_size > limit:
            self._reset_transaction()
            return self.persona.message_too_big()
        queue_id = ctx.queue_id or server.next_queue_id()
        recipients = [r.path.text for r in ctx.recipients]
        received = self.persona.received_header(server, ctx, queue_id, recipients)
        prepended = list(getattr(ctx, "prepend", ()) or ())
        lines = [*prepended, *received, *self._data_lines]  # smtpd.c writes PREPEND headers before its Received:
        for milter in server.milters:
            verdict = milter.end_of_message(ctx, lines, server)
            for text in verdict.log:
                server.log_line(text, milter.process, milter.pid)
            if verdict.insert:
                lines = [*verdict.insert, *lines]
            if verdict.reply is not None:
                self._log_cleanup(queue_id, "milter-reject", verdict.reply.text)
                server.notify_verdict(ctx, "end-of-data", {"check": milter.process, "action": "reject",
                                                           "reply": verdict.reply})
                self._reset_transaction()
                return verdict.reply
            if verdict.hold is not None:
                self._log_cleanup(queue_id, "milter-hold", "milter triggers HOLD action")
                message = self._message(queue_id, lines)
                server.held.append(message)
                server.notify_held(ctx, message)
                self._reset_transaction()
                return self.persona.queued(queue_id)
        message = self._message(queue_id, lines)
        server.accept_message(ctx, message, ctx.recipients)
        self._reset_transaction()
        return self.persona.queued(queue_id)

    def _message(self, queue_id: str, lines: list[str]) -> Message:
        ctx = self.ctx
        return Message(queue_id=queue_id, sender=ctx.sender.text if ctx.sender else "",
                       recipients=[r.path.text for r in ctx.recipients], lines=lines,
                       client_ip=ip_text(ctx.client_ip), helo=ctx.helo, received_at=ctx.now,
                       authenticated_user=ctx.user)

    def _log_cleanup(self, queue_id: str, action: str, text: str) -> None:
        """cleanup_milter_apply(): ``<qid>: <action>: END-OF-MESSAGE from <name>[<addr>]: <text>; from=...``."""
        ctx = self.ctx
        sender = ctx.sender.address.external if ctx.sender is not None and ctx.sender.address is not None else ""
        parts = [f"from=<{sender}>"]
        if ctx.recipients:
            first = ctx.recipients[0].path
            parts.append(f"to=<{first.address.external if first.address is not None else ''}>")
        parts.append(f"proto={'ESMTP' if ctx.esmtp else 'SMTP'}")
        if ctx.helo is not None:
            parts.append(f"helo=<{ctx.helo}>")
        self.server.log_line(f"{queue_id}: {action}: END-OF-MESSAGE from {ctx.client}: {text}; {' '.join(parts)}",
                             "cleanup", 1501)


class SenderAuthServer(DovecotMailServer):
    """A Postfix server with sender checks (milters, a policy service) and virtual aliases.

    Attributes:
        milters: the ``smtpd_milters``, in order.
        virtual_aliases: ``virtual_alias_maps`` as ``{"fwd@remote.test": "user_name@yourcompany.test"}``.
        held: messages a milter put on hold.
        verdict_listeners: called with ``(ctx, stage, verdict)`` for each sender-check decision
            (``stage`` ``"rcpt"``, ``"end-of-data"``); a scenario counts with them.
        hold_listeners: called with ``(ctx, message)`` for each held message.
    """

    def __init__(self, *args, milters: Sequence[Milter] = (), virtual_aliases: Mapping[str, str] | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.milters = list(milters)
        self.virtual_aliases = {k.lower(): v for k, v in (virtual_aliases or {}).items()}
        self.held: list[Message] = []
        self.verdict_listeners: list = []
        self.hold_listeners: list = []

    def smtp_session(self, client_ip: str, port: int = 25, client_name: str = "unknown") -> SmtpSession:
        return SenderAuthSession(self, client_ip, port=port, client_name=client_name)

    def notify_verdict(self, ctx: SmtpContext, stage: str, verdict: object) -> None:
        for listener in self.verdict_listeners:
            listener(ctx, stage, verdict)

    def notify_held(self, ctx: SmtpContext, message: Message) -> None:
        for listener in self.hold_listeners:
            listener(ctx, message)

    def _alias_target(self, local_part: str) -> str | None:
        for domain in self._alias_domains():
            target = self.virtual_aliases.get(f"{local_part.lower()}@{domain}")
            if target is not None:
                return target
        return None

    def _alias_domains(self) -> Iterable[str]:
        return {key.rpartition("@")[2] for key in self.virtual_aliases}

    def local_account(self, local_part: str) -> str | None:
        """virtual_alias_maps make an alias a valid recipient (smtpd's reject_unlisted_recipient checks them)."""
        account = super().local_account(local_part)
        if account is None and self._alias_target(local_part) is not None:
            return f"alias:{local_part.lower()}"
        return account

    def accept_message(self, ctx: SmtpContext, message: Message, recipients: list[Recipient]) -> None:
        """cleanup's virtual alias expansion: an alias recipient becomes its target, relayed onward."""
        rewritten: list[Recipient] = []
        for rcpt in recipients:
            account = rcpt.account or ""
            if account.startswith("alias:"):
                target = self._alias_target(account[6:])
                path = parse_path(f"<{target}>")
                rewritten.append(Recipient(path, self.resolver.resolve(path.address), None))
            else:
                rewritten.append(rcpt)
        if rewritten != list(recipients):
            message = Message(message.queue_id, message.sender, [r.path.text for r in rewritten], message.lines,
                              message.client_ip, message.helo, message.received_at, message.authenticated_user)
        super().accept_message(ctx, message, rewritten)


class SenderAuthPersona(PostfixPersona):
    """Postfix's words, with policyd-spf's, OpenDKIM's and OpenDMARC's lines under their own syslog names
    (``opendmarc[812]: ...``, not ``postfix/opendmarc[...]``)."""

    def format_log(self, when: datetime, process: str, pid: int, text: str, server) -> str:
        line = super().format_log(when, process, pid, text, server)
        if process in OWN_PROCESSES:
            return line.replace(f"postfix/{process}[", f"{process}[", 1)
        return line


def sender_auth_persona(persona: PostfixPersona) -> SenderAuthPersona:
    """The same persona (same settings), writing the filters' lines under their own names."""
    persona.__class__ = SenderAuthPersona
    return persona


def sender_checks(persona: PostfixPersona, chain: list, networks, *, policyd_spf: Mapping[str, str] | bool | None,
                  smtpd_milters: Iterable[str] | str, opendkim: Mapping[str, object] | None,
                  opendmarc: Mapping[str, object] | None, virtual_alias_maps: Mapping[str, str] | None,
                  auth_dns: object, submission_ports: Iterable[int]) -> tuple[type, dict]:
    """The Postfix preset's sender checks: policyd-spf appended to the restriction chain, the milters, the
    aliases. Returns the server class and its extra arguments.

    policyd-spf sits where the usual Debian how-to puts it: ``smtpd_recipient_restrictions =
    permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, check_policy_service
    unix:private/policyd-spf`` (so the site's own clients are not checked), on port 25 only.
    """
    from simlab.products.opendkim import OpenDkim
    from simlab.products.opendmarc import OpenDmarc
    from simlab.products.policyd_spf import PolicydSpf

    names = smtpd_milters.replace(",", " ").split() if isinstance(smtpd_milters, str) else list(smtpd_milters)
    milters: list[Milter] = []
    for name in names:
        if name == "opendkim":
            milters.append(OpenDkim(auth_dns, opendkim))
        elif name == "opendmarc":
            milters.append(OpenDmarc(auth_dns, opendmarc))
        else:
            raise ConfigError("smtpd_milters", name, t("product.milters.not_a_milter"),
                              t("expected.one_of", choices=", ".join(milter_names())))
    if opendkim is not None and "opendkim" not in names:
        raise ConfigError("opendkim", dict(opendkim), t("product.milters.not_listed"),
                          "smtpd_milters=['opendkim', ...]")
    if opendmarc is not None and "opendmarc" not in names:
        raise ConfigError("opendmarc", dict(opendmarc), t("product.milters.not_listed"),
                          "smtpd_milters=[..., 'opendmarc']")
    if policyd_spf:
        ports = {25} - set(submission_ports)
        chain.append(PolicydSpf(auth_dns, {} if policyd_spf is True else dict(policyd_spf), ports=ports,
                                trusted=networks))
    aliases: dict[str, str] = {}
    for alias, target in (virtual_alias_maps or {}).items():
        for what, value in (("alias", alias), ("target", target)):
            if not isinstance(value, str) or value.count("@") != 1:
                raise ConfigError(f"virtual_alias_maps[{alias!r}]", value,
                                  t("product.milters.not_an_address", what=what),
                                  "'list@remote.test': 'user_name@yourcompany.test'")
        aliases[alias.lower()] = target
    sender_auth_persona(persona)
    return SenderAuthServer, {"milters": milters, "virtual_aliases": aliases}
