"""nmap's ``smtp-open-relay`` tests, run against every preset: which address forms each product relays.

nmap's script tries 16 pairs of ``MAIL FROM`` / ``RCPT TO`` against a
server and takes a 2xx reply to ``RCPT`` as a sign of an open relay (a sign,
not a proof: some servers accept and then discard). The defaults are
``from = antispam``, ``to = relaytest``; ``D`` is a foreign domain, ``S`` the
server's name and ``IP`` its address. Test 3, ``from@S -> to@D``, is the
forum's spoofed-Postmaster trick (S4); tests 5-16 hide the foreign domain
behind the percent hack (``to%D@S``), quotes (``"to@D"``), a second ``@``,
source routes (``@S:to@D``) and UUCP bang paths (``D!to``), which RFC 2505
§2.1 asks a relay to see through.

Each test runs on a fresh server built with the site's settings
(:func:`simlab.scenarios.site.site_server`), from an outside client, as
EHLO, MAIL, RCPT; the table keeps the reply code that ended the test: the
reply to RCPT, or the reply to MAIL when the server refused the sender -
nmap's script sends RCPT only after a ``250`` to MAIL and otherwise moves on
to the next test (``smtp-open-relay.nse``), so such a test never reaches a
relay decision (Exim refuses nmap's sender ``antispam@[IP]`` of tests 4-16
at MAIL: domain literals are off by default). :func:`run_nmap_script` plays
the script as nmap runs it, all 16 tests in one session with ``RSET``
between them, and says what nmap would print. The EIMS and SIMS
servers get the server's own name as a local domain besides the site's
domain, as the thread's admin had it (``Postmaster@mail.mycompany.co.jp``
passed EIMS's relay rule because that host name was local); Postfix has it
through ``mydestination = $myhostname``.

:func:`explain` says in plain words why a product accepted or refused one
form, from its own resolver (in the current language, :mod:`simlab.i18n`, ids ``relaytests.*``; replies,
addresses and what nmap prints stay as written): EIMS and SIMS read only the domain after the
last ``@``; Postfix reads the unquoted form, drops source routes, applies the
percent hack and bang paths, and then decides by the client's address or
login (:mod:`simlab.addresses.routing`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simlab import products
from simlab.addresses.mail import AddressSyntaxError, is_valid_domain, parse_address
from simlab.addresses.networks import parse_ip
from simlab.addresses.routing import Destination, LastDomainResolver, Resolution
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.reply import Reply
from simlab.protocol.server import MailServer
from simlab.scenarios.site import DOMAIN, HOSTNAME, SERVER_IP, site_server

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["RelayTest", "RelayTestRun", "RELAY_TESTS", "DEFAULT_PRESETS", "relay_test_table", "run_relay_test",
           "explain", "column_name", "short_reason", "reason_table", "relay_test_bars", "NmapScriptRun",
           "run_nmap_script"]

#: Every registered product, in the registry's order (when this module loads).
DEFAULT_PRESETS = products.names()
OUTSIDE_CLIENT = "203.0.113.7"
FOREIGN_DOMAIN = "nmap.scanme.test"


@dataclass(frozen=True)
class RelayTest:
    """One of nmap's 16 tests: the MAIL FROM and RCPT TO templates, and their short form."""

    number: int
    mail_from: str
    rcpt_to: str

    @property
    def form(self) -> str:
        """The test as nmap's documentation writes it: ``from@S -> to@D``."""
        return f"{_short(self.mail_from)} → {_short(self.rcpt_to)}"

    def addresses(self, domain: str, server_name: str = HOSTNAME, server_ip: str = SERVER_IP,
                  sender: str = "antispam", recipient: str = "relaytest") -> tuple[str, str]:
        """The two paths as sent, angle brackets included."""
        values = {"frm": sender, "to": recipient, "D": domain, "S": server_name, "IP": server_ip}
        return self.mail_from.format(**values), self.rcpt_to.format(**values)


