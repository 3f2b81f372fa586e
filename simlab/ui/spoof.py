"""Lesson 03 panel (S4): type the thread's spoofed-Postmaster dialogue into a server you configure.

The student's lines go to the thread's site as the chosen product builds it
(:func:`simlab.exercises.spoof.mycompany_server`: ``mail.mycompany.test``);
the views show both sides of the dialogue, a sequence diagram of it, the
server's log, its relay queue, and a day of the same trick at the simlab
site (:func:`simlab.exercises.spoof.spoof_day`): spam relayed against
legitimate mail lost. Settings are the products' own: EIMS 2.1 Relay
Restriction and "AND if from a valid IP", SIMS Client Hosts, SMTP AUTH
(EIMS 2.1 ``smtp_auth``, Postfix ``smtpd_sasl_auth_enable`` and the
submission port 587) and Postfix's sender login check
(``smtpd_sender_login_maps`` with ``reject_sender_login_mismatch``).
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from simlab import products
from simlab.addresses.networks import parse_networks
from simlab.exercises.common import auth_plain_line as auth_plain
from simlab.exercises.spoof import MY_DOMAIN, THREAD_DIALOGUE, mycompany_server, reply_to, sender_login_map, spoof_day
from simlab.exercises.start import run_dialogue
from simlab.plots import outcome_bars, sequence_diagram
from simlab.scenarios import run
from simlab.scenarios.site import ACCOUNTS, LAN
from simlab.ui.common import (
    Panel,
    allowlist_controls,
    enable_by_product,
    log_html,
    product_menu,
    setting_description,
    summary_html,
    transcript_html,
)
from simlab.ui.start import REFUSALS, draw_when_shown

__all__ = ["spoof_lab", "auth_plain", "SENDER_CHECKS", "THREAD_LINES", "BOB_LOGIN_LINES"]

_BY_SENDER = products.RELAY_BY_SENDER_DOMAIN
SENDER_CHECKS = [("off", ""), ("reject_sender_login_mismatch", "reject_sender_login_mismatch"),
                 ("reject_authenticated_sender_login_mismatch", "reject_authenticated_sender_login_mismatch")]
KEYS = ("spam_relayed", "spam_refused", "legit_delivered", "legit_refused")
#: The thread's five lines, as the Textarea starts.
THREAD_LINES = "\n".join(THREAD_DIALOGUE)


def _valid_ip_rule(product: products.Product) -> bool:
    """Whether the product has an allow-list beside its rule on the sender's domain (EIMS 2.1 "AND if from a
    valid IP")."""
    return product.can(_BY_SENDER) and product.can(products.RELAY_BY_CLIENT_IP)


def _server_settings(v: dict) -> dict:
    """The product settings the controls stand for, in the product's own names."""
    product = products.get(v["preset"])
    settings: dict = {}
    if product.can(_BY_SENDER):
        settings |= product.relay_restriction(v["relay_restriction"])
        if _valid_ip_rule(product):
            settings |= {"require_valid_ip": v["require_valid_ip"],
                         product.relay_allowlist_setting: parse_networks(v["valid_ips"], "valid_ips")}
    elif product.relay_allowlist_by_default and product.relay_allowlist_setting in v:
        setting = product.relay_allowlist_setting
        settings |= product.relay_allowlist(parse_networks(v[setting], setting))
    if product.can(products.SMTP_AUTH):
        settings |= product.smtp_auth(v["smtp_auth"])
    if v["sender_login_check"] and product.can(products.SENDER_LOGIN_CHECK):
        settings |= product.sender_login_check(v["sender_login_check"], sender_login_map(MY_DOMAIN))
    return settings


def _notes(v: dict) -> list[str]:
    product, notes = products.get(v["preset"]), []
    if not product.can(products.RELAY_CONTROL):
        notes.append(f"{product.label} has no relay settings at all: the controls below do nothing here.")
    if _valid_ip_rule(product) and v["require_valid_ip"] and not v["relay_restriction"]:
        notes.append("'AND if from a valid IP' is part of Relay Restriction: with Relay Restriction off it does "
                     "nothing.")
    if not product.can(products.SENDER_LOGIN_CHECK) and v["sender_login_check"]:
        owners = ", ".join(p.label for p in products.with_capability(products.SENDER_LOGIN_CHECK))
        notes.append(f"The sender login check is a setting of {owners}: not applied here.")
    if product.can(products.RELAY_CONTROL) and not product.can(products.SMTP_AUTH) and v["smtp_auth"]:
        owners = " and ".join(p.label for p in products.with_capability(products.SMTP_AUTH))
        notes.append(f"SMTP AUTH is offered by {owners} only.")
    return notes


