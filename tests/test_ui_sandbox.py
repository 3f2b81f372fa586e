"""Lesson 08's sandbox panel and challenge, driven headlessly (observers fire synchronously)."""

import dataclasses

import pytest

from simlab import products
from simlab.exercises.sandbox import SOLUTION, check_challenge, sandbox_scenario
from simlab.scenarios import run
from simlab.ui.sandbox import sandbox, setting_specs

EIMS_FIX = {"relay_restriction": True, "require_valid_ip": True, "valid_ips": ["192.0.2.0/24", "198.51.100.77"],
            "ip_range_restriction": {"pop3": ["192.0.2.0/24", "198.51.100.77"]}}


@pytest.fixture(scope="module")
def box():
    return sandbox()


def counts(box, *keys):
    return tuple(box.outcome.result.summary[k] for k in keys)


def test_product_settings_come_from_the_preset_signature(monkeypatch):
    names = {spec.name: spec.kind for spec in setting_specs("eims-2.1")}
    assert names == {"relay_restriction": "bool", "relay_domains": "list", "ip_range_restriction": "list",
                     "smtp_auth": "bool", "valid_ips": "list", "require_valid_ip": "bool"}
    postfix = {spec.name: spec for spec in setting_specs("postfix")}
    assert postfix["mynetworks"].default == ["192.0.2.0/24"]  # the site's value, not Postfix's
    assert postfix["smtpd_client_connection_count_limit"].kind == "int" and "accounts" not in postfix

    def future_sims(hostname="mail.example.com", client_hosts=(), greylisting: bool = False, clock=None,
                    restrictions=None):
        raise AssertionError("not called")

    monkeypatch.setitem(products.PRODUCTS, "sims", dataclasses.replace(products.get("sims"), factory=future_sims))
    assert [(s.name, s.kind) for s in setting_specs("sims")] == [("client_hosts", "list"), ("greylisting", "bool")]


def test_panel_shows_the_chosen_products_settings_and_follows_them(box):
    assert box.error is None and box.controls["eims-2.1:relay_restriction"].layout.display is None
    assert box.controls["postfix:mynetworks"].layout.display == "none"
    assert box.controls["postfix:mynetworks"].value == "192.0.2.0/24"
    assert counts(box, "spam_relayed")[0] > 0 and counts(box, "accounts_compromised") == (2,)
    box.controls["eims-2.1:relay_restriction"].value = True  # the spammers write a local sender: still relayed
    assert counts(box, "spam_relayed")[0] > 0
    box.controls["eims-2.1:require_valid_ip"].value = True
    box.controls["eims-2.1:valid_ips"].value = "192.0.2.0/24"
    assert counts(box, "spam_relayed", "legit_refused")[0] == 0 and counts(box, "legit_refused")[0] > 0  # alice
    assert "Relay Restriction: only route for local domains" in box.views["the setup"].value
    box.controls["eims-2.1:valid_ips"].value = "192.0.2.0/24, 198.51.100.77"
    assert counts(box, "spam_relayed", "legit_refused") == (0, 0)
    box.controls["preset"].value = "sims"
    assert box.controls["sims:client_hosts"].layout.display is None
    assert box.controls["eims-2.1:valid_ips"].layout.display == "none"
    assert box.outcome.result.preset == "sims"
    box.controls["preset"].value = "eims-2.1"
    for name, value in (("relay_restriction", False), ("require_valid_ip", False), ("valid_ips", "")):
        box.controls[f"eims-2.1:{name}"].value = value
    assert counts(box, "spam_relayed")[0] > 0


def test_actors_and_defences(box):
    box.controls["guesser"].value = False
    assert counts(box, "accounts_compromised", "login_failures") == (0, counts(box, "login_failures")[0])
    assert "actor: guesser" not in box.views["the setup"].value
    box.controls["guesser"].value = True
    box.controls["fail2ban"].value = True
    box.controls["bantime"].value = 86400
    assert counts(box, "accounts_compromised", "bans") == (0, 1)
    box.controls["guesser_ips"].value = 20  # one guess per address: never 5 from one
    assert counts(box, "accounts_compromised", "bans") == (2, 0)
    box.controls["guesser_ips"].value = 1
    box.controls["fail2ban"].value = False
    box.controls["router_filter"].value = "192.0.2.0/24"
    assert counts(box, "accounts_compromised")[0] == 0 and counts(box, "legit_logins_refused")[0] > 0
    assert "router: router filter on pop3: allow only 192.0.2.0/24" in box.views["the setup"].value
    box.controls["router_filter"].value = ""
    box.controls["flooder"].value = True
    assert counts(box, "connections_dropped")[0] > 0
    box.controls["flooder"].value = False


def test_views(box):
    assert "class='simlab-bars'" in box.views["summary"].children[0].value
    assert box.views["events"].value == ""  # the events table is made when its tab is opened
    box.tabs.selected_index = list(box.views).index("events")
    assert "<table" in box.views["events"].value and "rotating spammer" in box.views["events"].value
    assert "SMTP message from &lt;Postmaster@example.com&gt;" in box.views["server log"].value
    box.tabs.selected_index = 0
    before = box.views["timeline"].value
    box.controls["seed"].value = 2
    assert box.views["timeline"].value == before  # drawn only when opened
    box.tabs.selected_index = list(box.views).index("timeline")
    timeline = box.views["timeline"].value  # an SVG the browser draws
    assert timeline.startswith("<svg") and timeline != before and "spam relayed" in timeline
    box.tabs.selected_index = 0
    box.controls["seed"].value = 1


