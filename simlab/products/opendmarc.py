"""OpenDMARC 1.4.2 as Debian 12 ships it (package opendmarc 1.4.2-2+b1), a Postfix milter after OpenDKIM.

Debian's ``/etc/opendmarc.conf`` sets only the socket, ``PublicSuffixList``, ``Syslog true`` and the user;
everything else is OpenDMARC's default: ``RejectFailures false`` (it records, never refuses),
``HoldQuarantinedMessages false``, ``AuthservID`` = the host name, ``TrustedAuthservIDs`` = the
AuthservID, ``SPFSelfValidate false`` (it takes SPF from the ``Authentication-Results``/``Received-SPF``
fields others wrote), ``SPFIgnoreResults false``. What it does at end of message
(``opendmarc/opendmarc.c``, tag ``rel-opendmarc-1-4-2``, ``mlfi_eom()``):

* DKIM results from ``Authentication-Results`` fields of a trusted authserv-id (OpenDKIM's), SPF from
  such a field or else the first ``Received-SPF`` (policyd-spf's), with the MAIL FROM domain;
* the DMARC evaluation itself is :func:`simlab.auth.dmarc.evaluate` (policy discovery with the Public
  Suffix List, alignment, pct); this module words it;
* it logs ``<queue id>: <From domain> <result>`` (``none``, ``pass``, ``fail``, ``temperror``);
* with ``RejectFailures true``, a ``fail`` under ``p=reject`` whose pct draw says so (``random() % 100 <
  pct``) is refused ``550 5.7.1 rejected by DMARC policy for <policy domain>``; under ``p=quarantine``,
  with ``HoldQuarantinedMessages true`` too, it is held (``smfi_quarantine``, "quarantined by DMARC policy
  for ..."). Outside the pct sample the message is accepted with ``dis=none`` - OpenDMARC does not apply
  RFC 7489 §6.6.4's next-lower policy;
* unless it refused or deferred, it inserts ``Authentication-Results: <authserv-id>; dmarc=<result>
  (p=<policy> dis=<disposition>) header.from=<From domain>``; a record libopendmarc cannot parse (a bad
  tag value, e.g. ``pct=abc``) gives ``dmarc=permerror header.from=<domain>`` (libopendmarc refuses bad
  values, where RFC 7489 §6.3 would fall back to the default);
* a DNS failure is ``SMFIS_TEMPFAIL``, which Postfix's milter client answers ``451 4.7.1 Service
  unavailable - try again later`` (``src/milter/milter8.c``).

Modelling choice: the pct draw comes from the receiver's own random stream (:attr:`OpenDmarc.rng`; a
scenario gives it the world's stream for the receiving host), so it is the same at each seed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from simlab.auth import dmarc as auth_dmarc
from simlab.auth.results import parse as parse_results
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.milters import Milter, MilterVerdict, zone_of
from simlab.protocol.policy import SmtpContext
from simlab.protocol.reply import Reply

__all__ = ["OpenDmarc", "DEBIAN_CONF", "reject_reply", "ar_field"]

#: OpenDMARC's defaults under Debian 12's /etc/opendmarc.conf, for the settings simlab models.
DEBIAN_CONF = {"RejectFailures": False, "HoldQuarantinedMessages": False, "AuthservID": "",
               "TrustedAuthservIDs": (), "SPFIgnoreResults": False}


def reject_reply(policy_domain: str) -> Reply:
    """``dmarcf_setreply(ctx, "550", "5.7.1", "rejected by DMARC policy for <domain>")``."""
    return Reply.of(550, f"5.7.1 rejected by DMARC policy for {policy_domain}")


def ar_field(authserv_id: str, result: str, policy: str, disposition: str, from_domain: str) -> str:
    """The field OpenDMARC inserts: ``<id>; dmarc=<result> (p=<p> dis=<dis>) header.from=<domain>``."""
    return (f"Authentication-Results: {authserv_id}; dmarc={result} (p={policy} dis={disposition}) "
            f"header.from={from_domain}")


def _unfolded_fields(lines: list[str]):
    name, value = None, []
    for line in lines:
        if not line:
            break
        if line[:1] in (" ", "\t") and name is not None:
            value.append(line.strip())
            continue
        if name is not None:
            yield name, " ".join(value)
        key, sep, rest = line.partition(":")
        name, value = (key.strip().lower(), [rest.strip()]) if sep else (None, [])
    if name is not None:
        yield name, " ".join(value)


class OpenDmarc(Milter):
    """The ``opendmarc`` milter (``smtpd_milters = ..., local:opendmarc/opendmarc.sock``).

    Args:
        dns: what its resolver sees (a mapping, or the world's NetworkDns).
        settings: opendmarc.conf lines on top of Debian's: ``RejectFailures``, ``HoldQuarantinedMessages``,
            ``AuthservID``, ``TrustedAuthservIDs``, ``SPFIgnoreResults``.
        rng: the stream for pct draws (default: one of its own, seeded by its name).
    """

    process = "opendmarc"
    socket = "local:opendmarc/opendmarc.sock"
    pid = 812

    def __init__(self, dns: object = None, settings: Mapping[str, object] | None = None,
                 rng: random.Random | None = None) -> None:
        conf = dict(DEBIAN_CONF)
        for key, value in (settings or {}).items():
            if key not in DEBIAN_CONF:
                raise ConfigError("opendmarc", key, t("product.opendmarc.not_a_setting"),
                                  t("expected.one_of", choices=", ".join(DEBIAN_CONF)))
            if key in ("RejectFailures", "HoldQuarantinedMessages", "SPFIgnoreResults") and not isinstance(value,
                                                                                                            bool):
                raise ConfigError(f"opendmarc[{key!r}]", value, t("exercise.common.not_a_switch"),
                                  t("product.opendmarc.expected_switch"))
            conf[key] = value
        self.conf = conf
        self.dns = dns
        self.rng = rng or random.Random("opendmarc")

    def _inputs(self, fields: list[tuple[str, str]], trusted: set[str]):
        """SPF and DKIM as OpenDMARC learns them from the header fields (``(name, unfolded value)``):
        (spf result or None, [(dkim result, d)])."""
        spf = None
        dkim: list[tuple[str, str]] = []
        received_spf = None
        for name, value in fields:
            if name == "authentication-results":
                try:
                    parsed = parse_results(value)
                except Exception:  # "ignoring invalid Authentication-Results header"
                    continue
                if parsed.authserv_id.lower() not in trusted:
                    continue
                for r in parsed.get("dkim"):
                    if "header.d" in r.properties:
                        dkim.append((r.result, r.properties["header.d"]))
                for r in parsed.get("spf"):
                    if spf is None:
                        spf = r.result
            elif name == "received-spf" and received_spf is None:
                received_spf = value.split(" ", 1)[0].lower()
        if spf is None and not self.conf["SPFIgnoreResults"]:
            spf = received_spf
        return spf, dkim

    def end_of_message(self, ctx: SmtpContext, lines: list[str], server) -> MilterVerdict:
        qid = ctx.queue_id or "NOQUEUE"
        authserv = str(self.conf["AuthservID"] or server.hostname)
        trusted = {authserv.lower(), *(str(t).lower() for t in self.conf["TrustedAuthservIDs"])}
        fields = list(_unfolded_fields(lines))  # the header, read once
        from_value = next((v for n, v in fields if n == "from"), None)
        if from_value is None:
            return MilterVerdict(log=[f"{qid}: RFC5322 requirement error: missing From field; accepting"])
        domain = auth_dmarc.author_domain(from_value)
        if domain is None:
            return MilterVerdict(log=[f"{qid}: unable to parse From header field"])
        spf, dkim = self._inputs(fields, trusted)
        envelope = ctx.sender.address.domain if ctx.sender is not None and ctx.sender.address is not None else ""
        verdict = auth_dmarc.evaluate(domain, zone_of(self.dns), spf_result=spf or "none",
                                      spf_domain=(envelope or "").lower(), dkim=dkim, sample=self.rng)
        notify = getattr(server, "notify_verdict", None)
        if notify is not None:
            notify(ctx, "end-of-data", {"check": "dmarc", "result": verdict})
        if verdict.result == "temperror":
            return MilterVerdict(reply=Reply.of(451, "4.7.1 Service unavailable - try again later"),
                                 log=[f"{qid}: {domain} temperror"])
        if verdict.result == "permerror" or (verdict.record is not None and verdict.record.errors):
            errors = verdict.record.errors if verdict.record is not None else ()
            status = 5 if any(e.startswith("p is missing") for e in errors) else 4  # NO_REQUIRED_P, BAD_VALUE
            return MilterVerdict(insert=[f"Authentication-Results: {authserv}; dmarc=permerror header.from={domain}"],
                                 log=[f"{qid}: opendmarc_policy_query_dmarc({domain}) returned status {status}"])
        policy = verdict.policy if verdict.record is not None else "none"
        disposition = "none"
        if verdict.result == "fail" and verdict.sampled and self.conf["RejectFailures"]:
            if policy == "reject":
                return MilterVerdict(reply=reject_reply(verdict.policy_domain), log=[f"{qid}: {domain} fail"])
            if policy == "quarantine" and self.conf["HoldQuarantinedMessages"]:
                disposition = "quarantine"
        result = verdict.result
        insert = [ar_field(authserv, result, policy, disposition, domain)]
        hold = f"quarantined by DMARC policy for {verdict.policy_domain}" if disposition == "quarantine" else None
        return MilterVerdict(insert=insert, hold=hold, log=[f"{qid}: {domain} {result}"])

    def describe(self) -> str:
        return f"OpenDMARC (RejectFailures {'true' if self.conf['RejectFailures'] else 'false'})"
