"""SMTP dialogues replayed against a real Postfix by ``capture.py``.

This module is plain data (plus a few loops that expand the recipient and
relay-test matrices).  It is committed so that the golden file
``tests/data/postfix_reference.json`` can be re-recorded; it is never imported
by the test suite.

Every case is a dict with these keys:

``name``
    Unique (per config) identifier, ``group/detail``.
``client_ip``
    Address announced with ``XCLIENT ADDR=...``.  ``OUTSIDE`` (203.0.113.7)
    is untrusted; ``INSIDE`` (192.0.2.10) is inside ``mynetworks``.
    ``DIRECT`` (127.0.0.1) is the capture client's real address, used by the
    "direct/" cases together with ``xclient: False``.
``xclient``
    Optional, default ``True``.  ``False`` sends no XCLIENT at all, so
    Postfix sees the real client 127.0.0.1 (untrusted too, as mynetworks is
    192.0.2.0/24); these cases show the log lines of a plain session.
``helo``
    HELO name announced with ``XCLIENT HELO=...`` and then sent as
    ``EHLO <helo>``.  ``None`` means: XCLIENT carries no HELO= attribute and
    no EHLO is sent (the session starts with ``commands`` straight away).
``commands``
    Lines sent after the EHLO, one at a time, each followed by reading the
    complete reply.  An entry that follows a ``DATA`` which was answered with
    354 is a message body: its ``\\n``-separated lines are sent with CRLF
    (the body must already be dot-stuffed and must end with the ``.`` line)
    and only the reply to the final ``.`` is read.

Every case ends with ``QUIT`` so that Postfix logs a normal
``disconnect from ...`` line with its command counters.

``port``
    Optional, default 25.  The submission cases (``SUBMISSION_CASES``) use
    587, the submission service of Debian's ``master.cf`` (config C).

``CASES`` run under configs A and B (see ``main-A.cf``/``main-B.cf``);
``SUBMISSION_CASES`` under config C only (``main-C.cf`` and Debian's
``master.cf`` with the submission entry uncommented): :func:`cases_for`.
"""

import base64

CONFIGS = ("A", "B", "C")

OUTSIDE = "203.0.113.7"  # untrusted client (TEST-NET-3)
INSIDE = "192.0.2.10"  # inside mynetworks = 192.0.2.0/24 (TEST-NET-1)
DIRECT = "127.0.0.1"  # the capture client itself (no XCLIENT)
HELO = "client.test"

SENDER = "MAIL FROM:<alice@remote.test>"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


AUTH_PLAIN_GOOD = _b64(b"\0bob\0s3cret")  # AGJvYgBzM2NyZXQ=
AUTH_PLAIN_BAD = _b64(b"\0bob\0wrong")  # AGJvYgB3cm9uZw==
AUTH_LOGIN_USER = _b64(b"bob")  # Ym9i
AUTH_LOGIN_PASS = _b64(b"s3cret")  # czNjcmV0

# "MAIL FROM:<" (11) + local part + "@remote.test>" (13)
LONG_1100 = "MAIL FROM:<" + "a" * (1100 - 24) + "@remote.test>"
LONG_2100 = "MAIL FROM:<" + "a" * (2100 - 24) + "@remote.test>"
assert len(LONG_1100) == 1100 and len(LONG_2100) == 2100


def _case(name, commands, client_ip=OUTSIDE, helo=HELO, xclient=True, port=25):
    case = {"name": name, "client_ip": client_ip, "helo": helo,
            "commands": list(commands) + ["QUIT"]}
    if not xclient:
        case["xclient"] = False
    if port != 25:
        case["port"] = port
    return case


