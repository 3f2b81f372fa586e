"""Property tests: where only trusted clients may relay, nothing an outsider sends gets relayed.

Whatever the sender claims and however the recipient is written (percent
hack, bang paths, quoted local parts, source routes, literals, letter case,
trailing dots), an untrusted client must not get a message into the relay
queue (RFC 2505 §2.1).
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simlab

LOCALS = st.sampled_from(["bob", "relaytest", "postmaster", "Postmaster", "x", "user_name"])
DOMAINS = st.sampled_from(["example.com", "EXAMPLE.COM", "example.com.", "mail.example.com", "sub.example.com",
                           "remote.test", "[192.0.2.25]", "[203.0.113.1]", "localhost", "partner.test"])


@st.composite
def addresses(draw):
    local, d1, d2 = draw(LOCALS), draw(DOMAINS), draw(DOMAINS)
    form = draw(st.integers(0, 10))
    return [f"{local}@{d1}", f"{local}%{d2}@{d1}", f'"{local}@{d2}"@{d1}', f"{d2}!{local}", f"{d2}!{local}@{d1}",
            f"@{d1}:{local}@{d2}", f"{local}@{d2}@{d1}", local, f'"{local}%{d2}"', f"@{d1},@{d2}:{local}@{d2}",
            f"{local}%{d2}"][form]


def path(text):
    return st.sampled_from([f"<{text}>", text, f"<{text}> SIZE=100", f" <{text}>"])


commands = st.one_of(
    addresses().flatmap(lambda a: path(a).map(lambda p: f"MAIL FROM:{p}")),
    st.just("MAIL FROM:<>"),
    addresses().flatmap(lambda a: path(a).map(lambda p: f"RCPT TO:{p}")),
    st.sampled_from(["RSET", "NOOP", "HELO outside.test", "EHLO example.com", "AUTH PLAIN AGJvYgB4",
                     "AUTH LOGIN", "*", "VRFY bob", "DATA", "."]),
    st.text(max_size=40),
)

SERVERS = {
    "sims": lambda: simlab.presets.sims(client_hosts=["192.0.2.0/24"], accounts={"bob": "s3cret", "x": "y"}),
    "postfix": lambda: simlab.presets.postfix(mydestination=["$myhostname", "example.com"],
                                              mynetworks=["192.0.2.0/24"], accounts={"bob": "s3cret", "x": "y"},
                                              smtpd_sasl_auth_enable=True, inet_interfaces=["192.0.2.25"],
                                              smtpd_hard_error_limit=1000),
    "eims-2.1 with valid IP": lambda: simlab.presets.eims_2_1(accounts={"bob": "s3cret", "x": "y"},
                                                              relay_restriction=True, require_valid_ip=True,
                                                              valid_ips=["192.0.2.0/24"]),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SERVERS)), script=st.lists(commands, max_size=12),
       client=st.sampled_from(["203.0.113.7", "198.51.100.9", "192.0.3.1"]))
def test_untrusted_client_never_relays(name, script, client):
    server = SERVERS[name]()
    session = server.smtp_session(client)
    for line in [*script, "DATA", "body", "."]:
        if session.closed:
            break
        session.send(line)
    assert server.queue == [], (name, script, server.queue[0].recipients)


@settings(max_examples=200, deadline=None)
@given(script=st.lists(st.one_of(st.text(max_size=80), st.binary(max_size=60).map(
    lambda b: b.decode("latin-1"))), max_size=25))
def test_garbage_never_raises_and_always_gets_a_reply(script):
    server = SERVERS["postfix"]()
    session = server.smtp_session("203.0.113.7")
    for line in script:
        if session.closed:
            break
        reply = session.send(line)
        assert reply is None or 200 <= reply.code < 600
    pop = server.pop3_session("203.0.113.7")
    for line in script:
        if pop.closed:
            break
        assert pop.send(line).status in ("+OK", "-ERR")


@settings(max_examples=100, deadline=None)
@given(recipient=addresses())
def test_trusted_client_relays_foreign_and_keeps_local_mail(recipient):
    server = SERVERS["postfix"]()
    session = server.smtp_session("192.0.2.10")
    for line in ["EHLO lan.test", "MAIL FROM:<bob@example.com>", f"RCPT TO:<{recipient}>", "DATA", "x", "."]:
        session.send(line)
    delivered = sum(len(box) for box in server.mailboxes.values())
    assert delivered + len(server.queue) <= 1
    accepted = any(line.startswith("S: 250 2.0.0 Ok: queued") for line in session.transcript)
    assert accepted == (delivered + len(server.queue) == 1)
