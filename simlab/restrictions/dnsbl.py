"""DNS blocklists (RFC 5782), with a simulated DNS.

A client address ``a.b.c.d`` is looked up as ``d.c.b.a.<zone>``: any A record
means "listed", and the TXT record says why. RFC 5782 §5 requires every IPv4
list to list 127.0.0.2 (a test entry) and never 127.0.0.1: a list that fails
this self-test - for instance one that refuses your resolver and answers
"listed" for everything - must not be used, or all mail is refused.

* :class:`BlocklistZone` - one zone; ``answers_everything=True`` models the
  broken or hostile list.
* :class:`Dns` - the simulated resolver: blocklist zones by name.
* :class:`RblClient` - refuse listed clients (Postfix ``reject_rbl_client``
  wording by default; SIMS used its own). Postfix does no self-test; with
  ``self_test=True`` a zone that fails it is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from simlab.addresses.mail import MailPath, is_valid_domain
from simlab.addresses.networks import parse_ip
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.policy import Restriction, SmtpContext
from simlab.protocol.reply import Reply

__all__ = ["BlocklistZone", "Dns", "RblClient", "reversed_query"]


def reversed_query(ip: str, zone: str) -> str:
    """The DNS name RFC 5782 §2.1 queries: ``7.113.0.203.zone`` for 203.0.113.7."""
    addr = ipaddress.ip_address(str(ip))
    if addr.version == 4:
        labels = ".".join(reversed(str(addr).split(".")))
    else:
        labels = ".".join(reversed(addr.exploded.replace(":", "")))
    return f"{labels}.{zone}"


class BlocklistZone:
    """One DNSBL zone.

    Args:
        name: the zone, e.g. ``"bl.example.test"``.
        listed: listed client addresses, or a mapping address → A record
            (default answer ``127.0.0.2``). The RFC 5782 test entry 127.0.0.2
            is always listed.
        reason: the TXT text (``{ip}`` is replaced by the address).
        answers_everything: a broken list that says "listed" for any query.
    """

    def __init__(self, name: str, listed: Iterable[str] | Mapping[str, str] = (),
                 reason: str = "Listed; see https://bl.example.test/query/{ip}",
                 answers_everything: bool = False) -> None:
        if not isinstance(name, str) or not is_valid_domain(name) or name.startswith("["):
            raise ConfigError("rbl zone", name, t("restriction.dnsbl.error.not_a_zone"),
                              t("restriction.dnsbl.expected.zone"))
        self.name = name.lower().rstrip(".")
        entries = listed.items() if isinstance(listed, Mapping) else ((ip, "127.0.0.2") for ip in listed)
        self.entries = {str(parse_ip(ip, f"{self.name}.listed")): answer for ip, answer in entries}
        self.entries.setdefault("127.0.0.2", "127.0.0.2")
        self.reason = reason
        self.answers_everything = answers_everything
        self.queries = 0

    def lookup(self, ip: object) -> str | None:
        """The A record for ``ip`` (``None``: not listed, NXDOMAIN)."""
        self.queries += 1
        if self.answers_everything:
            return "127.0.0.2"
        return self.entries.get(str(ip))

    def txt(self, ip: object) -> str:
        return self.reason.format(ip=ip)

    def self_test(self) -> tuple[bool, str]:
        """RFC 5782 §5: 127.0.0.2 listed and 127.0.0.1 not. Returns ``(ok, explanation)``, the explanation in
        the current language (:mod:`simlab.i18n`)."""
        outcome = self._self_test()
        if outcome == "lists_everything":
            return False, t("restriction.dnsbl.self_test.lists_everything", zone=self.name)
        if outcome == "misses_test_address":
            return False, t("restriction.dnsbl.self_test.misses_test_address", zone=self.name)
        return True, t("restriction.dnsbl.self_test.passes", zone=self.name)

    def _self_test(self) -> str:
        """The self-test's outcome as a word (what a lookup needs, without the words for a person)."""
        if self.lookup("127.0.0.1") is not None:
            return "lists_everything"
        if self.lookup("127.0.0.2") is None:
            return "misses_test_address"
        return "passes"


class Dns:
    """The simulated DNS: blocklist zones by name (other lookups are the network's business)."""

    def __init__(self, zones: Iterable[BlocklistZone] = ()) -> None:
        self.zones = {zone.name: zone for zone in zones}

    def blocklist(self, name: str) -> BlocklistZone | None:
        return self.zones.get(name.lower().rstrip("."))


class RblClient(Restriction):
    """Refuse clients listed in a DNS blocklist (checked at RCPT, after MAIL as with ``smtpd_delay_reject``).

    Args:
        zones: zone names to query, in order.
        dns: the simulated DNS holding them.
        self_test: skip a zone that fails the RFC 5782 self-test.
        stage: ``"RCPT"`` (Postfix) or ``"MAIL"``.
    """

    name = "DNS blocklist"

    def __init__(self, zones: Iterable[str], dns: Dns, self_test: bool = False, stage: str = "RCPT") -> None:
        self.zone_names = tuple(z.lower().rstrip(".") for z in zones)
        for zone in self.zone_names:
            if not is_valid_domain(zone):
                raise ConfigError("rbl_zones", zone, t("restriction.dnsbl.error.not_a_zone"),
                                  t("restriction.dnsbl.expected.zone"))
        if stage not in ("MAIL", "RCPT"):
            raise ConfigError("rbl stage", stage, t("restriction.dnsbl.error.not_a_stage"),
                              t("restriction.dnsbl.expected.stage"))
        self.dns = dns
        self.self_test = self_test
        self.stage = stage

    def listing(self, ip: object) -> tuple[BlocklistZone, str] | None:
        """The first usable zone listing ``ip`` and its answer, or ``None``."""
        for name in self.zone_names:
            zone = self.dns.blocklist(name)
            if zone is None:
                continue
            if self.self_test and zone._self_test() != "passes":
                continue
            answer = zone.lookup(ip)
            if answer is not None:
                return zone, answer
        return None

    def _refuse(self, ctx: SmtpContext) -> Reply | None:
        hit = self.listing(ctx.client_ip)
        if hit is None:
            return None
        return ctx.server.persona.rbl_rejected(str(ctx.client_ip), hit[0].name, hit[0].txt(ctx.client_ip))

    def check_mail(self, ctx: SmtpContext, path: MailPath) -> Reply | None:
        return self._refuse(ctx) if self.stage == "MAIL" else None

    def check_rcpt(self, ctx: SmtpContext, path: MailPath, resolution) -> Reply | None:
        return self._refuse(ctx) if self.stage == "RCPT" else None

    def describe(self) -> str:
        return t("restriction.dnsbl.describe", zones=", ".join(self.zone_names))
