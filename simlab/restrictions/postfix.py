"""Postfix SMTP access restrictions (``postconf(5)``, ``smtpd_check.c``), as in Postfix 3.7.

Lists are written as in ``main.cf``: words separated by commas or spaces,
some taking an argument (``reject_rbl_client bl.example.test``). With the
default ``smtpd_delay_reject = yes``, the client, HELO, sender, relay and
recipient lists are all evaluated at ``RCPT TO``, in that order; inside a
list the first ``permit`` or ``reject`` ends that list. The default
``smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
defer_unauth_destination`` refuses relaying with::

    454 4.7.1 <x@remote.test>: Relay access denied

(``554 5.7.1`` with ``reject_unauth_destination``). A destination is
*authorized* when the recipient resolves to a local domain
(``mydestination``, ``inet_interfaces`` literals) or to ``relay_domains``,
and the client did not use sender-specified routing
(``allow_untrusted_routing = no``). The sender address never grants relay.
Like Postfix, a configuration with no working instance of
``reject_unauth_destination`` (or ``defer_unauth_destination``, ``reject``,
``defer``) in the relay or recipient lists is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from simlab.addresses.mail import MailPath
from simlab.addresses.networks import ClientNetworks, parse_range
from simlab.addresses.routing import Destination, Resolution
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.policy import Restriction, SmtpContext
from simlab.protocol.reply import Reply
from simlab.restrictions.dnsbl import Dns, RblClient

__all__ = ["PostfixRestrictions", "DEFAULT_RELAY_RESTRICTIONS", "WORDS", "parse_restrictions"]

DEFAULT_RELAY_RESTRICTIONS = ("permit_mynetworks", "permit_sasl_authenticated", "defer_unauth_destination")

#: Restriction words simlab models, and whether each takes an argument.
WORDS: dict[str, bool] = {
    "permit": False, "reject": False, "defer": False, "dunno": False,
    "permit_mynetworks": False, "permit_sasl_authenticated": False,
    "permit_auth_destination": False, "reject_unauth_destination": False, "defer_unauth_destination": False,
    "reject_unlisted_recipient": False, "reject_unlisted_sender": False,
    "reject_non_fqdn_sender": False, "reject_non_fqdn_recipient": False, "reject_non_fqdn_helo_hostname": False,
    "reject_rbl_client": True, "check_client_access": True,
    "reject_sender_login_mismatch": False, "reject_authenticated_sender_login_mismatch": False,
    "reject_unauthenticated_sender_login_mismatch": False,
}

_RELAY_GUARDS = {"reject_unauth_destination", "defer_unauth_destination", "reject", "defer"}
_LISTS = ("smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
          "smtpd_relay_restrictions", "smtpd_recipient_restrictions")
_WHAT = {"smtpd_client_restrictions": "Client host", "smtpd_helo_restrictions": "Helo command",
         "smtpd_sender_restrictions": "Sender address", "smtpd_relay_restrictions": "Recipient address",
         "smtpd_recipient_restrictions": "Recipient address", "smtpd_data_restrictions": "Data command"}


@dataclass(frozen=True)
class Word:
    name: str
    argument: str | None = None

    def __str__(self) -> str:
        return f"{self.name} {self.argument}" if self.argument else self.name


def parse_restrictions(value: Iterable[str] | str | None, setting: str) -> tuple[Word, ...]:
    """Parse a restriction list as ``main.cf`` writes it; unknown words raise :class:`ConfigError`."""
    if value is None:
        return ()
    if isinstance(value, str):
        tokens = value.replace(",", " ").split()
    else:
        tokens = []
        for item in value:
            if not isinstance(item, str):
                raise ConfigError(setting, item, t("restriction.postfix.error.not_a_word"),
                                  t("restriction.postfix.expected.word"))
            tokens.extend(item.replace(",", " ").split())
    words: list[Word] = []
    i = 0
    while i < len(tokens):
        name = tokens[i].lower()
        if name not in WORDS:
            raise ConfigError(setting, tokens[i], t("restriction.postfix.error.not_modelled"),
                              t("expected.one_of", choices=", ".join(sorted(WORDS))))
        if WORDS[name]:
            if i + 1 >= len(tokens) or tokens[i + 1].lower() in WORDS:
                raise ConfigError(setting, name, t("restriction.postfix.error.needs_argument"),
                                  t("restriction.postfix.expected.argument", word=name))
            words.append(Word(name, tokens[i + 1]))
            i += 2
        else:
            words.append(Word(name))
            i += 1
    return tuple(words)


_PERMIT, _DUNNO = "permit", "dunno"


def _subject(key: str, ctx: SmtpContext, path: MailPath | None) -> str:
    """What a plain ``reject`` or ``defer`` in list ``key`` names in its reply."""
    return {"smtpd_client_restrictions": f"<{ctx.client}>", "smtpd_helo_restrictions": f"<{ctx.helo}>",
            "smtpd_sender_restrictions": f"<{ctx.sender.internal if ctx.sender else ''}>",
            "smtpd_data_restrictions": "<DATA>"}.get(key, f"<{path.internal if path else ''}>")


class PostfixRestrictions(Restriction):
    """Postfix's ``smtpd_*_restrictions`` evaluated as ``smtpd_check.c`` does.

    Args:
        mynetworks: the trusted client networks.
        lists: restriction lists by parameter name (see module docstring).
        smtpd_sender_login_maps: ``{"address or @domain": "login[, login...]"}``.
        access_maps: tables for ``check_client_access``: ``{name: {"CIDR or address": "ACTION"}}``
            with actions ``OK``, ``REJECT [text]``, ``DEFER [text]``, ``DUNNO`` or ``4xx/5xx text``.
        dns: the simulated DNS for ``reject_rbl_client``.
        smtpd_delay_reject: evaluate client/HELO/sender lists at RCPT (the default) or at their own stage.
    """

    name = "smtpd restrictions"

    def __init__(self, mynetworks: ClientNetworks, lists: Mapping[str, Iterable[str] | str | None],
                 smtpd_sender_login_maps: Mapping[str, str] | None = None,
                 access_maps: Mapping[str, Mapping[str, str]] | None = None, dns: Dns | None = None,
                 smtpd_delay_reject: bool = True) -> None:
        self.mynetworks = mynetworks
        self.lists: dict[str, tuple[Word, ...]] = {}
        for key, value in lists.items():
            if key not in (*_LISTS, "smtpd_data_restrictions"):
                raise ConfigError(key, value, t("restriction.postfix.error.not_a_list"),
                                  t("expected.one_of", choices=", ".join(_LISTS)))
            self.lists[key] = parse_restrictions(value, key)
        guards = [w for key in ("smtpd_relay_restrictions", "smtpd_recipient_restrictions")
                  for w in self.lists.get(key, ()) if w.name in _RELAY_GUARDS]
        if not guards:
            raise ConfigError("smtpd_relay_restrictions", ", ".join(map(str, self.lists.get(
                "smtpd_relay_restrictions", ()))) or t("restriction.empty"), t("restriction.postfix.error.open_relay"),
                t("restriction.postfix.expected.relay_guard"))
        self.login_maps = {k.lower(): [o.strip() for o in v.replace(",", " ").split()]
                           for k, v in (smtpd_sender_login_maps or {}).items()}
        self.access_maps = {}
        for name, table in (access_maps or {}).items():
            self.access_maps[name] = [(parse_range(k, f"{name} key"), str(v)) for k, v in table.items()]
        for key, words in self.lists.items():
            for word in words:
                if word.name == "check_client_access" and word.argument not in self.access_maps:
                    raise ConfigError(key, str(word), t("restriction.postfix.error.no_such_table"),
                                      t("expected.one_of", choices=sorted(self.access_maps)
                                        or t("restriction.postfix.expected.access_maps")))
        self.dns = dns or Dns()
        self.delay_reject = smtpd_delay_reject

    # --- the words ---------------------------------------------------------------
    @staticmethod
    def authorized_destination(resolution: Resolution) -> bool:
        """``permit_auth_destination``: final delivery here, or relay_domains without sender routing."""
        if resolution.destination is Destination.LOCAL:
            return True
        return resolution.destination is Destination.RELAY and not resolution.routed

    def _owners(self, sender: MailPath) -> list[str] | None:
        address = sender.address
        if address is None:
            return None
        keys = [f"{address.local}@{address.bare_domain}".lower()] if address.bare_domain else []
        keys.append(address.local.lower())
        if address.bare_domain:
            keys.append(f"@{address.bare_domain}")
        for key in keys:
            if key in self.login_maps:
                return self.login_maps[key]
        return None

    def _access(self, ctx: SmtpContext, table: str) -> str | Reply:
        for network, action in self.access_maps[table]:
            if ctx.client_ip in network:
                verb, _, text = action.partition(" ")
                verb = verb.upper()
                if verb == "OK":
                    return _PERMIT
                if verb == "DUNNO":
                    return _DUNNO
                if verb in ("REJECT", "DEFER"):
                    code, enh = (554, "5.7.1") if verb == "REJECT" else (450, "4.7.1")
                    return Reply.of(code, f"{enh} <{ctx.client}>: Client host rejected: {text or 'Access denied'}")
                if verb[:1] in "45" and verb.isdigit():
                    enh = f"{verb[0]}.7.1"
                    return Reply.of(int(verb), f"{enh} <{ctx.client}>: Client host rejected: {text or 'Access denied'}")
        return _DUNNO

    def _word(self, word: Word, key: str, ctx: SmtpContext, path: MailPath | None,
              resolution: Resolution | None) -> str | Reply:
        name = word.name
        server = ctx.server
        if name == "permit":
            return _PERMIT
        if name == "dunno":
            return _DUNNO
        if name == "reject":
            return Reply.of(554, f"5.7.1 {_subject(key, ctx, path)}: {_WHAT[key]} rejected: Access denied")
        if name == "defer":
            return Reply.of(450, f"4.7.1 {_subject(key, ctx, path)}: {_WHAT[key]} rejected: Access denied")
        if name == "permit_mynetworks":
            return _PERMIT if ctx.client_ip in self.mynetworks else _DUNNO
        if name == "permit_sasl_authenticated":
            return _PERMIT if ctx.user is not None else _DUNNO
        if name == "check_client_access":
            return self._access(ctx, word.argument or "")
        if name == "reject_rbl_client":
            hit = RblClient([word.argument or ""], self.dns).listing(ctx.client_ip)
            if hit is None:
                return _DUNNO
            return server.persona.rbl_rejected(str(ctx.client_ip), hit[0].name, hit[0].txt(ctx.client_ip))
        if name in ("reject_sender_login_mismatch", "reject_authenticated_sender_login_mismatch",
                    "reject_unauthenticated_sender_login_mismatch"):
            return self._login_mismatch(name, ctx)
        if name == "reject_non_fqdn_sender":
            address = ctx.sender.address if ctx.sender else None
            if address is not None and (address.bare_domain is None or "." not in address.bare_domain):
                return Reply.of(504, f"5.5.2 <{ctx.sender.internal}>: Sender address rejected: "
                                     "need fully-qualified address")
            return _DUNNO
        if name == "reject_non_fqdn_helo_hostname":
            if ctx.helo is not None and "." not in ctx.helo.strip("[]"):
                return Reply.of(504, f"5.5.2 <{ctx.helo}>: Helo command rejected: need fully-qualified hostname")
            return _DUNNO
        # the remaining words need a recipient
        if resolution is None or path is None:
            return _DUNNO
        if name == "permit_auth_destination":
            return _PERMIT if self.authorized_destination(resolution) else _DUNNO
        if name in ("reject_unauth_destination", "defer_unauth_destination"):
            if self.authorized_destination(resolution):
                return _DUNNO
            return server.persona.relay_denied(path.internal, defer=name.startswith("defer"))
        if name == "reject_unlisted_recipient":
            if resolution.destination is Destination.LOCAL and server.local_account(resolution.local_part) is None:
                return server.persona.unknown_local_user(path.internal)
            return _DUNNO
        if name == "reject_non_fqdn_recipient":
            address = path.address
            if address is not None and (address.bare_domain is None or "." not in address.bare_domain):
                return Reply.of(504, f"5.5.2 <{path.internal}>: Recipient address rejected: "
                                     "need fully-qualified address")
            return _DUNNO
        return _DUNNO

    def _login_mismatch(self, name: str, ctx: SmtpContext) -> str | Reply:
        sender = ctx.sender
        if sender is None or sender.address is None:
            return _DUNNO
        owners = self._owners(sender)
        if ctx.user is not None and name != "reject_unauthenticated_sender_login_mismatch":
            if owners is None or ctx.user not in owners:
                return Reply.of(553, f"5.7.1 <{sender.internal}>: Sender address rejected: "
                                     f"not owned by user {ctx.user}")
        if ctx.user is None and name != "reject_authenticated_sender_login_mismatch" and owners is not None:
            return Reply.of(553, f"5.7.1 <{sender.internal}>: Sender address rejected: not logged in")
        return _DUNNO

    def _run(self, key: str, ctx: SmtpContext, path: MailPath | None, resolution: Resolution | None) -> Reply | None:
        for word in self.lists.get(key, ()):
            result = self._word(word, key, ctx, path, resolution)
            if result == _PERMIT:
                return None
            if isinstance(result, Reply):
                return result
        return None

    # --- hooks -------------------------------------------------------------------------
    def check_connect(self, ctx: SmtpContext) -> Reply | None:
        if self.delay_reject:
            return None
        reply = self._run("smtpd_client_restrictions", ctx, None, None)
        return None if reply is None else Reply(reply.code, reply.lines, close=True)

    def check_helo(self, ctx: SmtpContext, hostname: str) -> Reply | None:
        if self.delay_reject:
            return None
        saved, ctx.helo = ctx.helo, hostname
        try:
            return self._run("smtpd_helo_restrictions", ctx, None, None)
        finally:
            ctx.helo = saved

    def check_mail(self, ctx: SmtpContext, path: MailPath) -> Reply | None:
        if self.delay_reject:
            return None
        saved, ctx.sender = ctx.sender, path
        try:
            return self._run("smtpd_sender_restrictions", ctx, None, None)
        finally:
            ctx.sender = saved

    def check_rcpt(self, ctx: SmtpContext, path: MailPath, resolution: Resolution) -> Reply | None:
        address = path.address
        if address is not None and address.domain is None and address.local.lower() == "postmaster":
            return None  # smtpd_check.c: always OK for the bare postmaster (RFC 5321 §4.5.1)
        keys = _LISTS if self.delay_reject else _LISTS[3:]
        for key in keys:
            reply = self._run(key, ctx, path, resolution)
            if reply is not None:
                return reply
        return None

    def check_data(self, ctx: SmtpContext) -> Reply | None:
        return self._run("smtpd_data_restrictions", ctx, None, None)

    def describe(self) -> str:
        parts = [f"{key} = {', '.join(map(str, words))}" for key, words in self.lists.items() if words]
        return "; ".join(parts)
