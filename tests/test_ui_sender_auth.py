"""Lesson 11's panel and figures (SPF, DKIM and DMARC against the spoofed Postmaster), driven headlessly."""

import re

import pytest

from simlab.exercises.sender_auth import flow_table, sender_day
from simlab.plots import to_png
from simlab.plots.sender_auth import arrived_and_lost, flows_figure, setups_figure
from simlab.scenarios import run
from simlab.ui.sender_auth import sender_auth_lab

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def lab():
    return sender_auth_lab()


def counts(panel):
    return dict(re.findall(r"data-key='(\w+)'.*?<b>(\d+)</b>", panel.views["each flow"].value))


def test_the_relayed_spoof_passes_and_closing_the_relay_stops_it(lab):
    assert lab.error is None and lab.outcome.preset == "eims-2.1"
    assert int(counts(lab)["spam_relayed"]) > 0
    flows = lab.views["each flow"].value
    assert "forged mail sent through example.com&#x27;s own server" in flows
    message = lab.views["one message"].value
    assert "dmarc=pass (p=reject dis=none) header.from=example.com" in message
    assert "Received-SPF: Pass (mailfrom)" in message and "MAIL FROM:&lt;Postmaster@example.com&gt;" in message
    assert "v=spf1 mx -all" in lab.views["DNS"].value and "_dmarc.example.com" in lab.views["DNS"].value
    lab.controls["preset"].value = "postfix"
    assert counts(lab)["spam_relayed"] == "0"
    assert "No such session reached yourcompany.test" in lab.views["one message"].value
    assert "Against the starting settings" not in lab.comparison.value  # the product is kept, not compared
    lab.controls["preset"].value = "eims-2.1"


def test_dkim_follows_the_product_and_saves_forwarded_mail(lab):
    assert lab.controls["dkim"].disabled  # EIMS 2.1 cannot sign
    lab.controls["preset"].value = "postfix"
    assert not lab.controls["dkim"].disabled
    lab.controls["spf_reject"].value = False
    lab.controls["dkim"].value = True
    lab.controls["message"].value = "bob to the forwarder"
    message = lab.views["one message"].value
    assert "dkim=pass (2048-bit key; unprotected) header.d=example.com" in message
    assert "Received-SPF: Fail (mailfrom)" in message
    assert "mail._domainkey.example.com" in lab.views["DNS"].value
    assert "legitimate lost" in lab.comparison.value and "-" in lab.comparison.value
    for name, value in (("dkim", False), ("spf_reject", True), ("message", "spoofing spammer"), ("preset", "eims-2.1")):
        lab.controls[name].value = value


def test_the_direct_forgery_and_the_receivers_log(lab):
    lab.controls["message"].value = "direct spoofer"
    assert "550 5.7.23" in lab.views["one message"].value
    assert "policyd-spf[1801]: 550 5.7.23 Message rejected due to: SPF fail" in lab.views["receiver log"].value
    lab.controls["message"].value = "spoofing spammer"


def test_bad_input_is_a_message(lab):
    lab.controls["spf"].value = "mx -all"
    assert lab.error is not None and "is not an SPF record" in lab.message.value
    lab.controls["spf"].value = "v=spf1 mx -all"
    assert lab.error is None


def test_no_record_and_p_none(lab):
    lab.controls["spf"].value = ""
    lab.controls["dmarc"].value = ""
    assert "publishes nothing" in lab.views["DNS"].value
    lab.controls["spf"].value = "v=spf1 mx -all"
    lab.controls["dmarc"].value = "reject"


def test_figures_draw():
    result = run(sender_day("postfix", dkim=True), seed=1)
    table = flow_table(result)
    assert arrived_and_lost(table) == (0, 0)
    assert to_png(flows_figure(table, title="t")).startswith(PNG)
    assert to_png(setups_figure({"a": table, "b": flow_table(run(sender_day(), seed=1))})).startswith(PNG)
    figure = flows_figure(table)
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert labels[0] == "forged, relayed by the site" and "legit, forwarded" in labels