def _verdict_html(session) -> str:
    mail, answer = reply_to(session, "MAIL"), reply_to(session, "RCPT")
    if session.greeting is None:
        text, colour = "The connection was dropped: no banner.", "#b00020"
    elif session.greeting.code >= 400:
        text, colour = f"Refused at connect: {session.greeting.text}", "#2e7d32"
    elif mail is not None and mail[:1] != "2":
        text, colour = f"MAIL FROM was refused ({mail}): the message never got as far as RCPT.", "#2e7d32"
    elif answer is None:
        text, colour = "No RCPT TO was answered.", "#7d7d7d"
    elif answer[:1] == "2":
        text, colour = f"At RCPT the server said {answer} - it takes the message.", "#8f2d56"
    else:
        text, colour = f"At RCPT the server said {answer} - refused.", "#2e7d32"
    return f"<p style='margin:4px 0;color:{colour}'><b>{html.escape(text)}</b></p>"


def _queue_html(server) -> str:
    if not server.queue:
        return "<p>The relay queue is empty: nothing is waiting to go to another site.</p>"
    rows = "".join(f"<tr><td>{html.escape(m.queue_id)}</td><td>{html.escape(m.sender or '<>')}</td>"
                   f"<td>{html.escape(', '.join(m.recipients))}</td><td>{html.escape(m.client_ip)}</td>"
                   f"<td>{html.escape(m.authenticated_user or '-')}</td></tr>" for m in server.queue)
    head = "".join(f"<th style='text-align:left;padding-right:12px'>{h}</th>"
                   for h in ("queue id", "sender (as claimed)", "to", "client address", "logged in as"))
    return (f"<table style='font-size:12px'><tr>{head}</tr>{rows}</table><p style='font-size:12px'>Each of these "
            "will be sent on to another site, from our server's address, in our server's name.</p>")


#: The two lines that log in as bob: paste them *above* the thread's lines on port 587.
BOB_LOGIN_LINES = f"EHLO outside.test\n{auth_plain('bob', ACCOUNTS['bob'])}"


