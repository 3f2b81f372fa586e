"""postfix-policyd-spf-python 3.0.4 as Debian 12 ships it: SPF at RCPT for Postfix.

Set up as Debian's ``README.Debian`` says: ``policyd-spf unix - n n - 0 spawn user=policyd-spf
argv=/usr/bin/policyd-spf`` in ``master.cf`` and ``check_policy_service unix:private/policyd-spf`` in
``smtpd_recipient_restrictions``, after ``reject_unauth_destination``. It runs on port 25 only: Debian's
submission entry replaces ``smtpd_recipient_restrictions`` (``permit_sasl_authenticated,reject``).

The decision is :func:`simlab.auth.spf.check_host`; this module words it as the program does. Sources:
``/etc/postfix-policyd-spf-python/policyd-spf.conf`` (``debugLevel = 1``, ``TestOnly = 1``,
``HELO_reject = Fail``, ``Mail_From_reject = Fail``, ``PermError_reject = False``,
``TempError_Defer = False``) and python3-spf-engine 3.0.4's ``spf_engine/__init__.py``,
``policyd_spf.py`` and ``policydspfsupp.py`` (defaults ``Header_Type = SPF``, ``Hide_Receiver = No``,
``SPF_Enhanced_Status_Codes = Yes``, ``Reason_Message = Message {rejectdefer} due to: {spf}. Please see
{url}``):

* The request's values are lower-cased (all but ``protocol_state``, ``protocol_name``, ``queue_id``),
  and the recipient is cut to its domain (``Hide_Receiver = No``).
* A ``Fail`` with ``Mail_From_reject = Fail`` is refused: ``action=550 5.7.23 Message rejected due to:
  SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=<sender>;ip=<ip>;r=<domain>``;
  Postfix turns it into ``550 5.7.23 <rcpt>: Recipient address rejected: <text>`` (smtpd_check.c,
  ``check_table_result``), and the program logs ``550 5.7.23 <text>``. ``5.7.24`` for a
  permerror/temperror refusal (RFC 7372 §3.2).
* Any other result is ``action=prepend Received-SPF: <Result> (mailfrom) identity=mailfrom;
  client-ip=<ip>; helo=<helo>; envelope-from=<sender>; receiver=<domain> `` (note the trailing space),
  logged as ``prepend Received-SPF: ...``, once per message (the instance cache answers ``dunno``
  for the next recipients).
* ``Mail_From_reject = False`` never refuses: the header is added and DMARC decides later. RFC 7489
  §10.1 warns about the other order: a receiver that applies SPF before DMARC may reject on a ``-all``
  before any DMARC processing takes place, and so lose mail - forwarded mail with a good DKIM signature -
  that DMARC would have passed.
* The explanation words are pyspf's (``SPF fail - not authorized``, ``sender SPF authorized`` ...).

Modelling choices: the HELO check is made only to refuse a HELO name whose own SPF says ``fail``
(``HELO_reject = Fail``); its ``Received-SPF`` for the HELO identity is not written, as the program
writes the MAIL FROM one when that result is not ``None``. ``skip_addresses`` (loopback) and
whitelists are not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from simlab.addresses.mail import MailPath
from simlab.addresses.networks import ClientNetworks, ip_text
from simlab.auth.spf import SpfChecker
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.milters import unix_time, zone_of
from simlab.protocol.policy import Restriction, SmtpContext
from simlab.protocol.reply import Reply

__all__ = ["DEBIAN_CONF", "PolicydSpf", "EXPLANATIONS", "received_spf", "reject_text"]

#: /etc/postfix-policyd-spf-python/policyd-spf.conf of Debian 12 (postfix-policyd-spf-python 3.0.4-2), and
#: the program defaults it relies on.
DEBIAN_CONF = {"debugLevel": "1", "TestOnly": "1", "HELO_reject": "Fail", "Mail_From_reject": "Fail",
               "PermError_reject": "False", "TempError_Defer": "False", "Header_Type": "SPF",
               "Hide_Receiver": "No"}
_CHOICES = {"HELO_reject": ("Fail", "False", "No_Check"), "Mail_From_reject": ("Fail", "Softfail", "False",
                                                                              "No_Check"),
            "PermError_reject": ("True", "False"), "TempError_Defer": ("True", "False"),
            "Header_Type": ("SPF", "AR"), "Hide_Receiver": ("Yes", "No"), "debugLevel": ("0", "1", "2"),
            "TestOnly": ("0", "1"), "Authserv_Id": None}

#: pyspf's explanation of each result (spf.py ``EXPLANATIONS``), which the reject text and header carry.
EXPLANATIONS = {"pass": "sender SPF authorized", "fail": "SPF fail - not authorized",
                "softfail": "domain owner discourages use of this host",
                "neutral": "access neither permitted nor denied", "none": "",
                "permerror": "permanent error in processing", "temperror": "temporary DNS error in processing"}


def reject_text(sender: str, ip: str, receiver: str, result: str, rejected: bool = True) -> str:
    """``Reason_Message`` with the openspf.net URL, as ``_rejectmessage()`` builds it."""
    url = f"http://www.openspf.net/Why?s=mfrom;id={sender};ip={ip};r={receiver}"
    return f"Message {'rejected' if rejected else 'deferred'} due to: {EXPLANATIONS[result]}. Please see {url}"


def received_spf(result: str, ip: str, helo: str, sender: str, receiver: str) -> str:
    """The ``Received-SPF:`` field (``Header_Type = SPF``), with the program's trailing space."""
    return (f"Received-SPF: {result.capitalize()} (mailfrom) identity=mailfrom; client-ip={ip}; helo={helo}; "
            f"envelope-from={sender}; receiver={receiver} ")


