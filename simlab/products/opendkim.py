"""OpenDKIM 2.11.0~beta2 as Debian 12 ships it (package opendkim 2.11.0~beta2-8+deb12u1), a Postfix milter.

Debian's ``/etc/opendkim.conf``: ``Syslog yes``, ``SyslogSuccess yes``, ``Canonicalization relaxed/simple``,
``OversignHeaders From``, ``Socket local:/run/opendkim/opendkim.sock``, ``TrustAnchorFile
/usr/share/dns/root.key``; no ``Mode`` (so ``sv``: sign and verify), no ``Domain``/``KeyFile`` (so it
signs nothing until the admin adds them, with ``Selector``), ``InternalHosts`` left at its default
(127.0.0.1). It signs a message from an internal host or an authenticated client whose From: domain is in
``Domain``; it verifies the others. Signing and verifying are :mod:`simlab.auth.dkim` (dkimpy); this module
words them as OpenDKIM does (``opendkim/opendkim.c`` of the 2.11.0-Beta2 tag):

* signing logs ``<qid>: DKIM-Signature field added (s=<selector>, d=<domain>)`` and inserts the field at
  the top;
* a good signature logs ``<qid>: DKIM verification successful`` (``SyslogSuccess``), a bad one
  ``<qid>: bad signature data``; nothing is logged for an unsigned message (``no signature data`` only
  with ``LogWhy``);
* the verdict is an ``Authentication-Results:`` field, folded after the authserv-id
  (``DELIMITER "\\n\\t"``): ``dkim=<result>[ reason="..."] (<bits>-bit key; unprotected) header.d=<d>
  header.i=<i> header.a=<a> header.s=<s> header.b=<8 characters>``. ``unprotected``: with the trust anchor
  Debian sets, a key from an unsigned zone is DNSSEC-insecure (the simulated DNS has no DNSSEC). An
  unsigned message gets no field (``AlwaysAddARHeader`` is off). A failed signature's reason is
  libopendkim's ``signature verification failed``; a missing key is ``permerror``.
* ``AuthservID`` defaults to the host name (here: the server's ``myhostname``).

Modelling choice: only the lesson keys of ``simlab/data/dkim`` can sign (``KeyFile`` names one of them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from simlab.addresses.networks import ClientNetworks
from simlab.auth import dkim as auth_dkim
from simlab.auth.dmarc import author_domain
from simlab.auth.results import header_b
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.milters import Milter, MilterVerdict, unix_time, zone_of
from simlab.protocol.policy import SmtpContext

__all__ = ["OpenDkim", "DEBIAN_CONF", "ar_field"]

#: The settings of Debian 12's /etc/opendkim.conf that simlab models, and OpenDKIM's defaults for the rest.
DEBIAN_CONF = {"Mode": "sv", "Domain": (), "Selector": "", "KeyFile": "", "InternalHosts": ("127.0.0.1",),
               "AuthservID": "", "Canonicalization": "relaxed/simple", "OversignHeaders": "From"}

_REASONS = {"fail": "signature verification failed"}


def ar_field(authserv_id: str, verdicts) -> list[str]:
    """OpenDKIM's ``Authentication-Results:`` field, folded as it folds it (``dkimf_ar_all_sigs()``)."""
    parts = []
    for n, v in enumerate(verdicts):
        text = f"dkim={v.result}"
        if v.result in ("fail", "policy") and v.reason:
            text += f' reason="{_REASONS.get(v.result, v.reason)}"'
        if v.keybits:
            text += f" ({v.keybits}-bit key; unprotected)"
        text += f" header.d={v.domain} header.i={v.identity} header.a={v.algorithm} header.s={v.selector}"
        if v.b:
            text += f" header.b={header_b(v.b)}"
        parts.append(text if n == 0 else ";\n\t" + text)
    body = "".join(parts)
    return [f"Authentication-Results: {authserv_id};", *("\t" + body).split("\n")]


