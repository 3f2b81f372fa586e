"""policyd-spf, OpenDKIM and OpenDMARC in Debian 12's Postfix: their replies and log lines, word for word."""

import re

import pytest

import simlab
from simlab import ConfigError
from simlab.auth import dkim as D

ZONE = {
    "example.com": [("TXT", "v=spf1 mx -all"), ("MX", (10, "mail.example.com"))],
    "mail.example.com": [("A", "192.0.2.25")],
    "_dmarc.example.com": [("TXT", "v=DMARC1; p=reject")],
    "mail._domainkey.example.com": [("TXT", D.key_record("example.com"))],
}
FORGED = ["From: <Postmaster@example.com>", "To: <user_name@yourcompany.test>", "Subject: MAKE MONEY FAST",
          "Message-ID: <1.spoofer@example.com>", "", "Act now!"]
LEGIT = ["From: <bob@example.com>", "To: <sales@remote.test>", "Subject: Re: the order",
         "Message-ID: <1.bob@example.com>", "", "See you Monday."]


def receiver(**settings):
    options = {"policyd_spf": True, "smtpd_milters": ["opendkim", "opendmarc"], "mynetworks": [],
               "opendmarc": {"RejectFailures": True}, "auth_dns": ZONE} | settings
    return simlab.presets.postfix(myhostname="mail.yourcompany.test", mydestination=["yourcompany.test"],
                                  inet_interfaces=["198.51.100.80"],
                                  accounts={"user_name": "x", "sales": "x"}, **options)


def send(server, ip, helo, sender, rcpt, lines):
    session = server.smtp_session(ip)
    replies = {}
    for line in [f"EHLO {helo}", f"MAIL FROM:<{sender}>", f"RCPT TO:<{rcpt}>"]:
        replies[line.split()[0]] = session.send(line)
    if replies["RCPT"].code == 250:
        session.send("DATA")
        session.send_lines(lines)
        replies["."] = session.send(".")
    session.send("QUIT")
    return replies


def body(line):
    """A log line without its syslog stamp and host."""
    return re.sub(r"^\w{3} +\d+ [\d:]{8} \S+ ", "", line)


def test_policyd_spf_refuses_the_direct_forgery_at_rcpt():
    server = receiver()
    replies = send(server, "203.0.113.50", "[203.0.113.50]", "Postmaster@example.com", "user_name@yourcompany.test",
                   FORGED)
    why = ("Message rejected due to: SPF fail - not authorized. Please see "
           "http://www.openspf.net/Why?s=mfrom;id=postmaster@example.com;ip=203.0.113.50;r=yourcompany.test")
    assert str(replies["RCPT"]) == f"550 5.7.23 <user_name@yourcompany.test>: Recipient address rejected: {why}"
    log = [body(line) for line in server.log]
    assert f"policyd-spf[1801]: 550 5.7.23 {why}" in log
    assert ("postfix/smtpd[2001]: NOQUEUE: reject: RCPT from unknown[203.0.113.50]: 550 5.7.23 "
            f"<user_name@yourcompany.test>: Recipient address rejected: {why}; from=<Postmaster@example.com> "
            "to=<user_name@yourcompany.test> proto=ESMTP helo=<[203.0.113.50]>") in log


def test_the_site_relaying_the_spoof_passes_spf_and_dmarc():
    server = receiver()
    replies = send(server, "192.0.2.25", "mail.example.com", "Postmaster@example.com", "user_name@yourcompany.test",
                   FORGED)
    assert replies["."].code == 250
    header = ("Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.25; helo=mail.example.com; "
              "envelope-from=postmaster@example.com; receiver=yourcompany.test ")
    delivered = server.mailboxes["user_name"][0].lines
    assert delivered[:3] == [
        "Authentication-Results: mail.yourcompany.test; dmarc=pass (p=reject dis=none) header.from=example.com",
        header, "Received: from mail.example.com (unknown [192.0.2.25])"]
    log = [body(line) for line in server.log]
    assert f"policyd-spf[1801]: prepend {header}" in log
    qid = delivered[3].split(" id ")[1]
    assert f"opendmarc[812]: {qid}: example.com pass" in log


def test_opendmarc_refuses_at_end_of_data_when_spf_is_left_to_it():
    server = receiver(policyd_spf={"Mail_From_reject": "False"})
    replies = send(server, "198.51.100.90", "mail.remote.test", "bob@example.com", "sales@yourcompany.test", LEGIT)
    assert str(replies["RCPT"]) == "250 2.1.5 Ok"
    assert str(replies["."]) == "550 5.7.1 rejected by DMARC policy for example.com"
    log = [body(line) for line in server.log]
    qid = next(line.split(": ")[1] for line in log if "client=" in line)
    assert f"opendmarc[812]: {qid}: example.com fail" in log
    assert (f"postfix/cleanup[1501]: {qid}: milter-reject: END-OF-MESSAGE from unknown[198.51.100.90]: 5.7.1 "
            "rejected by DMARC policy for example.com; from=<bob@example.com> to=<sales@yourcompany.test> "
            "proto=ESMTP helo=<mail.remote.test>") in log
    assert "sales" not in server.mailboxes


