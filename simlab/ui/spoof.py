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
from simlab.exercises.common import lazy_constants
from simlab.exercises.spoof import MY_DOMAIN, THREAD_DIALOGUE, mycompany_server, reply_to, sender_login_map, spoof_day
from simlab.exercises.start import run_dialogue
from simlab.i18n import t, tn
from simlab.scenarios import run
from simlab.scenarios.site import ACCOUNTS, LAN
from simlab.ui.charts import sequence_svg
from simlab.ui.common import (
    Panel,
    allowlist_controls,
    bars_html,
    enable_by_product,
    log_html,
    product_menu,
    setting_description,
    summary_html,
    transcript_html,
)
from simlab.ui.start import REFUSALS

__all__ = ["spoof_lab", "auth_plain", "SENDER_CHECKS", "THREAD_LINES", "BOB_LOGIN_LINES"]

_BY_SENDER = products.RELAY_BY_SENDER_DOMAIN
#: The sender login check's menu: Postfix's own words, and "off" in the language current at each access.
SENDER_CHECKS: list[tuple[str, str]]


def _sender_checks() -> list[tuple[str, str]]:
    return [(t("ui.common.off"), ""), ("reject_sender_login_mismatch", "reject_sender_login_mismatch"),
            ("reject_authenticated_sender_login_mismatch", "reject_authenticated_sender_login_mismatch")]


__getattr__ = lazy_constants(__name__, {"SENDER_CHECKS": _sender_checks})
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
        notes.append(t("ui.spoof.no_relay_settings", product=product.label))
    if _valid_ip_rule(product) and v["require_valid_ip"] and not v["relay_restriction"]:
        notes.append(t("ui.spoof.valid_ip_needs_restriction"))
    if not product.can(products.SENDER_LOGIN_CHECK) and v["sender_login_check"]:
        owners = t("ui.common.list_separator").join(
            p.label for p in products.with_capability(products.SENDER_LOGIN_CHECK))
        notes.append(t("ui.spoof.sender_check_not_here", owners=owners))
    if product.can(products.RELAY_CONTROL) and not product.can(products.SMTP_AUTH) and v["smtp_auth"]:
        owners = t("ui.common.and_separator").join(p.label for p in products.with_capability(products.SMTP_AUTH))
        notes.append(t("ui.spoof.smtp_auth_only", owners=owners))
    return notes


def _verdict_html(session) -> str:
    mail, answer = reply_to(session, "MAIL"), reply_to(session, "RCPT")
    if session.greeting is None:
        text, colour = t("ui.spoof.verdict.dropped"), "#b00020"
    elif session.greeting.code >= 400:
        text, colour = t("ui.spoof.verdict.refused_at_connect", banner=session.greeting.text), "#2e7d32"
    elif mail is not None and mail[:1] != "2":
        text, colour = t("ui.spoof.verdict.mail_refused", reply=mail), "#2e7d32"
    elif answer is None:
        text, colour = t("ui.spoof.verdict.no_rcpt"), "#7d7d7d"
    elif answer[:1] == "2":
        text, colour = t("ui.spoof.verdict.taken", reply=answer), "#8f2d56"
    else:
        text, colour = t("ui.spoof.verdict.refused", reply=answer), "#2e7d32"
    return f"<p style='margin:4px 0;color:{colour}'><b>{html.escape(text)}</b></p>"


