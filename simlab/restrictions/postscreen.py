"""Postfix postscreen(8): a screen in front of port 25's smtpd, and only port 25's.

postscreen takes the ``smtp inet`` entry of ``master.cf`` (``smtp inet n - n - 1 postscreen``) and talks
to each new client before any smtpd does: a DNS blocklist score, a pregreet test, and more. A client
that passes is handed to an smtpd. The submission entries (587, 465) stay plain ``smtpd``: postscreen
never sees them, and neither does it see POP3 - so against password spraying on the submission ports it
does nothing at all. That is the point of modelling it here.

What simlab models (Postfix 3.7 ``src/postscreen/postscreen.c``, ``postscreen_early.c``,
``postscreen_misc.c``), with ``postscreen_dnsbl_sites`` naming one list whose answer is "listed" for the
addresses in ``listed``, ``postscreen_dnsbl_threshold = 1`` and ``postscreen_dnsbl_action = drop``::

    postfix/postscreen[1900]: CONNECT from [203.0.113.5]:40001 to [192.0.2.25]:25
    postfix/postscreen[1900]: DNSBL rank 1 for [203.0.113.5]:40001
    postfix/postscreen[1900]: DISCONNECT [203.0.113.5]:40001

and the client gets ``521 5.7.1 Service unavailable; client [203.0.113.5] blocked using <zone>``
(``PSC_DNSBL_FORMAT``). A client that is not listed passes (``PASS NEW``) to smtpd.

Modelling choices: the client's port is ``40000 + session number`` (not simulated); the pregreet and
deep-protocol tests are left out; simlab's smtpd writes its ``connect from`` line before any restriction
runs and its ``NOQUEUE: reject: CONNECT`` line after a refusal at connect, so a dropped client's log also
shows those two smtpd lines (real smtpd never sees such a client).
"""

from __future__ import annotations

from collections.abc import Iterable

from simlab.addresses.networks import ClientNetworks
from simlab.i18n import t
from simlab.protocol.policy import Restriction, SmtpContext
from simlab.protocol.reply import Reply

__all__ = ["Postscreen", "POSTSCREEN_PID"]

#: The process id postscreen's lines carry (one postscreen process serves every port-25 client).
POSTSCREEN_PID = 1900


class Postscreen(Restriction):
    """postscreen on port 25 with one DNS blocklist that lists ``listed``.

    Args:
        listed: networks the blocklist answers "listed" for (a botnet's addresses, say).
        zone: the list's name, as ``postscreen_dnsbl_sites`` gives it.
        site_ip: the server address postscreen logs (``to [addr]:25``).
    """

    name = "postscreen"

    def __init__(self, listed: Iterable[str] | str = (), zone: str = "zen.dnsbl.test",
                 site_ip: str = "192.0.2.25") -> None:
        self.listed = ClientNetworks(listed, setting="postscreen_dnsbl_sites")
        self.zone = zone
        self.site_ip = site_ip
        self.dropped = 0
        self.passed = 0

    def check_connect(self, ctx: SmtpContext) -> Reply | None:
        if ctx.port != 25:
            return None  # submission (587) and submissions (465) are smtpd entries of their own
        server, client = ctx.server, f"[{ctx.client_ip}]:{40000 + ctx.session_id}"
        server.log_line(f"CONNECT from {client} to [{self.site_ip}]:25", "postscreen", POSTSCREEN_PID)
        if ctx.client_ip in self.listed:
            self.dropped += 1
            server.log_line(f"DNSBL rank 1 for {client}", "postscreen", POSTSCREEN_PID)
            server.log_line(f"DISCONNECT {client}", "postscreen", POSTSCREEN_PID)
            return Reply.of(521, f"5.7.1 Service unavailable; client [{ctx.client_ip}] blocked using {self.zone}",
                            close=True)
        self.passed += 1
        server.log_line(f"PASS NEW {client}", "postscreen", POSTSCREEN_PID)
        return None

    def describe(self) -> str:
        return t("spraying.describe.postscreen", zone=self.zone)