def test_a_signature_carries_the_forwarded_message_through_dmarc():
    site = simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"], accounts={"bob": "x"},
                                  smtpd_milters=["opendkim"],
                                  opendkim={"Domain": ["example.com"], "Selector": "mail",
                                            "InternalHosts": ["192.0.2.0/24"]})
    send(site, "192.0.2.101", "pc-bob", "bob@example.com", "sales@remote.test", LEGIT)
    [queued] = site.queue
    qid = queued.queue_id
    assert queued.lines[0].startswith("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.com;")
    assert f"opendkim[811]: {qid}: DKIM-Signature field added (s=mail, d=example.com)" in map(body, site.log)
    forwarder = simlab.presets.postfix(myhostname="mail.remote.test", mydestination=["remote.test"], mynetworks=[],
                                       inet_interfaces=["198.51.100.90"],
                                       virtual_alias_maps={"sales@remote.test": "sales@yourcompany.test"})
    send(forwarder, "192.0.2.25", "mail.example.com", "bob@example.com", "sales@remote.test", queued.lines)
    [forwarded] = forwarder.queue
    assert forwarded.recipients == ["sales@yourcompany.test"]
    assert forwarded.lines[3:] == queued.lines  # its own Received: on top, the rest unchanged
    server = receiver(policyd_spf={"Mail_From_reject": "False"})
    replies = send(server, "198.51.100.90", "mail.remote.test", "bob@example.com", "sales@yourcompany.test",
                   forwarded.lines)
    assert replies["."].code == 250
    lines = server.mailboxes["sales"][0].lines
    b = next(v for v in D.verify(lines, ZONE)).b[:8]
    assert lines[0] == ("Authentication-Results: mail.yourcompany.test; dmarc=pass (p=reject dis=none) "
                        "header.from=example.com")
    assert lines[1:3] == ["Authentication-Results: mail.yourcompany.test;",
                          "\tdkim=pass (2048-bit key; unprotected) header.d=example.com header.i=@example.com "
                          f"header.a=rsa-sha256 header.s=mail header.b={b}"]
    assert lines[3].startswith("Received-SPF: Fail (mailfrom) identity=mailfrom; client-ip=198.51.100.90;")
    log = [body(line) for line in server.log]
    assert any(line.startswith("opendkim[811]: ") and line.endswith(": DKIM verification successful") for line in log)


def test_quarantine_holds_the_message():
    zone = ZONE | {"_dmarc.example.com": [("TXT", "v=DMARC1; p=quarantine")]}
    server = receiver(auth_dns=zone, opendmarc={"RejectFailures": True, "HoldQuarantinedMessages": True})
    replies = send(server, "203.0.113.50", "[203.0.113.50]", "Postmaster@example.com", "ceo@yourcompany.test", FORGED)
    assert replies["RCPT"].code == 550  # Debian's policyd-spf refuses first
    server = receiver(auth_dns=zone, policyd_spf={"Mail_From_reject": "False"},
                      opendmarc={"RejectFailures": True, "HoldQuarantinedMessages": True})
    replies = send(server, "203.0.113.50", "[203.0.113.50]", "Postmaster@example.com", "user_name@yourcompany.test",
                   FORGED)
    assert replies["."].text.startswith("2.0.0 Ok: queued as")
    assert not server.mailboxes.get("user_name") and len(server.held) == 1
    assert server.held[0].lines[0].endswith("dmarc=fail (p=quarantine dis=quarantine) header.from=example.com")
    assert any("milter-hold: END-OF-MESSAGE from unknown[203.0.113.50]: milter triggers HOLD action; "
               "from=<Postmaster@example.com>" in line for line in server.log)


def test_debian_defaults_record_without_refusing():
    server = receiver(policyd_spf={"Mail_From_reject": "False"}, opendmarc=None)
    replies = send(server, "203.0.113.50", "[203.0.113.50]", "Postmaster@example.com", "user_name@yourcompany.test",
                   FORGED)
    assert replies["."].code == 250  # RejectFailures false: OpenDMARC only writes its verdict
    assert server.mailboxes["user_name"][0].lines[0].endswith("dmarc=fail (p=reject dis=none) header.from=example.com")


def test_a_bad_record_value_is_opendmarcs_permerror():
    zone = ZONE | {"_dmarc.example.com": [("TXT", "v=DMARC1; p=reject; pct=abc")]}
    server = receiver(auth_dns=zone, policyd_spf={"Mail_From_reject": "False"})
    send(server, "203.0.113.50", "[203.0.113.50]", "Postmaster@example.com", "user_name@yourcompany.test", FORGED)
    assert server.mailboxes["user_name"][0].lines[0] == (
        "Authentication-Results: mail.yourcompany.test; dmarc=permerror header.from=example.com")


def test_own_clients_are_not_checked():
    server = receiver(mynetworks=["192.0.2.0/24"])
    replies = send(server, "192.0.2.101", "pc-bob", "bob@example.com", "user_name@yourcompany.test", LEGIT)
    assert replies["RCPT"].code == 250 and not any("policyd-spf" in line for line in server.log)


@pytest.mark.parametrize(("settings", "match"), [
    ({"policyd_spf": {"Mail_From_reject": "Maybe"}}, "is not a value policyd-spf takes"),
    ({"policyd_spf": {"Nonsense": "1"}}, "is not a policyd-spf.conf setting"),
    ({"smtpd_milters": ["spamass"]}, "is not a mail filter simlab has"),
    ({"opendkim": {"Mode": "x"}}, "is not an OpenDKIM mode"),
    ({"opendkim": {"Colour": "red"}}, "is not an opendkim.conf setting"),
    ({"opendmarc": {"RejectFailures": "yes"}}, "is not a switch"),
    ({"smtpd_milters": ["opendkim"], "opendmarc": {"RejectFailures": True}}, "does not list"),
    ({"smtpd_milters": [], "policyd_spf": None, "opendmarc": None, "virtual_alias_maps": {"a@remote.test": "nobody"}},
     "is not an address"),
    ({"smtpd_milters": ["opendkim"], "opendkim": {"Domain": ["example.net"], "Selector": "mail"}},
     "is not a key simlab ships"),
])
def test_bad_settings_name_the_field(settings, match):
    with pytest.raises(ConfigError, match=match):
        receiver(**settings)