class PolicydSpf(Restriction):
    """``check_policy_service unix:private/policyd-spf`` on the given ports (Debian: 25 only).

    Args:
        dns: the DNS the program's resolver sees (a mapping as :func:`simlab.auth.spf.check_host` takes it,
            or the world's :class:`~simlab.engine.network.NetworkDns`).
        settings: policyd-spf.conf lines on top of Debian's (``{"Mail_From_reject": "False"}``).
        ports: where main.cf's ``smtpd_recipient_restrictions`` apply.
        trusted: ``mynetworks``, permitted before the policy service (as are authenticated clients).
    """

    name = "check_policy_service unix:private/policyd-spf"
    process = "policyd-spf"

    def __init__(self, dns: object = None, settings: Mapping[str, str] | None = None,
                 ports: Iterable[int] = (25,), trusted: ClientNetworks | Iterable[str] | None = None) -> None:
        self.dns = dns
        conf = dict(DEBIAN_CONF)
        for key, value in (settings or {}).items():
            if key not in _CHOICES:
                raise ConfigError("policyd_spf", key, t("product.policyd_spf.not_a_setting"),
                                  t("expected.one_of", choices=", ".join(_CHOICES)))
            choices = _CHOICES[key]
            value = str(value)
            if choices is not None and value not in choices:
                raise ConfigError(f"policyd_spf[{key!r}]", value, t("product.policyd_spf.not_a_value"),
                                  t("expected.one_of", choices=", ".join(choices)))
            conf[key] = value
        self.conf = conf
        self.ports = frozenset(int(p) for p in ports)
        # permit_mynetworks and permit_sasl_authenticated come first in smtpd_recipient_restrictions
        self.trusted = trusted if isinstance(trusted, ClientNetworks) else ClientNetworks(
            list(trusted or ()), setting="policyd_spf trusted")
        self.pid = 1801
        self._spf: SpfChecker | None = None

    def _checker(self) -> SpfChecker:
        """The SPF checker for the DNS the program sees now, kept while that DNS is unchanged, so that a run's
        repeated checks (the same spammer, sender and HELO name message after message) are evaluated once; the
        results are check_host's own (:class:`simlab.auth.spf.SpfChecker`)."""
        zone = zone_of(self.dns)
        if self._spf is None or not self._spf.serves(zone):
            self._spf = SpfChecker(zone)
        return self._spf

    def check_rcpt(self, ctx: SmtpContext, path: MailPath, resolution) -> Reply | None:
        if ctx.port not in self.ports or ctx.user is not None or ctx.client_ip in self.trusted:
            return None
        return self._check(ctx, path)

    def _check(self, ctx: SmtpContext, path: MailPath) -> Reply | None:
        conf = self.conf
        server = ctx.server
        spf = self._checker()
        ip = ip_text(ctx.client_ip)
        sender = (ctx.sender.address.external if ctx.sender is not None and ctx.sender.address is not None
                  else "").lower()
        helo = (ctx.helo or "").lower()
        recipient = path.address.external.lower() if path.address is not None else "none"
        receiver = "<UNKNOWN>" if conf["Hide_Receiver"] != "No" else recipient.rpartition("@")[2]
        now = unix_time(server, ctx.now)
        if conf["HELO_reject"] == "Fail" and helo and not helo.startswith("["):
            helo_result = spf.check_host(ip, f"postmaster@{helo}", helo, receiver=server.hostname, now=now)
            if helo_result == "fail" and conf["TestOnly"] != "0":
                text = (f"Message rejected due to: {EXPLANATIONS['fail']}. Please see "
                        f"http://www.openspf.net/Why?s=helo;id={helo};ip={ip};r={receiver}")
                return self._refuse(ctx, path, "5.7.23", text, helo_result)
        if not sender or conf["Mail_From_reject"] == "No_Check":
            return None
        result = spf.check_host(ip, sender, helo, receiver=server.hostname, now=now)
        refuse = {"Fail": ("fail",), "Softfail": ("fail", "softfail"), "False": (), "No_Check": ()}[
            conf["Mail_From_reject"]]
        if conf["PermError_reject"] == "True":
            refuse = (*refuse, "permerror")
        if str(result) in refuse and conf["TestOnly"] != "0":
            code = "5.7.24" if result in ("permerror", "temperror") else "5.7.23"
            return self._refuse(ctx, path, code, reject_text(sender, ip, receiver, str(result)), result)
        if result == "temperror" and conf["TempError_Defer"] == "True" and conf["TestOnly"] != "0":
            text = reject_text(sender, ip, receiver, "temperror", rejected=False)
            server.log_line(f"defer_if_permit 4.7.24 {text}", self.process, self.pid)
            self._notify(ctx, result, "defer")
            return Reply.of(450, f"4.7.24 <{path.address.external}>: Recipient address rejected: {text}")
        if getattr(ctx, "prepend", None):
            return None  # "Header already pre-pended": one Received-SPF per message
        header = received_spf(str(result), ip, helo, sender, receiver)
        ctx.prepend = [header]
        server.log_line(f"prepend {header}", self.process, self.pid)
        self._notify(ctx, result, "prepend")
        return None

    def _refuse(self, ctx: SmtpContext, path: MailPath, code: str, text: str, result) -> Reply:
        ctx.server.log_line(f"550 {code} {text}", self.process, self.pid)
        self._notify(ctx, result, "reject")
        return Reply.of(550, f"{code} <{path.address.external}>: Recipient address rejected: {text}")

    def _notify(self, ctx: SmtpContext, result, action: str) -> None:
        notify = getattr(ctx.server, "notify_verdict", None)
        if notify is not None:
            notify(ctx, "rcpt", {"check": "spf", "result": str(result), "action": action,
                                 "domain": getattr(result, "domain", "")})

    def describe(self) -> str:
        return (f"check_policy_service unix:private/policyd-spf (Mail_From_reject = "
                f"{self.conf['Mail_From_reject']})")