def _short(template: str) -> str:
    return template.strip("<>").replace("{frm}", "from").replace("{to}", "to").replace("{D}", "D") \
        .replace("{S}", "S").replace("{IP}", "IP") or "<>"


_ROUTED_FROM = "<{frm}@[{IP}]>"

#: nmap's tests in its order (``smtp-open-relay.nse``).
RELAY_TESTS: tuple[RelayTest, ...] = tuple(RelayTest(n, frm, rcpt) for n, (frm, rcpt) in enumerate((
    ("<>", "<{to}@{D}>"),
    ("<{frm}@{D}>", "<{to}@{D}>"),
    ("<{frm}@{S}>", "<{to}@{D}>"),
    (_ROUTED_FROM, "<{to}@{D}>"),
    (_ROUTED_FROM, "<{to}%{D}@[{IP}]>"),
    (_ROUTED_FROM, "<{to}%{D}@{S}>"),
    (_ROUTED_FROM, '<"{to}@{D}">'),
    (_ROUTED_FROM, '<"{to}%{D}">'),
    (_ROUTED_FROM, "<{to}@{D}@[{IP}]>"),
    (_ROUTED_FROM, '<"{to}@{D}"@[{IP}]>'),
    (_ROUTED_FROM, "<{to}@{D}@{S}>"),
    (_ROUTED_FROM, "<@[{IP}]:{to}@{D}>"),
    (_ROUTED_FROM, "<@{S}:{to}@{D}>"),
    (_ROUTED_FROM, "<{D}!{to}>"),
    (_ROUTED_FROM, "<{D}!{to}@[{IP}]>"),
    (_ROUTED_FROM, "<{D}!{to}@{S}>"),
), start=1))


@dataclass
class RelayTestRun:
    """One test against one server: the replies, the dialogue, the log, and how the server read the recipient.

    ``rcpt_reply`` is None when the server refused the sender at MAIL: nmap then sends no RCPT.
    """

    test: RelayTest
    preset: str
    client_ip: str
    mail_from: str
    rcpt_to: str
    mail_reply: Reply
    rcpt_reply: Reply | None
    transcript: list[str]
    log: list[str]
    resolution: Resolution | None
    server: MailServer

    @property
    def refused_at_mail(self) -> bool:
        """Whether the server refused the sender, so that the test ended at MAIL without a RCPT."""
        return self.rcpt_reply is None

    @property
    def reply(self) -> Reply:
        """The reply that ended the test: RCPT's, or MAIL's when the sender was refused."""
        return self.mail_reply if self.rcpt_reply is None else self.rcpt_reply

    @property
    def accepted(self) -> bool:
        """nmap's rule: a 2xx to RCPT suggests an open relay."""
        return self.rcpt_reply is not None and 200 <= self.rcpt_reply.code < 300


def column_name(preset: str, settings: Mapping[str, Any] | None = None) -> str:
    """A table column's name: the preset, and the settings that differ from the site's."""
    if not settings:
        return preset
    parts = [f"{k}={_short_value(v)}" for k, v in settings.items()]
    return f"{preset} ({', '.join(parts)})"


def _short_value(value: Any) -> str:
    if value is True:
        return "on"
    if value is False:
        return "off"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value)) or "none"
    return str(value)


