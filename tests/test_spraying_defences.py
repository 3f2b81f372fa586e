"""Each defence against password spraying: its behaviour, its wording, its log lines."""

import base64

import pytest

import simlab
from simlab.errors import ConfigError
from simlab.restrictions.guards import Fail2Ban
from simlab.restrictions.logins import (
    AUTH_PENALTY_TIMEOUT,
    AccountJail,
    DovecotAuthPenalty,
    LoginLockout,
    login_checksum,
    penalty_to_secs,
)
from simlab.restrictions.postscreen import Postscreen

ACCOUNTS = {"bob": "s3cret", "info": "letmein"}
BOT = "203.0.113.5"


def server(*restrictions, **settings):
    return simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"], accounts=ACCOUNTS,
                                  restrictions=list(restrictions), **settings)


def auth(srv, user, password, ip=BOT, port=587):
    s = srv.smtp_session(ip, port=port)
    if s.greeting is None:
        return None
    s.send("EHLO bot.test")
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    reply = s.send(f"AUTH PLAIN {token}")
    s.send("QUIT")
    return reply


def pop3(srv, user, password, ip=BOT):
    p = srv.pop3_session(ip)
    if p.greeting is None:
        return None
    p.send(f"USER {user}")
    reply = p.send(f"PASS {password}")
    p.close()
    return reply


# --- Dovecot's auth penalty ---------------------------------------------------------------------------
def test_penalty_seconds_follow_auth_penalty_c():
    assert [penalty_to_secs(p) for p in range(6)] == [2, 4, 8, 15, 15, 15]
    assert AUTH_PENALTY_TIMEOUT == 29


def test_penalty_doubles_per_address_and_fifteen_quiet_seconds_clear_it():
    penalty = DovecotAuthPenalty()
    srv = server(penalty)
    delays = []
    for n in range(5):
        delays.append(auth(srv, "bob", f"guess{n}").delay)
    # first failure: no penalty yet, 2 s failure delay; then waits of 4, 8, 15, 15 s before the check
    assert delays == [2.0, 6.0, 10.0, 17.0, 17.0]
    assert pop3(srv, "bob", "again").delay == 17.0  # POP3 and SMTP AUTH share the address's penalty
    srv.clock.advance(15 + 15)  # the last attempt was checked after its 15 s wait; then 15 s of quiet
    assert auth(srv, "bob", "later").delay == 2.0  # 15 s since the penalty last rose: forgiven
    other = auth(srv, "bob", "guess", ip="203.0.113.6")
    assert other.delay == 2.0  # keyed by address: a new bot starts clean


def test_penalty_ignores_the_same_password_again_and_resets_on_success():
    penalty = DovecotAuthPenalty()
    srv = server(penalty)
    assert auth(srv, "bob", "old").delay == 2.0
    assert auth(srv, "bob", "old").delay == 6.0  # waits for the penalty of the first failure ...
    assert auth(srv, "bob", "old").delay == 6.0  # ... but a repeated user+password does not raise it
    ok = auth(srv, "bob", "s3cret")
    assert ok.code == 235 and ok.delay == 4.0
    assert auth(srv, "bob", "x").delay == 2.0  # the success reset it


def test_the_presets_simpler_failure_delay_steps_aside_for_the_penalty():
    plain = server()  # the preset's FailureDelay alone: 2, 4, 8, 15 s, remembered for an hour
    assert [pop3(plain, "bob", f"g{n}").delay for n in range(4)] == [2.0, 4.0, 8.0, 15.0]
    faithful = server(DovecotAuthPenalty())
    assert [pop3(faithful, "bob", f"g{n}").delay for n in range(4)] == [2.0, 6.0, 10.0, 17.0]


def test_penalty_forgets_an_address_after_its_timeout():
    penalty = DovecotAuthPenalty()
    srv = server(penalty)
    auth(srv, "bob", "a")
    srv.clock.advance(AUTH_PENALTY_TIMEOUT)  # the failure was recorded when it came (no wait before it)
    assert penalty.lookup(BOT, srv.clock.now) == 0 and BOT not in penalty.records
    assert login_checksum("bob", "a") != login_checksum("info", "a") != 0


def test_trusted_networks_have_no_penalty():
    srv = server(DovecotAuthPenalty(trusted=["192.0.2.0/24"]))
    assert [auth(srv, "bob", f"g{n}", ip="192.0.2.50").delay for n in range(3)] == [0.0, 0.0, 0.0]


# --- anvil's smtpd_client_auth_rate_limit -------------------------------------------------------------
def test_anvil_auth_rate_limit_reply_and_warning_name_the_service():
    srv = server(smtpd_client_auth_rate_limit=2, submissions=True)
    codes = [auth(srv, "bob", f"g{n}").code for n in range(3)]
    assert codes == [535, 535, 450]
    reply = auth(srv, "bob", "g", port=465)
    assert reply.code == 535  # counted per service: submissions has its own count
    s = srv.smtp_session(BOT, port=587)
    s.send("EHLO bot.test")
    assert str(s.send("AUTH PLAIN AGJvYgB4")) == "450 4.7.1 Error: too many AUTH commands from 203.0.113.5"
    warnings = [line for line in srv.log if "rate limit exceeded" in line]
    assert warnings[0].endswith("postfix/submission/smtpd[2003]: warning: AUTH command rate limit exceeded: 3 from "
                                "unknown[203.0.113.5] for service submission")
    srv.clock.advance(60)
    assert auth(srv, "bob", "s3cret").code == 235  # a new time unit


