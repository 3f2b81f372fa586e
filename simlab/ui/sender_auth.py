"""Lesson 11 panel: what example.com publishes, what yourcompany.test checks, and what each flow of mail meets.

The controls are the knobs of :func:`simlab.scenarios.sender_authentication`: the site's server (lesson 03's
EIMS 2.1 by default), its SPF record, DKIM signing (a server that can sign: Postfix with OpenDKIM), the
DMARC policy and pct; and on the receiving side, whether yourcompany.test checks at all, whether
policyd-spf refuses an SPF fail itself (Debian's default) and whether OpenDMARC acts on the policy. The
views: each flow's fate (delivered, held, refused), the DNS records published, one message as
yourcompany.test received it (its dialogue, the receiver's log lines for it and the header fields the
checks added), and the receiver's log.

Keeping up: a day replays in a few tens of milliseconds; the message menu only redraws the day shown
(``Panel(view_only=)``). A day the site signs with DKIM costs a few milliseconds of RSA per new signature
(dkimpy is pure Python): the first DKIM day at a seed is shown in the panel's busy state from the start, and
any other run still going after :data:`simlab.ui.common.BUSY_AFTER` shows it for the rest; signatures already
made are reused (:mod:`simlab.auth.dkim`), so most DKIM clicks after the first need no busy state.

Labels, tabs and messages come from the message catalogs (ids ``sender_auth.*``) in the language current when
the panel is built or a view is drawn; what the products write (dialogues, log lines, header fields, DNS
records) stays as they write it.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from simlab import products
from simlab.exercises.common import LazyTexts
from simlab.exercises.sender_auth import PATH_NAMES, flow_table
from simlab.i18n import t, tn
from simlab.plots.sender_auth import OUTCOME_COLOURS, OUTCOME_LABELS, arrived_and_lost
from simlab.scenarios import HOUR, run
from simlab.scenarios.sender_auth import YOURCOMPANY, sender_authentication
from simlab.ui.common import Panel, enable_by_product, log_html, product_menu, summary_html, transcript_html

__all__ = ["sender_auth_lab", "flows_html", "message_html", "dns_html", "LAB_HOURS", "DMARC_CHOICES", "KEYS",
           "VIEW_ONLY"]

#: The day's own counts shown beside the flows (spam relayed by the site, refused to its sender, staff mail lost).
KEYS = ("spam_relayed", "spam_refused", "legit_refused")
#: The panel replays half a day, so that it answers quickly.
LAB_HOURS = 12
#: The DMARC menu: (label, value); the labels in the language current when read.
DMARC_CHOICES = LazyTexts({"": lambda: t("sender_auth.dmarc.no_record"), "none": lambda: t("sender_auth.dmarc.none"),
                           "quarantine": lambda: "p=quarantine", "reject": lambda: "p=reject"})
_DKIM = products.DKIM_SIGNING
#: Controls that only choose what is shown: changing one redraws the same day, it does not replay it.
VIEW_ONLY = ("message",)
#: The (site product, seed) days already replayed with DKIM signing in this kernel: their signatures are kept
#: (:func:`simlab.auth.dkim.sign`), so only a first DKIM day is sure to be slow.
_SIGNED_DAYS: set[tuple[str, int]] = set()


def flows_html(result) -> str:
    """Each flow's fate as a small table with coloured cells."""
    table = flow_table(result)
    head = "".join(f"<th style='padding:2px 8px;background:{c}'>{html.escape(OUTCOME_LABELS[o])}</th>"
                   for o, c in OUTCOME_COLOURS.items())
    rows = []
    for (kind, path), counts in table.items():
        colour = "#b00020" if kind == "forged" else "#1b5e20"
        cells = "".join(f"<td style='text-align:right;padding:2px 8px'>{counts[o]}</td>" for o in OUTCOME_COLOURS)
        if kind == "forged":
            flow = t("sender_auth.flow.forged", path=PATH_NAMES[path])
        else:
            flow = t("sender_auth.flow.legit", path=PATH_NAMES[path])
        rows.append(f"<tr><td style='color:{colour};padding-right:12px'>{html.escape(flow)}</td>{cells}</tr>")
    forged, lost = arrived_and_lost(table)
    verdict = ("<p style='margin:6px 0'>"
               + t("sender_auth.verdict",
                   forged=tn("sender_auth.verdict.forged", forged, count_html="<b>" + str(forged) + "</b>"),
                   lost=tn("sender_auth.verdict.lost", lost, count_html="<b>" + str(lost) + "</b>")) + "</p>")
    return (f"<table style='font-size:12px;border-collapse:collapse'><tr><th></th>{head}</tr>{''.join(rows)}"
            f"</table>{verdict}")