def _queue_html(server) -> str:
    if not server.queue:
        return "<p>" + html.escape(t("ui.spoof.queue_empty"), quote=False) + "</p>"
    rows = "".join(f"<tr><td>{html.escape(m.queue_id)}</td><td>{html.escape(m.sender or '<>')}</td>"
                   f"<td>{html.escape(', '.join(m.recipients))}</td><td>{html.escape(m.client_ip)}</td>"
                   f"<td>{html.escape(m.authenticated_user or '-')}</td></tr>" for m in server.queue)
    head = "".join(f"<th style='text-align:left;padding-right:12px'>{html.escape(h, quote=False)}</th>"
                   for h in (t("ui.spoof.column.queue_id"), t("ui.spoof.column.sender"), t("ui.spoof.column.to"),
                             t("ui.common.client_address"), t("ui.spoof.column.logged_in_as")))
    onward = html.escape(t("ui.spoof.queue_onward"), quote=False)
    return f"<table style='font-size:12px'><tr>{head}</tr>{rows}</table><p style='font-size:12px'>{onward}</p>"


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
    too = t("ui.spoof.on_port_25_too")
    auth_products = "; ".join(p.label + ("" if p.auth_submission_port() is None else too)
                              for p in products.with_capability(products.SMTP_AUTH))
    check_owners = t("ui.common.list_separator").join(
        p.label for p in products.with_capability(products.SENDER_LOGIN_CHECK))
    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(), "value": preset,
         "description": t("ui.common.server"), "fallback": "eims-2.1"},
        {"name": "client_ip", "type": "Text", "value": client_ip, "description": t("ui.common.client_address"),
         "placeholder": "203.0.113.50"},
        {"name": "port", "type": "Dropdown", "options": [("25 (smtp)", 25), ("587 (submission)", 587)], "value": 25,
         "description": t("ui.spoof.port")},
        {"name": "lines", "type": "Textarea", "value": lines, "description": t("ui.common.you_type"),
         "placeholder": t("ui.spoof.lines_placeholder", example="MAIL FROM:<Postmaster@mycompany.test>"),
         "layout": widgets.Layout(width="100%", height="130px")},
        {"name": "relay_restriction", "type": "Checkbox", "value": True,
         "description": setting_description(_BY_SENDER, lambda p: "relay_restriction")},
        {"name": "require_valid_ip", "type": "Checkbox", "value": False,
         "description": setting_description(_BY_SENDER, lambda p: "require_valid_ip" if _valid_ip_rule(p) else None)},
        {"name": "valid_ips", "type": "Text", "value": "192.0.2.0/24",
         "description": setting_description(_BY_SENDER, lambda p: p.relay_allowlist_setting)},
        *allowlists,
        {"name": "smtp_auth", "type": "Checkbox", "value": False,
         "description": t("ui.spoof.smtp_auth", products=auth_products)},
        {"name": "sender_login_check", "type": "Dropdown", "options": _sender_checks(), "value": "",
         "description": t("ui.spoof.sender_login_check", owners=check_owners)},
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
             "sequence diagram": widgets.HTML(), "server log": widgets.HTML(),
             "the queue": widgets.HTML(), "a day of it": widgets.HTML()}
    titles = {"the dialogue": t("ui.common.tab.the_dialogue"), "sequence diagram": t("ui.spoof.tab.sequence"),
              "server log": t("ui.common.tab.server_log"), "the queue": t("ui.spoof.tab.queue"),
              "a day of it": t("ui.spoof.tab.day")}

    def render(panel: Panel, outcome: dict) -> None:
        session, server, day = outcome["session"], outcome["server"], outcome["day"]
        dialogue, side = panel.views["the dialogue"].children
        notes = "".join(f"<p style='font-size:12px;color:#7d7d7d;margin:2px 0'>{html.escape(n)}</p>"
                        for n in outcome["notes"])
        unread = tn("ui.spoof.never_read", len(outcome["unsent"])) if outcome["unsent"] else ""
        unsent = f"<p style='font-size:12px'>{html.escape(unread, quote=False)}</p>" if unread else ""
        dialogue.value = _verdict_html(session) + transcript_html(session.transcript) + unsent + notes
        heading = html.escape(t("ui.spoof.day_heading"), quote=False)
        where = html.escape(t("ui.spoof.day_where", preset=day.preset), quote=False)
        side.value = (f"<p style='font-size:12px;margin:4px 0'><b>{heading}</b><br>{where}</p>"
                      + summary_html(day.summary, KEYS))
        panel.views["server log"].value = log_html(server.log, highlight=REFUSALS)
        panel.views["the queue"].value = _queue_html(server)
        # drawn by the browser (SVG): about a millisecond, where the matplotlib picture took a tenth of a second
        panel.views["sequence diagram"].value = sequence_svg(session.transcript, client=outcome["client"],
                                                             server=server.persona.product)
        panel.views["a day of it"].value = bars_html(day.summary, KEYS,
                                                     title=t("ui.spoof.chart_title", preset=day.preset))

    # the day's comparison keeps what only the typed dialogue uses
    panel = Panel(t("ui.spoof.title"), controls, compute, render, views,
                  compare_keep=("preset", "client_ip", "port", "lines"), cache=32, titles=titles)
    enable_by_product(panel, {
        "relay_restriction": lambda p: p.can(_BY_SENDER), "require_valid_ip": _valid_ip_rule,
        "valid_ips": _valid_ip_rule, "smtp_auth": lambda p: p.can(products.SMTP_AUTH),
        "sender_login_check": lambda p: p.can(products.SENDER_LOGIN_CHECK),
        **{c["name"]: (lambda p, s=c["name"]: p.relay_allowlist_by_default and p.relay_allowlist_setting == s)
           for c in allowlists}})
    return panel