def test_submissions_port_465_is_its_own_smtpd_entry():
    srv = server(submissions=True)
    assert auth(srv, "bob", "s3cret", port=465).code == 235
    auth(srv, "bob", "bad", port=465)
    assert any("postfix/submissions/smtpd[" in line and "SASL PLAIN authentication failed" in line for line in srv.log)
    closed = server()
    assert closed.smtp_session(BOT, port=465).greeting is None  # commented out in master.cf: nothing listens


# --- the per-account jail ------------------------------------------------------------------------------
def test_account_jail_counts_per_account_across_addresses_and_services():
    jail = AccountJail(maxretry=3, findtime=600, bantime=3600, allow_nets=["192.0.2.0/24"])
    srv = server(jail)
    auth(srv, "info", "a", ip="203.0.113.5")
    pop3(srv, "info", "b", ip="203.0.113.6")
    assert not jail.is_jailed("info", srv.clock.now)
    auth(srv, "info", "c", ip="198.18.0.9", port=587)
    assert jail.is_jailed("info", srv.clock.now) and [b.account for b in jail.account_bans] == ["info"]
    # the right password from outside now fails exactly as a wrong one does, on every service
    assert str(auth(srv, "info", "letmein", ip="198.18.0.10")) == \
        "535 5.7.8 Error: authentication failed: (reason unavailable)"
    assert str(pop3(srv, "info", "letmein", ip="198.18.0.11")) == "-ERR [AUTH] Authentication failed."
    assert pop3(srv, "info", "letmein", ip="192.0.2.40").ok  # the site's own network still gets in
    assert jail.refused == 2
    assert jail.log[-1].endswith("NOTICE  [dovecot-user] Ban info")
    srv.clock.advance(3600)
    assert auth(srv, "info", "letmein", ip="198.18.0.12").code == 235
    assert not jail.is_jailed("bob", srv.clock.now)


def test_account_jail_reads_the_lines_the_stock_jails_read():
    jail = AccountJail()
    sasl = Fail2Ban(filter="postfix", mode="auth")
    dovecot = Fail2Ban(filter="dovecot")
    srv = server()
    auth(srv, "bob", "x")
    pop3(srv, "info", "y")
    failures = [line for line in srv.log if sasl.host_in(line) or dovecot.host_in(line)]
    assert len(failures) == 2
    assert [jail.user_in(line) for line in failures] == ["bob", "info"]
    assert [line for line in srv.log if jail.user_in(line)] == failures


# --- account lockout -----------------------------------------------------------------------------------
def test_lockout_counts_both_services_and_locks_the_owner_out():
    lockout = LoginLockout(max_failures=3, lock_seconds=1800)
    srv = server(lockout)
    auth(srv, "bob", "a")
    pop3(srv, "bob", "b", ip="203.0.113.7")
    auth(srv, "bob", "c", ip="198.18.0.1", port=587)
    assert lockout.lockouts == 1
    refused = pop3(srv, "bob", "s3cret", ip="192.0.2.101")  # bob himself, from the LAN
    assert str(refused) == "-ERR [AUTH] Authentication failed." and lockout.refused == 1
    assert not any("account locked" in line for line in srv.log)  # no line of its own: it reads as a wrong password
    srv.clock.advance(1800)
    assert pop3(srv, "bob", "s3cret", ip="192.0.2.101").ok


def test_a_success_resets_the_lockout_count():
    lockout = LoginLockout(max_failures=3)
    srv = server(lockout)
    auth(srv, "bob", "a")
    auth(srv, "bob", "b")
    assert auth(srv, "bob", "s3cret").code == 235
    auth(srv, "bob", "c")
    auth(srv, "bob", "d")
    assert lockout.lockouts == 0


# --- postscreen -----------------------------------------------------------------------------------------
def test_postscreen_screens_port_25_and_nothing_else():
    screen = Postscreen(listed=["203.0.113.0/24"])
    srv = server(screen, submissions=True)
    s = srv.smtp_session(BOT, port=25)
    assert str(s.greeting) == "521 5.7.1 Service unavailable; client [203.0.113.5] blocked using zen.dnsbl.test"
    lines = [line.split(": ", 1)[1] for line in srv.log if "postfix/postscreen[1900]" in line]
    assert lines == ["CONNECT from [203.0.113.5]:40001 to [192.0.2.25]:25", "DNSBL rank 1 for [203.0.113.5]:40001",
                     "DISCONNECT [203.0.113.5]:40001"]
    for port in (587, 465):
        assert srv.smtp_session(BOT, port=port).greeting.code == 220
    assert pop3(srv, "bob", "s3cret").ok
    assert screen.dropped == 1
    assert srv.smtp_session("198.51.100.90", port=25).greeting.code == 220 and screen.passed == 1


# --- bad settings ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("build", "setting"), [
    (lambda: AccountJail(maxretry=0), "account_jail.maxretry"),
    (lambda: AccountJail(bantime=-1), "account_jail.bantime"),
    (lambda: DovecotAuthPenalty(failure_delay="2s"), "auth_failure_delay"),
    (lambda: LoginLockout(max_failures=0), "lockout.max_failures"),
    (lambda: Postscreen(listed=["not a network"]), "postscreen_dnsbl_sites"),
])
def test_bad_values_name_the_setting(build, setting):
    with pytest.raises(ConfigError) as info:
        build()
    assert info.value.setting == setting