def spoof_lab(preset: str = "eims-2.1", client_ip: str = "203.0.113.50", lines: str = THREAD_LINES) -> Panel:
    """The thread's spoofed-Postmaster dialogue against a product and settings you choose.

    Controls: the product, the client's address and port, the lines to send (pre-filled with the
    thread's), EIMS 2.1 Relay Restriction and "AND if from a valid IP" with its valid addresses,
    SIMS Client Hosts, SMTP AUTH, and Postfix's sender login check. Views: the dialogue with the
    reply at RCPT, a sequence diagram, the server log, the relay queue, and a day of the same
    trick (spam relayed against legitimate mail lost).
    """
    allowlists = allowlist_controls("192.0.2.0/24")
    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(), "value": preset, "description": "server",
         "fallback": "eims-2.1"},
        {"name": "client_ip", "type": "Text", "value": client_ip, "description": "client address",
         "placeholder": "203.0.113.50"},
        {"name": "port", "type": "Dropdown", "options": [("25 (smtp)", 25), ("587 (submission)", 587)], "value": 25,
         "description": "port"},
        {"name": "lines", "type": "Textarea", "value": lines, "description": "you type",
         "placeholder": "one SMTP command per line, e.g. MAIL FROM:<Postmaster@mycompany.test>",
         "layout": widgets.Layout(width="100%", height="130px")},
        {"name": "relay_restriction", "type": "Checkbox", "value": True,
         "description": setting_description(_BY_SENDER, lambda p: "relay_restriction")},
        {"name": "require_valid_ip", "type": "Checkbox", "value": False,
         "description": setting_description(_BY_SENDER, lambda p: "require_valid_ip" if _valid_ip_rule(p) else None)},
        {"name": "valid_ips", "type": "Text", "value": "192.0.2.0/24",
         "description": setting_description(_BY_SENDER, lambda p: p.relay_allowlist_setting)},
        *allowlists,
        {"name": "smtp_auth", "type": "Checkbox", "value": False,
         "description": "SMTP AUTH (" + "; ".join(
             p.label + ("" if p.auth_submission_port() is None else ": on port 25 too")
             for p in products.with_capability(products.SMTP_AUTH)) + ")"},
        {"name": "sender_login_check", "type": "Dropdown", "options": SENDER_CHECKS, "value": "",
         "description": "sender login check ("
                        + ", ".join(p.label for p in products.with_capability(products.SENDER_LOGIN_CHECK)) + ")"},
    ]
    days: dict[tuple, object] = {}

    def day_for(v: dict, settings: dict):
        key = (v["preset"], repr(sorted(settings.items())))
        if key not in days:
            if len(days) > 32:
                days.clear()
            preset_name = v["preset"]
            product = products.get(preset_name)
            allowlist = product.relay_allowlist_setting if product.relay_allowlist_by_default else None
            scenario = spoof_day(preset_name, relay_restriction=v["relay_restriction"],
                                 require_valid_ip=v["require_valid_ip"], valid_ips=v["valid_ips"],
                                 client_hosts=v[allowlist] if allowlist in v else (LAN,),
                                 smtp_auth=v["smtp_auth"] and product.can(products.SMTP_AUTH),
                                 sender_login_check=v["sender_login_check"] or None)
            days[key] = run(scenario, seed=1)
        return days[key]

    def compute(v: dict) -> dict:
        settings = _server_settings(v)
        server = mycompany_server(v["preset"], **settings)
        session, unsent = run_dialogue(server, v["client_ip"], v["lines"], port=v["port"])
        return {"server": server, "session": session, "unsent": unsent, "day": day_for(v, settings),
                "notes": _notes(v), "client": v["client_ip"].strip()}

    views = {"the dialogue": widgets.HBox([widgets.HTML(layout=widgets.Layout(width="62%")), widgets.HTML()]),
             "sequence diagram": widgets.Image(format="png"), "server log": widgets.HTML(),
             "the queue": widgets.HTML(), "a day of it": widgets.Image(format="png")}

    def render(panel: Panel, outcome: dict) -> None:
        session, server, day = outcome["session"], outcome["server"], outcome["day"]
        dialogue, side = panel.views["the dialogue"].children
        notes = "".join(f"<p style='font-size:12px;color:#7d7d7d;margin:2px 0'>{html.escape(n)}</p>"
                        for n in outcome["notes"])
        unsent = (f"<p style='font-size:12px'>The server had closed the connection: {len(outcome['unsent'])} "
                  "line(s) were never read.</p>" if outcome["unsent"] else "")
        dialogue.value = _verdict_html(session) + transcript_html(session.transcript) + unsent + notes
        side.value = (f"<p style='font-size:12px;margin:4px 0'><b>A day of the same trick</b><br>"
                      f"({html.escape(day.preset)}, at the simlab site)</p>"
                      + summary_html(day.summary, KEYS))
        panel.views["server log"].value = log_html(server.log, highlight=REFUSALS)
        panel.views["the queue"].value = _queue_html(server)
        client, product = outcome["client"], server.persona.product
        draw_when_shown(panel, "sequence diagram", lambda: panel.set_figure(
            panel.views["sequence diagram"], sequence_diagram(session.transcript, client=client,
                                                              server=product)))
        draw_when_shown(panel, "a day of it", lambda: panel.set_figure(
            panel.views["a day of it"], outcome_bars(day.summary, KEYS, title=f"{day.preset}: a day of the trick")))

    # the day's comparison keeps what only the typed dialogue uses
    panel = Panel("The spoofed Postmaster (S4)", controls, compute, render, views,
                  compare_keep=("preset", "client_ip", "port", "lines"))
    enable_by_product(panel, {
        "relay_restriction": lambda p: p.can(_BY_SENDER), "require_valid_ip": _valid_ip_rule,
        "valid_ips": _valid_ip_rule, "smtp_auth": lambda p: p.can(products.SMTP_AUTH),
        "sender_login_check": lambda p: p.can(products.SENDER_LOGIN_CHECK),
        **{c["name"]: (lambda p, s=c["name"]: p.relay_allowlist_by_default and p.relay_allowlist_setting == s)
           for c in allowlists}})
    return panel