class OpenDkim(Milter):
    """The ``opendkim`` milter (``smtpd_milters = local:opendkim/opendkim.sock``).

    Args:
        dns: what its resolver sees (a mapping, or the world's NetworkDns).
        settings: opendkim.conf lines on top of Debian's: ``Mode`` (``s``, ``v``, ``sv``), ``Domain`` (the
            signing domains), ``Selector``, ``KeyFile`` (a lesson key: ``<domain>.<selector>``),
            ``InternalHosts`` (addresses or networks whose mail is signed), ``AuthservID``.
    """

    process = "opendkim"
    socket = "local:opendkim/opendkim.sock"
    pid = 811

    def __init__(self, dns: object = None, settings: Mapping[str, object] | None = None) -> None:
        conf = dict(DEBIAN_CONF)
        for key, value in (settings or {}).items():
            if key not in DEBIAN_CONF:
                raise ConfigError("opendkim", key, t("product.opendkim.not_a_setting"),
                                  t("expected.one_of", choices=", ".join(DEBIAN_CONF)))
            conf[key] = value
        if conf["Mode"] not in ("s", "v", "sv", "vs"):
            raise ConfigError("opendkim['Mode']", conf["Mode"], t("product.opendkim.not_a_mode"),
                              t("product.opendkim.expected_mode"))
        domains = conf["Domain"]
        conf["Domain"] = tuple(d.lower() for d in ([domains] if isinstance(domains, str) else domains))
        hosts = conf["InternalHosts"]
        self.internal = ClientNetworks([hosts] if isinstance(hosts, str) else list(hosts),
                                       setting="opendkim InternalHosts")
        if "s" in conf["Mode"] and conf["Domain"]:
            if not conf["Selector"]:
                raise ConfigError("opendkim['Selector']", conf["Selector"], t("product.opendkim.empty"),
                                  t("product.opendkim.expected_selector"))
            for domain in conf["Domain"]:
                auth_dkim.private_key(domain, str(conf["Selector"]))  # a ConfigError if simlab ships no such key
        self.conf = conf
        self.dns = dns

    def _signs(self, ctx: SmtpContext) -> bool:
        return "s" in self.conf["Mode"] and (ctx.user is not None or ctx.client_ip in self.internal)

    def end_of_message(self, ctx: SmtpContext, lines: list[str], server) -> MilterVerdict:
        qid = ctx.queue_id or "NOQUEUE"
        now = unix_time(server, ctx.now)
        if self._signs(ctx):
            domain = author_domain(_field(lines, "from"))
            if domain is None or domain not in self.conf["Domain"]:
                return MilterVerdict()
            selector = str(self.conf["Selector"])
            signature = auth_dkim.sign(lines, domain, selector, now=now)
            added = f"{qid}: DKIM-Signature field added (s={selector}, d={domain})"
            return MilterVerdict(insert=signature, log=[added])
        if "v" not in self.conf["Mode"]:
            return MilterVerdict()
        verdicts = auth_dkim.verify(lines, zone_of(self.dns), now=now)
        notify = getattr(server, "notify_verdict", None)
        if notify is not None:
            notify(ctx, "end-of-data", {"check": "dkim", "results": verdicts})
        if verdicts[0].result == "none":
            return MilterVerdict()
        log = []
        if any(v.result == "pass" for v in verdicts):
            log.append(f"{qid}: DKIM verification successful")
        elif any(v.result == "fail" for v in verdicts):
            log.append(f"{qid}: bad signature data")
        authserv = str(self.conf["AuthservID"] or server.hostname)
        return MilterVerdict(insert=ar_field(authserv, verdicts), log=log)

    def describe(self) -> str:
        signing = t("product.opendkim.signs", domains=", ".join(self.conf["Domain"]),
                    selector=self.conf["Selector"]) if self.conf["Domain"] else ""
        return f"OpenDKIM (Mode {self.conf['Mode']}{signing})"


def _field(lines: Iterable[str], name: str) -> str | None:
    for line in lines:
        if not line:
            return None
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name and not key.startswith((" ", "\t")):
            return value.strip()
    return None
