"""Lesson 11 panel: what example.com publishes, what yourcompany.test checks, and what each flow of mail meets.

The controls are the knobs of :func:`simlab.scenarios.sender_authentication`: the site's server (lesson 03's
EIMS 2.1 by default), its SPF record, DKIM signing (a server that can sign: Postfix with OpenDKIM), the
DMARC policy and pct; and on the receiving side, whether yourcompany.test checks at all, whether
policyd-spf refuses an SPF fail itself (Debian's default) and whether OpenDMARC acts on the policy. The
views: each flow's fate (delivered, held, refused), the DNS records published, one message as
yourcompany.test received it (its dialogue, the receiver's log lines for it and the header fields the
checks added), and the receiver's log.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from simlab import products
from simlab.exercises.sender_auth import PATH_NAMES, flow_table
from simlab.plots.sender_auth import OUTCOME_COLOURS, arrived_and_lost
from simlab.scenarios import HOUR, run
from simlab.scenarios.sender_auth import YOURCOMPANY, sender_authentication
from simlab.ui.common import Panel, enable_by_product, log_html, product_menu, summary_html, transcript_html

__all__ = ["sender_auth_lab", "flows_html", "message_html", "dns_html", "LAB_HOURS", "DMARC_CHOICES", "KEYS"]

#: The day's own counts shown beside the flows (spam relayed by the site, refused to its sender, staff mail lost).
KEYS = ("spam_relayed", "spam_refused", "legit_refused")
#: The panel replays half a day, so that it answers quickly.
LAB_HOURS = 12
DMARC_CHOICES = [("no DMARC record", ""), ("p=none (only report)", "none"), ("p=quarantine", "quarantine"),
                 ("p=reject", "reject")]
_DKIM = products.DKIM_SIGNING


def flows_html(result) -> str:
    """Each flow's fate as a small table with coloured cells."""
    table = flow_table(result)
    head = "".join(f"<th style='padding:2px 8px;background:{c}'>{o}</th>" for o, c in OUTCOME_COLOURS.items())
    rows = []
    for (kind, path), counts in table.items():
        colour = "#b00020" if kind == "forged" else "#1b5e20"
        cells = "".join(f"<td style='text-align:right;padding:2px 8px'>{counts[o]}</td>" for o in OUTCOME_COLOURS)
        rows.append(f"<tr><td style='color:{colour};padding-right:12px'>{kind} mail {html.escape(PATH_NAMES[path])}"
                    f"</td>{cells}</tr>")
    forged, lost = arrived_and_lost(table)
    verdict = (f"<p style='margin:6px 0'><b>{forged}</b> forged message(s) arrived at yourcompany.test (delivered "
               f"or held); <b>{lost}</b> legitimate message(s) lost or held.</p>")
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
        return "<p>example.com publishes nothing: no SPF record, no DKIM key, no DMARC policy.</p>"
    return f"<table style='font-size:12px'><tr><th>name</th><th>TXT record</th></tr>{''.join(rows)}</table>"


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
        return ("<p>No such session reached yourcompany.test in this run: the server on the way refused it "
                "(or the flow is not running).</p>")
    server = result.world.network.host(YOURCOMPANY).server
    start = record.start
    lines = [line for t, line in server.log_records if start <= t <= start + 5]
    parts = [f"<p><b>{html.escape(record.actor)}</b> from {record.client_ip}, at yourcompany.test:</p>",
             transcript_html(record.lines, height=180), "<p>yourcompany.test's log for it:</p>",
             log_html(lines, highlight=r"reject|fail|HOLD", height=120)]
    held = list(getattr(server, "held", ()))
    for message in [m for box in server.mailboxes.values() for m in box] + held:
        if start <= message.received_at <= start + 5 and message.client_ip == record.client_ip:
            top = []
            for line in message.lines:
                if line.startswith("Received:"):
                    break
                top.append(line)
            where = "held in the quarantine" if message in held else "delivered"
            parts.append(f"<p>the header fields the checks added to the copy {where}:</p>")
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
         "description": "example.com's server", "fallback": "eims-2.1"},
        {"name": "spf", "type": "Text", "value": "v=spf1 mx -all", "description": "SPF record (empty: none)"},
        {"name": "dkim", "type": "Checkbox", "value": False,
         "description": "sign with DKIM (" + ", ".join(p.label for p in products.with_capability(_DKIM)) + ")"},
        {"name": "dmarc", "type": "Dropdown", "options": DMARC_CHOICES, "value": "reject",
         "description": "DMARC policy"},
        {"name": "pct", "type": "IntSlider", "value": 100, "min": 0, "max": 100, "description": "pct"},
        {"name": "receiver_checks", "type": "Checkbox", "value": True,
         "description": "yourcompany.test checks senders"},
        {"name": "spf_reject", "type": "Checkbox", "value": True,
         "description": "policyd-spf refuses an SPF fail (Mail_From_reject = Fail)"},
        {"name": "dmarc_enforce", "type": "Checkbox", "value": True,
         "description": "OpenDMARC acts on the policy (RejectFailures)"},
        {"name": "message", "type": "Dropdown", "value": "spoofing spammer",
         "options": [("the spoof relayed by the site", "spoofing spammer"), ("the direct forgery", "direct spoofer"),
                     ("bob's forwarded message", "bob to the forwarder")], "description": "look at"},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20},
    ]

    def compute(v: dict):
        product = products.get(v["preset"])
        scenario = sender_authentication(preset=v["preset"], spf=v["spf"].strip() or None,
                                         dkim=bool(v["dkim"]) and product.can(_DKIM), dmarc=v["dmarc"] or None,
                                         pct=v["pct"], receiver_checks=v["receiver_checks"],
                                         spf_reject=v["spf_reject"], dmarc_enforce=v["dmarc_enforce"],
                                         duration=LAB_HOURS * HOUR)
        return run(scenario, seed=v["seed"])

    views = {"each flow": widgets.HTML(), "one message": widgets.HTML(), "DNS": widgets.HTML(),
             "receiver log": widgets.HTML()}

    def render(panel: Panel, result) -> None:
        panel.views["each flow"].value = flows_html(result) + summary_html(result.summary, KEYS)
        panel.views["one message"].value = message_html(result, panel.controls["message"].value)
        panel.views["DNS"].value = dns_html(result)
        log = result.world.network.host(YOURCOMPANY).server.log
        panel.views["receiver log"].value = log_html(log, highlight=r"reject|policyd-spf|opendmarc|opendkim|HOLD")

    panel = Panel("SPF, DKIM and DMARC against the spoofed Postmaster", controls, compute, render, views,
                  compare_keep=("preset", "seed", "message"), cache=32, heavy=lambda v: bool(v["dkim"]))
    enable_by_product(panel, {"dkim": lambda p: p.can(_DKIM)})
    return panel
