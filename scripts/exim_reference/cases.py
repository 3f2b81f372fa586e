"""SMTP dialogues replayed against a real Exim by ``capture.py``.

This module is plain data (plus a few loops that expand the recipient and
relay-test matrices).  It is committed so that the golden file
``tests/data/exim_reference.json`` can be re-recorded; it is never imported
by the test suite.

Every case is a dict with these keys:

``name``
    Unique (per config) identifier, ``group/detail``.
``client_ip``
    The address given to ``exim4 -bh <client_ip>``: Exim runs the whole
    dialogue as if it came from that host.  ``OUTSIDE`` (203.0.113.7) is
    untrusted; ``INSIDE`` (192.0.2.10) is in ``dc_relay_nets``
    (192.0.2.0/24); ``LOOPBACK`` (127.0.0.1) is in ``relay_from_hosts``
    because Debian adds 127.0.0.1 and ::1 to it.
``helo``
    Name sent as ``EHLO <helo>`` (or ``HELO <helo>`` when ``greeting`` is
    ``"HELO"``).  ``None`` means no greeting at all: the session starts with
    ``commands`` straight after the banner.
``greeting``
    Optional, default ``"EHLO"``.
``commands``
    Lines sent after the greeting, one at a time, each followed by reading
    the complete reply.  An entry containing ``\\n`` is a message body sent
    after a ``DATA`` answered with 354: its lines are sent with CRLF (it must
    be dot-stuffed and end with the ``.`` line) and only the reply to the
    final ``.`` is read.

Every case ends with ``QUIT``.  Every case is run under every config in
``CONFIGS`` (``update-exim4.conf.conf-A`` / ``-B``).
"""

CONFIGS = ("A", "B")

OUTSIDE = "203.0.113.7"  # untrusted client (TEST-NET-3)
INSIDE = "192.0.2.10"  # inside dc_relay_nets = 192.0.2.0/24 (TEST-NET-1)
LOOPBACK = "127.0.0.1"  # Debian adds 127.0.0.1 : ::1 to relay_from_hosts
CLIENTS = (("outside", OUTSIDE), ("inside", INSIDE), ("loopback", LOOPBACK))
HELO = "client.test"

SENDER = "MAIL FROM:<alice@remote.test>"
BODY = "Subject: hi\n\nhello\n..dotted\n."


def _case(name, commands, client_ip=OUTSIDE, helo=HELO, greeting="EHLO"):
    case = {"name": name, "client_ip": client_ip, "helo": helo,
            "commands": [*commands, "QUIT"]}
    if greeting != "EHLO":
        case["greeting"] = greeting
    return case


def _everywhere(name, commands, **kwargs):
    """The same dialogue from each of the three clients."""
    return [_case(f"{name}/{where}", commands, client_ip=ip, **kwargs)
            for where, ip in CLIENTS]