def dns_html(result) -> str:
    """The TXT records the run published (SPF, DKIM key, DMARC policy)."""
    zone = result.world.dns.zone()
    rows = []
    for name, records in sorted(zone.items()):
        for kind, value in records:
            if kind == "TXT":
                shown = value if len(value) < 90 else value[:60] + " ... " + value[-12:]
                rows.append(f"<tr><td style='padding-right:12px'><code>{html.escape(name)}</code></td>"
                            f"<td><code>{html.escape(shown)}</code></td></tr>")
    if not rows:
        return "<p>" + html.escape(t("sender_auth.dns.nothing")) + "</p>"
    name, record = html.escape(t("sender_auth.dns.name")), html.escape(t("sender_auth.dns.record"))
    return f"<table style='font-size:12px'><tr><th>{name}</th><th>{record}</th></tr>{''.join(rows)}</table>"


#: Which session at yourcompany.test each choice shows: (actor, a word of its MAIL FROM line).
_SESSIONS = {"spoofing spammer": ("mail.example.com (relay)", "MAIL FROM:<Postmaster@"),
             "direct spoofer": ("direct spoofer", "MAIL FROM:<Postmaster@"),
             "bob to the forwarder": ("mail.remote.test (relay)", "MAIL FROM:<bob@")}


def _pick(result, which: str):
    actor, mail_from = _SESSIONS[which]
    for record in result.transcripts:
        if record.host == YOURCOMPANY and record.actor == actor and any(mail_from in line for line in record.lines):
            return record
    return None


def message_html(result, which: str = "spoofing spammer") -> str:
    """One message at yourcompany.test: its dialogue there, the receiver's log lines for it, and the header
    fields the checks added (the delivered copy's fields above yourcompany.test's ``Received:``)."""
    record = _pick(result, which)
    if record is None:
        return "<p>" + html.escape(t("sender_auth.message.no_session")) + "</p>"
    server = result.world.network.host(YOURCOMPANY).server
    start = record.start
    lines = [line for at, line in server.log_records if start <= at <= start + 5]
    actor = "<b>" + html.escape(record.actor) + "</b>"
    parts = ["<p>" + t("sender_auth.message.session", actor=actor, ip=record.client_ip) + "</p>",
             transcript_html(record.lines, height=180), "<p>" + html.escape(t("sender_auth.message.log")) + "</p>",
             log_html(lines, highlight=r"reject|fail|HOLD", height=120)]
    held = list(getattr(server, "held", ()))
    for message in [m for box in server.mailboxes.values() for m in box] + held:
        if start <= message.received_at <= start + 5 and message.client_ip == record.client_ip:
            top = []
            for line in message.lines:
                if line.startswith("Received:"):
                    break
                top.append(line)
            fields = t("sender_auth.message.fields_held") if message in held else t("sender_auth.message.fields")
            parts.append("<p>" + html.escape(fields) + "</p>")
            parts.append(transcript_html(top, height=120))
            break
    return "".join(parts)