BAD_ENTRIES = [
    ("postfix:smtpd_client_connection_count_limit", "fifty",
     "smtpd_client_connection_count_limit: 'fifty' is not a whole number"),
    ("eims-2.1:ip_range_restriction", "pop3 192.0.2.0/24; smtp: x",
     "ip_range_restriction: 'pop3 192.0.2.0/24' is not 'service: ranges'"),
    ("eims-2.1:valid_ips", "192.0.2.0/33", "valid_ips: '192.0.2.0/33' is not an address range"),
    ("router_filter", "10.0.0.300", "router_filter: '10.0.0.300' is not an address range"),
]


def test_bad_entries_show_a_message_and_keep_the_last_result(box):
    for control, text, message in BAD_ENTRIES:
        box.controls["preset"].value = control.split(":")[0] if ":" in control else "eims-2.1"
        good, before = box.outcome, box.controls[control].value
        box.controls[control].value = text
        assert box.error is not None and box.error.startswith(message), box.error
        assert "Traceback" not in box.message.value and box.controls[control].value == text and box.outcome is good
        box.controls[control].value = before
        assert box.error is None and box.message.value == ""
    box.controls["preset"].value = "eims-2.1"


def test_the_same_day_in_code():
    scenario = sandbox_scenario("sims", {"client_hosts": ["192.0.2.0/24"]}, {"fail2ban": 86400},
                                duration_hours=6, spoofing_spammer=10, guesser=True)
    result = run(scenario, seed=1)
    assert result.summary["spam_relayed"] == 0 and result.summary["accounts_compromised"] == 0
    assert [a.name for a in scenario.actors][-2:] == ["spoofing spammer", "guesser"]


def test_challenge_feedback_is_specific():
    relay_only = check_challenge("eims-2.1", {"relay_restriction": True})
    assert not relay_only
    assert any(m.startswith("spam relayed: ") for m in relay_only.messages)
    assert any(m.startswith("spoofing spammer: ") and "from 203.0.113.50 with MAIL FROM:<Postmaster@example.com>"
               in m for m in relay_only.messages)
    assert any(m.startswith("accounts broken into: 2 (info, webmaster)") for m in relay_only.messages)
    lan_only = check_challenge("sims", defences=["router_filter"])
    assert any(m.startswith("legitimate mail lost: ") for m in lan_only.messages)
    assert any(m.startswith("alice (roaming) (198.51.100.77): ") and "relaying prohibited" in m
               for m in lan_only.messages)
    assert any("the connection was filtered" in m for m in lan_only.messages)
    assert "1998 product" in check_challenge("postfix").messages[0]
    assert check_challenge("sims", {"client_hosts": "192.0.2.0/33"}).messages[0].startswith("client_hosts:")
    assert check_challenge("sims", defences={"firewall": 1}).messages[0].startswith("defences: 'firewall'")
    assert check_challenge("eims-2.1", EIMS_FIX)
    assert check_challenge("sims", {"client_hosts": ["192.0.2.0/24", "198.51.100.77"]}, {"fail2ban": 86400})
    assert "require_valid_ip" in SOLUTION


def test_readable_timeline_has_plain_labels_distinct_colours_and_clock_ticks():
    from simlab.plots import to_png
    from simlab.ui.sandbox import readable_timeline

    result = run(sandbox_scenario("eims-2.1", {"relay_restriction": True}, duration_hours=6, spoofing_spammer=20,
                                  guesser=True), seed=1)
    figure = readable_timeline(result, what=("spam_relayed", "guess_succeeded", "log_lines"))
    ax = figure.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "guess_succeeded" not in labels and "break-ins (guessed passwords)" in labels
    colours = [line.get_color() for line in ax.get_lines()]
    assert len(set(colours)) == len(colours)
    to_png(figure)  # draw it, so that the tick labels are filled in
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(len(t) == 5 and t[2] == ":" for t in ticks)


def test_the_settings_a_product_hides_from_the_form_come_from_its_registry_entry(monkeypatch):
    for name in products.names():
        product = products.get(name)
        assert product.panel_hidden_settings <= set(product.setting_names), name  # no typo hides nothing
        shown = {spec.name for spec in setting_specs(name)}
        assert not shown & product.panel_hidden_settings and not shown & {"clock", "restrictions"}
    assert {"hostname", "accounts"} <= products.get("eims-2.1").panel_hidden_settings
    sims = products.get("sims")
    monkeypatch.setitem(products.PRODUCTS, "sims", dataclasses.replace(
        sims, panel_hidden_settings=sims.panel_hidden_settings | {"client_hosts"}))
    assert setting_specs("sims") == []
    monkeypatch.setitem(products.PRODUCTS, "sims", dataclasses.replace(sims, panel_hidden_settings=frozenset()))
    assert {"hostname", "accounts", "rbl_zones"} <= {spec.name for spec in setting_specs("sims")}