def _site_settings(preset: str, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    # A product with a plain list of local domains gets the server's own name in it, as the thread's admin had it.
    listed = "local_domains" in products.get(preset).setting_names
    base: dict[str, Any] = {"local_domains": [DOMAIN, HOSTNAME]} if listed else {}
    if settings is not None and not isinstance(settings, Mapping):
        raise ConfigError(f"settings for {preset}", settings, t("relaytests.error.not_settings"),
                          t("relaytests.expected.settings"))
    return base | dict(settings or {})


def _check_inputs(client_ip: str, domain: str) -> tuple[str, str]:
    ip = str(parse_ip(client_ip, "client_ip"))
    if not isinstance(domain, str) or not domain.strip() or not is_valid_domain(domain.strip()) \
            or domain.strip().startswith("["):
        raise ConfigError("domain", domain, t("address.error.not_a_domain"), t("relaytests.expected.foreign_domain"))
    return ip, domain.strip().lower()


def _test(number: int) -> RelayTest:
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(RELAY_TESTS):
        raise ConfigError("test_number", number, t("relaytests.error.not_a_test"), t("relaytests.expected.test"))
    return RELAY_TESTS[number - 1]


def run_relay_test(preset: str, test_number: int, client_ip: str = OUTSIDE_CLIENT, domain: str = FOREIGN_DOMAIN,
                   settings: Mapping[str, Any] | None = None) -> RelayTestRun:
    """Run one of nmap's tests on a fresh site server: EHLO, MAIL FROM and RCPT TO as the test says.

    As nmap's script does, RCPT is sent only when MAIL got a 2xx; otherwise the test ends at MAIL.
    """
    test = _test(test_number)
    ip, domain = _check_inputs(client_ip, domain)
    server = site_server(preset, _site_settings(preset, settings))
    mail_from, rcpt_to = test.addresses(domain)
    session = server.smtp_session(client_ip=ip)
    session.send("EHLO nmap.scanme.test")
    mail_reply = session.send(f"MAIL FROM:{mail_from}")
    rcpt_reply = None
    if 200 <= mail_reply.code < 300 and not session.closed:
        rcpt_reply = session.send(f"RCPT TO:{rcpt_to}")
    if not session.closed:
        session.send("QUIT")
    resolution = None
    if rcpt_reply is not None:
        try:
            resolution = server.resolver.resolve(parse_address(rcpt_to[1:-1]))
        except AddressSyntaxError:
            resolution = None
    return RelayTestRun(test, preset, ip, mail_from, rcpt_to, mail_reply, rcpt_reply, list(session.transcript),
                        list(server.log), resolution, server)


def _normalise(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def relay_test_table(presets: Iterable[str | tuple[str, str, Mapping[str, Any]]] = DEFAULT_PRESETS,
                     client_ip: str = OUTSIDE_CLIENT, domain: str = FOREIGN_DOMAIN,
                     **settings_by_preset: Mapping[str, Any]) -> pd.DataFrame:
    """nmap's 16 relay tests against each preset: the reply code each one gave at RCPT.

    Args:
        presets: preset names; an item may also be ``(column, preset, settings)`` to show one
            product twice, e.g. ``("EIMS 2.1 + Relay Restriction", "eims-2.1", {"relay_restriction": True})``.
        client_ip: where the tests come from (default: outside the site).
        domain: ``D``, the foreign domain the tests try to reach.
        settings_by_preset: product settings per preset, keyed by the preset's name with its
            punctuation dropped or replaced by ``_``: ``eims_2_1={"relay_restriction": True}``.

    Returns:
        One row per test (index ``test``, 1-16): ``form`` (nmap's notation), ``rcpt_to`` (as sent),
        and one column per preset with the reply code that ended the test: RCPT's, or MAIL's when
        the server refused the sender (nmap then sends no RCPT). ``table.attrs["refused_at_mail"]``
        maps each column to the tests that ended at MAIL. A 2xx suggests an open relay.
    """
    import pandas as pd

    by_key = {_normalise(k): v for k, v in settings_by_preset.items()}
    names = products.names()
    unknown = sorted(set(by_key) - {_normalise(p) for p in names})
    if unknown:
        raise ConfigError("settings", ", ".join(unknown), t("relaytests.error.names_no_preset"),
                          t("expected.one_of", choices=", ".join(k.replace("-", "_").replace(".", "_") for k in names)))
    columns: list[tuple[str, str, Mapping[str, Any] | None]] = []
    for item in [presets] if isinstance(presets, str) else presets:
        if isinstance(item, tuple):
            if len(item) != 3:
                raise ConfigError("presets", item, t("relaytests.error.not_a_triple"), t("relaytests.expected.triple"))
            columns.append((str(item[0]), item[1], item[2]))
        else:
            columns.append((item, item, by_key.get(_normalise(str(item)))))
    if not columns:
        raise ConfigError("presets", presets, t("relaytests.error.empty"),
                          t("relaytests.expected.some_of", choices=", ".join(products.names())))
    ip, domain = _check_inputs(client_ip, domain)
    rows = []
    at_mail: dict[str, list[int]] = {column: [] for column, _preset, _settings in columns}
    for test in RELAY_TESTS:
        row: dict[str, Any] = {"test": test.number, "form": test.form, "rcpt_to": test.addresses(domain)[1]}
        for column, preset, settings in columns:
            run = run_relay_test(preset, test.number, ip, domain, settings)
            row[column] = run.reply.code
            if run.refused_at_mail:
                at_mail[column].append(test.number)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("test")
    table.attrs["client_ip"] = ip
    table.attrs["domain"] = domain
    table.attrs["refused_at_mail"] = at_mail
    return table


# --- explanations ----------------------------------------------------------------------------
_UNKNOWN_USER = ("No such user", "unknown user", "User unknown")


def _trusted() -> str:
    """The few words of :meth:`~simlab.products.base.Product.why_relayed` for a client the product trusts."""
    return t("product.why_relayed.trusted.short")


def _reading(run: RelayTestRun) -> str:
    """How the product read the recipient, in one clause."""
    res = run.resolution
    address = parse_address(run.rcpt_to[1:-1])
    server = run.server
    product = server.persona.product
    written = run.rcpt_to
    if run.refused_at_mail:
        return t("relaytests.reading.not_sent", product=product, written=written)
    if res is None:
        return t("relaytests.reading.unreadable", product=product, written=written)
    if isinstance(server.resolver, LastDomainResolver):
        domains = ", ".join(sorted(server.resolver.local_domains))
        head = t("relaytests.reading.last_domain", product=product, written=written)
        if address.route:
            head += t("relaytests.reading.ignores_route", route=", ".join(address.route))
        if address.bare_domain is None:
            return t("relaytests.reading.no_domain", head=head, local=res.local_part)
        if res.is_local:
            what = (t("relaytests.reading.own_address") if address.literal_ip is not None
                    else t("relaytests.reading.local_domain"))
            marks = [repr(c) for c in "@%!" if c in res.local_part]
            tail = t("relaytests.reading.no_meaning", marks=t("relaytests.and").join(marks)) if marks else ""
            return t("relaytests.reading.local_user", head=head, domain=res.domain, what=what, local=res.local_part,
                     tail=tail)
        return t("relaytests.reading.foreign", head=head, domain=res.domain, domains=domains)
    steps = []
    if address.route:
        steps.append(t("relaytests.step.drops_route", route=", ".join(address.route)))
    if address.quoted:
        steps.append(t("relaytests.step.removes_quotes"))
    local = address.local
    if address.bare_domain is not None and server.resolver.is_local_domain(address.bare_domain) and "@" in local:
        steps.append(t("relaytests.step.strips_own_domain", domain=address.bare_domain, local=local))
    if "%" in local:
        steps.append(t("relaytests.step.percent_hack"))
    if "!" in local:
        steps.append(t("relaytests.step.bang_path"))
    how = t("relaytests.reading.unquoted", product=product, internal=address.internal)
    if steps:
        how = t("relaytests.reading.with_steps", how=how, steps=t("relaytests.step.separator").join(steps))
    where = {Destination.LOCAL: t("relaytests.where.local"), Destination.RELAY: t("relaytests.where.relay"),
             Destination.FOREIGN: t("relaytests.where.foreign")}[res.destination]
    routed = t("relaytests.where.routed") if res.routed else ""
    return t("relaytests.reading.ends_at", how=how, address=res.address, where=where, routed=routed)


def _relayed(run: RelayTestRun) -> tuple[str, str] | None:
    """Why the product relayed, from its registry entry: (sentence, a few words); None when it did not relay."""
    if not run.accepted or (run.resolution is not None and run.resolution.is_local):
        return None
    return products.product_of(run.server).why_relayed(run.server, run.client_ip, run.mail_from[1:-1])


def _verdict(run: RelayTestRun) -> str:
    """Why the product answered what it did, in one sentence."""
    if run.refused_at_mail:
        why = products.product_of(run.server).why_sender_refused(run.server, run.mail_from[1:-1], run.mail_reply)
        return t("relaytests.verdict.sender_refused", why=why[:1].upper() + why[1:])
    reply = run.reply
    code = reply.code
    said = f"{code} {reply.text}".strip()
    if 200 <= code < 300:
        if run.resolution is not None and run.resolution.is_local:
            return t("relaytests.verdict.mailbox_here", said=said)
        why, short = _relayed(run)
        why = why[:1].upper() + why[1:]
        if short == _trusted():
            return t("relaytests.verdict.trusted", why=why, said=said)
        return t("relaytests.verdict.relayed", why=why, said=said)
    if any(word in reply.text for word in _UNKNOWN_USER):
        return t("relaytests.verdict.unknown_user", said=said)
    product = products.product_of(run.server)
    if "elay" in reply.text and product.can(products.RELAY_CONTROL):
        return product.why_refused(run.server, run.client_ip, run.mail_from[1:-1], reply)
    return t("relaytests.verdict.answered", said=said)


def explain(preset: str, test_number: int, client_ip: str = OUTSIDE_CLIENT, domain: str = FOREIGN_DOMAIN,
            **settings: Any) -> str:
    """Why ``preset`` accepted or refused nmap's test ``test_number``, in plain words (the current language).

    >>> "nmap.scanme.test" in explain("postfix", 14)
    True
    """
    run = run_relay_test(preset, test_number, client_ip, domain, settings)
    rcpt = f"RCPT TO:{run.rcpt_to}" + (t("relaytests.not_sent") if run.refused_at_mail else "")
    return t("relaytests.explain", number=run.test.number, form=run.test.form, mail_from=run.mail_from, rcpt=rcpt,
             reading=_reading(run), verdict=_verdict(run))


def short_reason(run: RelayTestRun) -> str:
    """The reply code and a few words on why, for a table cell: ``550 unknown local user``."""
    reply = run.reply
    code = reply.code
    if run.refused_at_mail:
        why = t("relaytests.short.sender_refused")
    elif 200 <= code < 300:
        relayed = _relayed(run)
        why = t("relaytests.short.mailbox_here") if relayed is None else relayed[1]
    elif any(word in reply.text for word in _UNKNOWN_USER):
        why = t("relaytests.short.unknown_user")
    elif "elay" in reply.text:
        why = t("relaytests.short.relay_refused") if code >= 500 else t("relaytests.short.relay_refused_for_now")
    else:
        why = t("relaytests.short.refused")
    return f"{code} {why}"


def reason_table(test_numbers: Iterable[int], presets: Iterable[str | tuple[str, str, Mapping[str, Any]]]
                 = DEFAULT_PRESETS, client_ip: str = OUTSIDE_CLIENT, domain: str = FOREIGN_DOMAIN) -> pd.DataFrame:
    """A few of nmap's tests against each preset, one cell each: the reply code and a short reason.

    ``presets`` takes the same items as :func:`relay_test_table`; :func:`explain` gives the full story
    of one cell.
    """
    import pandas as pd

    columns = [(str(item[0]), item[1], item[2]) if isinstance(item, tuple) else (item, item, None)
               for item in ([presets] if isinstance(presets, str) else presets)]
    rows = []
    for number in test_numbers:
        test = _test(number)
        row: dict[str, Any] = {"test": test.number, "form": test.form}
        for column, preset, settings in columns:
            row[column] = short_reason(run_relay_test(preset, number, client_ip, domain, settings))
        rows.append(row)
    return pd.DataFrame(rows).set_index("test")


def relay_test_bars(table: pd.DataFrame, title: str = "") -> Figure:
    """How many of the tests in ``table`` (from :func:`relay_test_table`) each server accepted or refused.

    Drawn in the lessons' colours: orange as for spam relayed (a 2xx at RCPT looks like relaying,
    the bad outcome), teal as for spam refused.
    """
    from simlab import plots

    servers = [column for column in table.columns if column not in ("form", "rcpt_to")]
    rows = {name: {"spam_relayed": int((table[name] < 300).sum()), "spam_refused": int((table[name] >= 400).sum())}
            for name in servers}
    fig = plots.compare_bars(rows, keys=("spam_relayed", "spam_refused"), title=title)
    ax = fig.axes[0]
    names = (t("relaytests.bars.accepted"), t("relaytests.bars.refused"))
    for container, name in zip(ax.containers, names, strict=True):
        container.set_label(name)
    from matplotlib.ticker import MaxNLocator

    ax.set_ylim(0, len(table) * 1.4)  # room for the legend above the tallest bar
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(frameon=False, loc="upper left", ncols=2)
    ax.set_ylabel(t("relaytests.bars.tests"))
    return fig


# --- the script as nmap runs it: one session, RSET between the tests ------------------------------------------
@dataclass
class NmapScriptRun:
    """nmap's ``smtp-open-relay`` against one server, as the script runs it: what each test got and what nmap prints.

    ``steps`` holds, per test reached, ``(test number, reply to MAIL, reply to RCPT or None)``; ``relayed`` the
    tests that got a 2xx to RCPT; ``ended_early`` the test before which the server had closed the connection
    (None when all 16 ran); ``output`` the script's result line.
    """

    preset: str
    steps: list[tuple[int, Reply | None, Reply | None]]
    relayed: list[int]
    ended_early: int | None
    output: str
    transcript: list[str]
    log: list[str]


def run_nmap_script(preset: str, client_ip: str = OUTSIDE_CLIENT, domain: str = FOREIGN_DOMAIN,
                    settings: Mapping[str, Any] | None = None) -> NmapScriptRun:
    """Play nmap's ``smtp-open-relay`` script against a fresh site server, the way the script itself works.

    From the script's source (``scripts/smtp-open-relay.nse`` with ``nselib/smtp.lua``): one connection,
    ``EHLO``, then for each of the 16 tests ``RSET``, ``MAIL FROM``; ``RCPT TO`` only after a ``250`` to MAIL;
    a ``250``/``251`` to RCPT counts as relayed. A ``530`` ends the run ("authentication needed"); a
    connection the server closes ends it with smtp.lua's error text, which the script prints instead of a
    verdict when no test had relayed (a server that drops a client after too many errors, as Exim does after
    its fourth syntax error, stops the run there).
    """
    ip, domain = _check_inputs(client_ip, domain)
    server = site_server(preset, _site_settings(preset, settings))
    session = server.smtp_session(client_ip=ip)
    steps: list[tuple[int, Reply | None, Reply | None]] = []
    relayed: list[int] = []
    output = ""
    ended: int | None = None
    session.send(f"EHLO {domain}")
    for test in RELAY_TESTS:
        if session.closed:
            ended = test.number
            output = "SMTP RSET: failed to receive data: connection closed"
            break
        reset = session.send("RSET")
        if reset.code not in (200, 250):
            ended = test.number
            output = f"SMTP: RSET {reset.code} {reset.text}"
            break
        mail_from, rcpt_to = test.addresses(domain)
        mail = session.send(f"MAIL FROM:{mail_from}")
        rcpt = None
        if mail.code == 530:
            output = "Server isn't an open relay, authentication needed"
        elif mail.code == 250 and not session.closed:
            rcpt = session.send(f"RCPT TO:{rcpt_to}")
            if rcpt.code == 530:
                output = "Server isn't an open relay, authentication needed"
            elif rcpt.code in (250, 251):
                relayed.append(test.number)
        steps.append((test.number, mail, rcpt))
        if output:
            break
    if not session.closed:
        session.send("QUIT")
    if relayed:  # combinations found before an error are still reported
        found = f"Server is an open relay ({len(relayed)}/16 tests)"
        output = f"{found}; then: {output}" if output and ended else found
    elif not output:
        output = "Server doesn't seem to be an open relay, all tests failed"
    return NmapScriptRun(preset, steps, relayed, ended, output, list(session.transcript), list(server.log))