# --------------------------------------------------------------------------
# 1-2. Sequence errors, syntax errors and the other verbs (outside client).
# --------------------------------------------------------------------------
BASIC = [
    _case("seq/mail-without-ehlo", [SENDER], helo=None),
    _case("seq/rcpt-before-mail", ["RCPT TO:<bob@example.com>"]),
    _case("seq/data-before-mail", ["DATA"]),
    _case("seq/nested-mail",
          ["MAIL FROM:<a@remote.test>", "MAIL FROM:<a@remote.test>"]),
    _case("seq/data-without-rcpt", [SENDER, "DATA"]),
    _case("syntax/mail-no-brackets", ["MAIL FROM:alice@remote.test"]),
    _case("syntax/mail-empty-domain", ["MAIL FROM:<alice@>"]),
    _case("syntax/mail-null-sender", ["MAIL FROM:<>"]),
    _case("syntax/mail-to", ["MAIL TO:<x>"]),
    _case("syntax/rcpt-empty", [SENDER, "RCPT TO:"]),
    _case("syntax/rcpt-null", [SENDER, "RCPT TO:<>"]),
    _case("verb/unknown-foo", ["FOO"]),
    _case("verb/helo-no-arg", ["HELO"]),
    _case("verb/ehlo-no-arg", ["EHLO"]),
    _case("verb/helo", ["HELO client.test"]),
    _case("verb/noop", ["NOOP"]),
    _case("verb/rset", ["RSET"]),
    _case("verb/rset-after-mail", [SENDER, "RSET", "RCPT TO:<bob@example.com>"]),
    _case("verb/vrfy-known", ["VRFY bob"]),
    _case("verb/vrfy-unknown", ["VRFY nobody"]),
    _case("verb/help", ["HELP"]),
    _case("verb/quit", []),
    _case("data/queued",
          [SENDER, "RCPT TO:<bob@example.com>", "DATA",
           "Subject: hi\n\nhello\n..dotted\n."]),
    _case("line/1100-chars", [LONG_1100]),
    _case("line/2100-chars", [LONG_2100]),
    _case("mail/size-too-big", ["MAIL FROM:<alice@remote.test> SIZE=99999999999"]),
    _case("mail/size-ok", ["MAIL FROM:<alice@remote.test> SIZE=1000"]),
    # SMTP AUTH through Dovecot SASL (user bob, password s3cret).
    _case("auth/plain-good",
          ["AUTH PLAIN " + AUTH_PLAIN_GOOD, SENDER, "RCPT TO:<x@remote.test>"]),
    _case("auth/plain-bad", ["AUTH PLAIN " + AUTH_PLAIN_BAD]),
    _case("auth/plain-no-initial-response", ["AUTH PLAIN", AUTH_PLAIN_GOOD]),
    _case("auth/login-good", ["AUTH LOGIN", AUTH_LOGIN_USER, AUTH_LOGIN_PASS]),
    _case("auth/login-abort", ["AUTH LOGIN", "*"]),
    _case("auth/cram-md5-unsupported", ["AUTH CRAM-MD5"]),
    _case("auth/twice",
          ["AUTH PLAIN " + AUTH_PLAIN_GOOD, "AUTH PLAIN " + AUTH_PLAIN_GOOD]),
    _case("auth/during-mail", [SENDER, "AUTH PLAIN " + AUTH_PLAIN_GOOD]),
]

# --------------------------------------------------------------------------
# 3. Recipient classification, from outside and from inside mynetworks.
# --------------------------------------------------------------------------
RECIPIENTS = [
    "<bob@example.com>",
    "<BOB@EXAMPLE.COM>",
    "<nobody@example.com>",
    "<postmaster>",
    "<Postmaster>",
    "<bob>",
    "<postmaster@example.com>",
    "<bob@mail.example.com>",
    "<bob@sub.example.com>",
    "<bob@partner.test>",
    "<x@remote.test>",
    "<bob@[127.0.0.1]>",
    "<bob@[192.0.2.99]>",
    "<bob@example.com.>",
    '<"bob"@example.com>',
    '<"b o b"@example.com>',
]