# --------------------------------------------------------------------------
# 1. Sequence errors, syntax errors, greetings, a short DATA transaction.
# --------------------------------------------------------------------------
BASIC = [
    _case("seq/rcpt-before-mail", ["RCPT TO:<bob@example.com>"]),
    _case("seq/data-before-mail", ["DATA"]),
    _case("seq/data-without-rcpt", [SENDER, "DATA"]),
    _case("seq/nested-mail", [SENDER, SENDER]),
    _case("seq/mail-without-helo", [SENDER, "RCPT TO:<bob@example.com>"], helo=None),
    _case("seq/rset-after-mail", [SENDER, "RSET", "RCPT TO:<bob@example.com>"]),
    _case("greeting/helo", [SENDER, "RCPT TO:<bob@example.com>"], greeting="HELO"),
    _case("greeting/noop", ["NOOP"]),
    _case("syntax/mail-no-brackets", ["MAIL FROM:bob"]),
    _case("syntax/mail-unqualified", ["MAIL FROM:<bob>"]),
    _case("syntax/mail-no-brackets-qualified", ["MAIL FROM:alice@remote.test",
                                                "RCPT TO:<bob@example.com>"]),
    _case("syntax/mail-empty", ["MAIL FROM:"]),
    _case("syntax/mail-to", ["MAIL TO:<alice@remote.test>"]),
    _case("syntax/rcpt-empty", [SENDER, "RCPT TO:"]),
    _case("syntax/rcpt-null", [SENDER, "RCPT TO:<>"]),
    _case("syntax/rcpt-no-brackets", [SENDER, "RCPT TO:bob@example.com"]),
    _case("syntax/lowercase-commands",
          ["mail from:<alice@remote.test>", "rcpt to:<bob@example.com>"]),
    _case("syntax/space-after-colon",
          ["MAIL FROM: <alice@remote.test>", "RCPT TO: <bob@example.com>"]),
    _case("verb/unknown-foo", ["FOO"]),
    _case("verb/help", ["HELP"]),
    _case("verb/vrfy", ["VRFY bob@example.com", "VRFY bob"]),
    _case("verb/expn", ["EXPN bob"]),
    _case("verb/helo-no-arg", ["HELO"]),
    _case("verb/ehlo-no-arg", ["EHLO"]),
    _case("verb/rset-argument", ["RSET x", "NOOP x"]),
    _case("errors/four-unknown-commands", ["FOO", "FOO", "FOO", "FOO", "NOOP"]),
    _case("errors/four-syntax-errors",
          ["MAIL FROM:<a b@remote.test>", "MAIL FROM:<a@remote.test", "MAIL FROM:a@remote.test>",
           "MAIL FROM:<a@-x.test>", "NOOP"]),
    _case("errors/unqualified-not-counted",
          [SENDER, "RCPT TO:<bob>", "RCPT TO:<bob>", "RCPT TO:<bob>", "RCPT TO:<bob>",
           "RCPT TO:<bob@example.com>"]),
    _case("errors/too-many-bad-recipients",
          [SENDER] + ["RCPT TO:<x@remote.test>"] * 12 + ["RCPT TO:<bob@example.com>"]),
    _case("mail/size-too-big", ["MAIL FROM:<alice@remote.test> SIZE=99999999999"]),
    _case("mail/size-ok", ["MAIL FROM:<alice@remote.test> SIZE=1000 BODY=8BITMIME",
                           "RCPT TO:<bob@example.com>"]),
    _case("mail/unknown-param", ["MAIL FROM:<alice@remote.test> FOO=BAR"]),
    _case("rcpt/notify-param", [SENDER, "RCPT TO:<bob@example.com> NOTIFY=NEVER"]),
    _case("data/after-two-same-refusals",
          [SENDER, "RCPT TO:<x@remote.test>", "RCPT TO:<y@remote.test>", "DATA"]),
    _case("data/after-two-different-refusals",
          [SENDER, "RCPT TO:<x@remote.test>", "RCPT TO:<nosuchuser@example.com>", "DATA"]),
    _case("data/after-syntax-refusal", [SENDER, "RCPT TO:<bob@[192.0.2.1]>", "DATA"]),
    _case("data/after-noop", [SENDER, "RCPT TO:<x@remote.test>", "NOOP", "DATA"]),
    _case("data/after-rset", [SENDER, "RCPT TO:<x@remote.test>", "RSET", SENDER, "DATA"]),
    _case("data/after-rcpt-before-mail", ["RCPT TO:<x@remote.test>", "DATA"]),
    _case("data/helo-after-refusal", [SENDER, "RCPT TO:<x@remote.test>", "DATA"],
          greeting="HELO"),
    _case("data/one-refused-one-accepted",
          [SENDER, "RCPT TO:<x@remote.test>", "RCPT TO:<bob@example.com>", "DATA", BODY]),
    *_everywhere("data/local-user",
                 [SENDER, "RCPT TO:<bob@example.com>", "DATA", BODY]),
    _case("data/two-recipients-one-bad",
          [SENDER, "RCPT TO:<bob@example.com>", "RCPT TO:<nosuchuser@example.com>",
           "DATA", "Subject: two\n\nbody\n."]),
]

# --------------------------------------------------------------------------
# 2. Senders: the null sender, domain literals, the spoofed local sender.
# --------------------------------------------------------------------------
SENDERS = [
    *_everywhere("mail/null-sender", ["MAIL FROM:<>", "RCPT TO:<bob@example.com>",
                                      "RCPT TO:<carol@remote.test>"]),
    *_everywhere("mail/domain-literal-local", ["MAIL FROM:<bob@[127.0.0.1]>",
                                               "RCPT TO:<bob@example.com>"]),
    *_everywhere("mail/domain-literal-foreign", ["MAIL FROM:<alice@[198.51.100.1]>",
                                                 "RCPT TO:<bob@example.com>"]),
    *_everywhere("mail/local-sender", ["MAIL FROM:<bob@example.com>",
                                       "RCPT TO:<alice@example.com>"]),
    *_everywhere("mail/source-routed-sender",
                 ["MAIL FROM:<@relay.test:alice@remote.test>",
                  "RCPT TO:<bob@example.com>"]),
]