def sender_auth_lab(preset: str = "eims-2.1", seed: int = 1) -> Panel:
    """SPF, DKIM and DMARC against the spoofed Postmaster, with the settings you choose.

    Controls: the site's server, its SPF record, DKIM signing, the DMARC policy and pct; the receiver's
    checks, policyd-spf's own refusal of an SPF fail, OpenDMARC's enforcement; the message to look at; the
    seed. It replays the first 12 hours of the day.
    """
    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(), "value": preset,
         "description": t("sender_auth.server"), "fallback": "eims-2.1"},
        {"name": "spf", "type": "Text", "value": "v=spf1 mx -all", "description": t("sender_auth.spf")},
        {"name": "dkim", "type": "Checkbox", "value": False,
         "description": t("sender_auth.dkim", products=t("ui.common.list_separator").join(
             p.label for p in products.with_capability(_DKIM)))},
        {"name": "dmarc", "type": "Dropdown", "options": [(label, value) for value, label in DMARC_CHOICES.items()],
         "value": "reject", "description": t("sender_auth.dmarc")},
        {"name": "pct", "type": "IntSlider", "value": 100, "min": 0, "max": 100, "description": "pct"},
        {"name": "receiver_checks", "type": "Checkbox", "value": True,
         "description": t("sender_auth.receiver_checks")},
        {"name": "spf_reject", "type": "Checkbox", "value": True,
         "description": t("sender_auth.spf_reject")},
        {"name": "dmarc_enforce", "type": "Checkbox", "value": True,
         "description": t("sender_auth.dmarc_enforce")},
        {"name": "message", "type": "Dropdown", "value": "spoofing spammer",
         "options": [(t("sender_auth.look.relayed"), "spoofing spammer"),
                     (t("sender_auth.look.direct"), "direct spoofer"),
                     (t("sender_auth.look.forwarded"), "bob to the forwarder")], "description": t("sender_auth.look")},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20, "description": t("ui.common.seed")},
    ]

    def compute(v: dict):
        product = products.get(v["preset"])
        signs = bool(v["dkim"]) and product.can(_DKIM)
        scenario = sender_authentication(preset=v["preset"], spf=v["spf"].strip() or None,
                                         dkim=signs, dmarc=v["dmarc"] or None,
                                         pct=v["pct"], receiver_checks=v["receiver_checks"],
                                         spf_reject=v["spf_reject"], dmarc_enforce=v["dmarc_enforce"],
                                         duration=LAB_HOURS * HOUR)
        result = run(scenario, seed=v["seed"])
        if signs:
            _SIGNED_DAYS.add((v["preset"], v["seed"]))
        return result

    def first_signing_day(v: dict) -> bool:
        """A day the site signs that was never signed before in this kernel: every signature is new (about a
        quarter of a second of RSA). Other DKIM days reuse most signatures and are quick, unless the receiver's
        refusals shift the site's queue ids (and so the Message-IDs signed): then the panel shows the busy
        state once the run passes :data:`simlab.ui.common.BUSY_AFTER`."""
        return (bool(v["dkim"]) and products.get(v["preset"]).can(_DKIM)
                and (v["preset"], v["seed"]) not in _SIGNED_DAYS)

    views = {"each flow": widgets.HTML(), "one message": widgets.HTML(), "DNS": widgets.HTML(),
             "receiver log": widgets.HTML()}
    titles = {"each flow": t("sender_auth.tab.flows"), "one message": t("sender_auth.tab.message"),
              "DNS": t("sender_auth.tab.dns"), "receiver log": t("sender_auth.tab.receiver_log")}

    def render(panel: Panel, result) -> None:
        panel.views["each flow"].value = flows_html(result) + summary_html(result.summary, KEYS)
        panel.views["one message"].value = message_html(result, panel.controls["message"].value)
        panel.views["DNS"].value = dns_html(result)
        log = result.world.network.host(YOURCOMPANY).server.log
        panel.views["receiver log"].value = log_html(log, highlight=r"reject|policyd-spf|opendmarc|opendkim|HOLD")

    panel = Panel(t("sender_auth.title"), controls, compute, render, views,
                  compare_keep=("preset", "seed", "message"), cache=32, heavy=first_signing_day, titles=titles,
                  view_only=VIEW_ONLY)
    enable_by_product(panel, {"dkim": lambda p: p.can(_DKIM)})
    return panel