RCPT_CASES = [
    _case(f"rcpt-{where}/{rcpt}", [SENDER, "RCPT TO:" + rcpt], client_ip=ip)
    for where, ip in (("outside", OUTSIDE), ("inside", INSIDE))
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


# The same forms with a recipient that exists (bob) in the local domain:
# shows which routed forms Postfix resolves back to a local mailbox.
NMAP_LOCAL_BOB = nmap_forms(NMAP_DOMAINS["local"], to="bob")

NMAP_CASES = [
    _case(f"nmap-{dkind}-{where}/{num:02d}",
          ["MAIL FROM:" + frm, "RCPT TO:" + rcpt], client_ip=ip)
    for dkind, d in NMAP_DOMAINS.items()
    for where, ip in (("outside", OUTSIDE), ("inside", INSIDE))
    for num, (frm, rcpt) in enumerate(nmap_forms(d), start=1)
] + [
    _case(f"nmap-localbob-{where}/{num:02d}",
          ["MAIL FROM:" + frm, "RCPT TO:" + rcpt], client_ip=ip)
    for where, ip in (("outside", OUTSIDE), ("inside", INSIDE))
    for num, (frm, rcpt) in enumerate(NMAP_LOCAL_BOB, start=1)
]

# --------------------------------------------------------------------------
# 5. The forum's spoofing dialogue (forged local sender, remote recipient).
# --------------------------------------------------------------------------
SPOOF_COMMANDS = ["MAIL FROM:<Postmaster@example.com>",
                  "RCPT TO:<user_name@remote.test>", "DATA", "."]
SPOOF_CASES = [
    _case("spoof/outside", SPOOF_COMMANDS, client_ip=OUTSIDE),
    _case("spoof/inside", SPOOF_COMMANDS, client_ip=INSIDE),
]

# --------------------------------------------------------------------------
# Extras: command spelling variants, verbs not in the main table, and
# sessions without XCLIENT (to see the log format of a direct connection).
# --------------------------------------------------------------------------
EXTRA_CASES = [
    _case("extra/lowercase-commands",
          ["mail from:<alice@remote.test>", "rcpt to:<bob@example.com>"]),
    _case("extra/space-after-colon",
          ["MAIL FROM: <alice@remote.test>", "RCPT TO: <bob@example.com>"]),
    _case("extra/rcpt-notify-param",
          [SENDER, "RCPT TO:<bob@example.com> NOTIFY=NEVER"]),
    _case("extra/rcpt-unknown-param", [SENDER, "RCPT TO:<bob@example.com> FOO=BAR"]),
    _case("extra/mail-body-8bitmime", ["MAIL FROM:<alice@remote.test> BODY=8BITMIME"]),
    _case("extra/starttls-not-offered", ["STARTTLS"]),
    _case("extra/expn", ["EXPN bob"]),
    _case("extra/etrn", ["ETRN example.com"]),
    _case("extra/vrfy-full-address", ["VRFY <bob@example.com>"]),
    _case("extra/http-get", ["GET / HTTP/1.0"]),
    _case("extra/two-recipients-one-bad",
          [SENDER, "RCPT TO:<bob@example.com>", "RCPT TO:<nobody@example.com>",
           "DATA", "Subject: two\n\nbody\n."]),
    _case("direct/rcpt-unknown-user", [SENDER, "RCPT TO:<nobody@example.com>"],
          client_ip=DIRECT, xclient=False),
    _case("direct/rcpt-relay-denied", [SENDER, "RCPT TO:<x@remote.test>"],
          client_ip=DIRECT, xclient=False),
    _case("direct/rcpt-ok", [SENDER, "RCPT TO:<bob@example.com>"],
          client_ip=DIRECT, xclient=False),
]

CASES = BASIC + RCPT_CASES + NMAP_CASES + SPOOF_CASES + EXTRA_CASES

# --------------------------------------------------------------------------
# 6. Port 587: the submission service of Debian's master.cf (config C).
#    Who is refused without AUTH, with which reply, at which command; what
#    an authenticated client may do; the log's syslog_name.
# --------------------------------------------------------------------------
SUB = 587
LOCAL_RCPT = "RCPT TO:<bob@example.com>"
REMOTE_RCPT = "RCPT TO:<x@remote.test>"
UNKNOWN_RCPT = "RCPT TO:<nobody@example.com>"
SUBMISSION_CASES = [
    _case("sub/noop", ["NOOP"], port=SUB),
    _case("sub/unauth-local", [SENDER, LOCAL_RCPT, "DATA"], port=SUB),
    _case("sub/unauth-remote", [SENDER, REMOTE_RCPT], port=SUB),
    _case("sub/unauth-unknown-local", [SENDER, UNKNOWN_RCPT], port=SUB),
    _case("sub/unauth-null-sender", ["MAIL FROM:<>", LOCAL_RCPT], port=SUB),
    _case("sub/unauth-postmaster", [SENDER, "RCPT TO:<postmaster>"], port=SUB),
    _case("sub/inside-unauth-local", [SENDER, LOCAL_RCPT], client_ip=INSIDE, port=SUB),
    _case("sub/inside-unauth-remote", [SENDER, REMOTE_RCPT], client_ip=INSIDE, port=SUB),
    _case("sub/spoof-unauth", SPOOF_COMMANDS, port=SUB),
    _case("sub/vrfy-unauth", ["VRFY bob"], port=SUB),
    _case("sub/mail-without-ehlo", [SENDER, LOCAL_RCPT], helo=None, port=SUB),
    _case("sub/auth-plain-good",
          ["AUTH PLAIN " + AUTH_PLAIN_GOOD, SENDER, LOCAL_RCPT, REMOTE_RCPT, UNKNOWN_RCPT,
           "DATA", "Subject: sub\n\nbody\n."], port=SUB),
    _case("sub/auth-login-good",
          ["AUTH LOGIN", AUTH_LOGIN_USER, AUTH_LOGIN_PASS, SENDER, REMOTE_RCPT], port=SUB),
    _case("sub/auth-plain-bad", ["AUTH PLAIN " + AUTH_PLAIN_BAD, SENDER, REMOTE_RCPT], port=SUB),
    _case("sub/auth-twice", ["AUTH PLAIN " + AUTH_PLAIN_GOOD, "AUTH PLAIN " + AUTH_PLAIN_GOOD], port=SUB),
    _case("sub/auth-during-mail", [SENDER, "AUTH PLAIN " + AUTH_PLAIN_GOOD, LOCAL_RCPT], port=SUB),
    _case("sub/auth-spoofed-sender",
          ["AUTH PLAIN " + AUTH_PLAIN_GOOD, "MAIL FROM:<Postmaster@example.com>",
           "RCPT TO:<user_name@remote.test>"], port=SUB),
    _case("sub/nmap-remote-03", ["MAIL FROM:<antispam@mail.example.com>", "RCPT TO:<relaytest@nmap.scanme.test>"],
          port=SUB),
    _case("sub/nmap-remote-05", ["MAIL FROM:<antispam@[127.0.0.1]>", "RCPT TO:<relaytest%nmap.scanme.test@[127.0.0.1]>"],
          port=SUB),
    _case("direct/sub-unauth", [SENDER, LOCAL_RCPT], client_ip=DIRECT, xclient=False, port=SUB),
    _case("direct/sub-auth", ["AUTH PLAIN " + AUTH_PLAIN_GOOD, SENDER, REMOTE_RCPT, "DATA",
                              "Subject: sub\n\nbody\n."], client_ip=DIRECT, xclient=False, port=SUB),
]


def cases_for(config):
    """The cases recorded under ``config``."""
    return SUBMISSION_CASES if config == "C" else CASES


for _table in (CASES, SUBMISSION_CASES):
    _names = [c["name"] for c in _table]
    assert len(_names) == len(set(_names)), "case names must be unique"