# --------------------------------------------------------------------------
# 3. Recipient classification, from each client.
# --------------------------------------------------------------------------
RECIPIENTS = [
    "<bob@example.com>",
    "<bob@mail.example.com>",
    "<bob@localhost>",
    "<alice@example.com>",
    "<webmaster@example.com>",  # alias in /etc/aliases (and a system account)
    "<user_name@example.com>",
    "<nosuchuser@example.com>",  # unknown local user
    "<nosuchuser@mail.example.com>",
    "<postmaster>",
    "<Postmaster>",
    "<postmaster@example.com>",
    "<Postmaster@example.com>",
    "<postmaster@mail.example.com>",
    "<postmaster@remote.test>",
    "<postmaster@partner.test>",
    "<BOB@EXAMPLE.COM>",
    "<bob@Example.COM>",
    "<Bob@example.com>",
    "<carol@remote.test>",
    "<x@partner.test>",
    "<bob@sub.example.com>",
    "<bob@[127.0.0.1]>",
    "<bob@[192.0.2.25]>",
    "<carol@[198.51.100.1]>",
    "<@mail.example.com:bob@example.com>",
    "<@mail.example.com:carol@remote.test>",
    "<@remote.test:bob@example.com>",
    "<@a.test,@b.test:carol@remote.test>",
    "<bob%remote.test@example.com>",
    "<carol%remote.test@mail.example.com>",
    "<remote.test!carol@example.com>",
    "<remote.test!carol>",
    "<bob%example.com@remote.test>",
    "<bob>",
    "<nosuchuser>",
    '<"bob"@example.com>',
    '<"b o b"@example.com>',
    "<bob@example.com.>",
    "<.bob@example.com>",
    "<bob/x@example.com>",
]

RCPT_CASES = [
    _case(f"rcpt-{where}/{rcpt}", [SENDER, "RCPT TO:" + rcpt], client_ip=ip)
    for where, ip in CLIENTS
    for rcpt in RECIPIENTS
]

# --------------------------------------------------------------------------
# 4. The 16 address forms of nmap's smtp-open-relay script.
#    S = the server's name, IP = the server's address, D = target domain.
# --------------------------------------------------------------------------
NMAP_S = "mail.example.com"
NMAP_IP = "127.0.0.1"
NMAP_DOMAINS = {"remote": "nmap.scanme.test", "local": "example.com"}


def nmap_forms(d, s=NMAP_S, ip=NMAP_IP, frm="antispam", to="relaytest"):
    """Return the 16 (MAIL FROM, RCPT TO) pairs in nmap's order."""
    routed_from = f"<{frm}@[{ip}]>"
    return [
        ("<>", f"<{to}@{d}>"),
        (f"<{frm}@{d}>", f"<{to}@{d}>"),
        (f"<{frm}@{s}>", f"<{to}@{d}>"),
        (routed_from, f"<{to}@{d}>"),
        (routed_from, f"<{to}%{d}@[{ip}]>"),
        (routed_from, f"<{to}%{d}@{s}>"),
        (routed_from, f'<"{to}@{d}">'),
        (routed_from, f'<"{to}%{d}">'),
        (routed_from, f"<{to}@{d}@[{ip}]>"),
        (routed_from, f'<"{to}@{d}"@[{ip}]>'),
        (routed_from, f"<{to}@{d}@{s}>"),
        (routed_from, f"<@[{ip}]:{to}@{d}>"),
        (routed_from, f"<@{s}:{to}@{d}>"),
        (routed_from, f"<{d}!{to}>"),
        (routed_from, f"<{d}!{to}@[{ip}]>"),
        (routed_from, f"<{d}!{to}@{s}>"),
    ]


# nmap's own pairs.  Forms 4-16 use the sender <antispam@[127.0.0.1]>, which
# Exim refuses at MAIL (domain literals not allowed), so their RCPT only shows
# "503 sender not yet given"; the "nmaprcpt-" cases send the same RCPT forms
# after an ordinary sender to show how Exim judges each recipient form.
NMAP_CASES = [
    _case(f"nmap-{dkind}-{where}/{num:02d}",
          ["MAIL FROM:" + frm, "RCPT TO:" + rcpt], client_ip=ip)
    for dkind, d in NMAP_DOMAINS.items()
    for where, ip in CLIENTS
    for num, (frm, rcpt) in enumerate(nmap_forms(d), start=1)
] + [
    _case(f"nmaprcpt-{dkind}-{where}/{num:02d}", [SENDER, "RCPT TO:" + rcpt], client_ip=ip)
    for dkind, d in (("remote", NMAP_DOMAINS["remote"]), ("localbob", "example.com"))
    for where, ip in CLIENTS
    for num, (_frm, rcpt) in enumerate(
        nmap_forms(d, to="bob" if dkind == "localbob" else "relaytest"), start=1)
    if num >= 4  # forms 1-3 differ only in the sender
]

# --------------------------------------------------------------------------
# 5. The forum's spoofing dialogue (forged local sender, remote recipient).
# --------------------------------------------------------------------------
SPOOF_COMMANDS = ["MAIL FROM:<Postmaster@example.com>",
                  "RCPT TO:<user_name@remote.test>", "DATA", "."]
SPOOF_CASES = _everywhere("spoof", SPOOF_COMMANDS)

CASES = BASIC + SENDERS + RCPT_CASES + NMAP_CASES + SPOOF_CASES

_names = [c["name"] for c in CASES]
assert len(_names) == len(set(_names)), "case names must be unique"
