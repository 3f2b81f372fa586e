"""simlab's logs against the real fail2ban: every failure line simlab writes is one the stock filters match.

The logs come from simlab's own scenarios (a day of POP3 guessing, a relay probe, SMTP AUTH guesses) on
Postfix + Dovecot and Exim + Dovecot, written as they would sit in /var/log/mail.log. The real
``fail2ban-regex`` (Debian's ``fail2ban`` package; ``.ci/run`` installs it) reads them with
``/etc/fail2ban/filter.d/<filter>.conf`` and a ``mode``; simlab's :class:`Fail2Ban`, reading the copies in
``simlab/data/fail2ban``, must match exactly the same lines.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import simlab
from simlab.restrictions import Fail2Ban
from simlab.restrictions.fail2ban_filters import FILTER_DIR

FAIL2BAN_REGEX = shutil.which("fail2ban-regex")
needs_fail2ban = pytest.mark.skipif(FAIL2BAN_REGEX is None, reason="fail2ban-regex is not installed "
                                    "(Debian: apt-get install fail2ban; .ci/run does it)")
SUMMARY = re.compile(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed")

#: What each filter (and mode) must find in simlab's log: the lines an admin counts as failures.
DOVECOT_FAIL = re.compile(r"dovecot: pop3-login: Disconnected \(auth failed, \d+ attempts in \d+ secs\)")
SASL_FAIL = re.compile(r"postfix/(?:submissions?/)?smtpd\[\d+\]: warning: \S+: SASL \w+ authentication failed: "
                       r"\(reason unavailable\)")
RELAY_REJECT = re.compile(r"postfix/(?:submissions?/)?smtpd\[\d+\]: NOQUEUE: reject: RCPT from .*: [45]54 [45]\.7\.1 ")
#: aggressive mode also reads the disconnect line of a session whose AUTH all failed (``auth=0/1``).
AUTH_DISCONNECT = re.compile(r"postfix/(?:submissions?/)?smtpd\[\d+\]: disconnect from \S+ .*auth=0/[1-9]")
EXIM_RELAY = re.compile(r"rejected RCPT <[^>]+>: relay not permitted")


def _pop3_guesses(server, ip="203.0.113.9"):
    """One connection with one failure, one with two, a typo then the right password, and a hang-up."""
    p = server.pop3_session(ip)
    p.send("USER bob")
    p.send("PASS guess1")
    p.send("QUIT")
    p = server.pop3_session(ip)
    for guess in ("guess2", "guess3"):
        p.send("USER bob")
        p.send(f"PASS {guess}")
        server.clock.advance(2)
    p.send("QUIT")
    p = server.pop3_session("192.0.2.50")
    p.send("USER bob")
    p.send("PASS typo")
    p.send("USER bob")
    p.send("PASS s3cret")
    p.send("QUIT")
    p = server.pop3_session(ip)
    p.send("USER admin")
    p.send("PASS admin")
    p.close()


def _postfix_log() -> list[str]:
    day = simlab.run(simlab.scenarios.wrong_password(preset="postfix", duration=4 * 3600), seed=3)
    probe = simlab.run(simlab.scenarios.relay_probe(preset="postfix", duration=4 * 3600), seed=3)
    server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"},
                                    smtpd_sasl_auth_enable=True)
    _pop3_guesses(server)
    s = server.smtp_session("203.0.113.9", port=25)
    s.send("EHLO guesser.test")
    s.send("AUTH PLAIN AGJvYgB3cm9uZw==")
    s.send("MAIL FROM:<spam@spammer.test>")
    s.send("RCPT TO:<victim@elsewhere.test>")
    s.send("QUIT")
    return [*day.server.log, *probe.server.log, *server.log]


def _exim_log() -> list[str]:
    probe = simlab.run(simlab.scenarios.relay_probe(preset="exim", duration=4 * 3600), seed=3)
    day = simlab.run(simlab.scenarios.wrong_password(preset="exim", duration=4 * 3600), seed=3)
    server = simlab.presets.exim(accounts={"bob": "s3cret"})
    _pop3_guesses(server)
    # The lessons' clock runs in June 1998; fail2ban's date templates take a year only near today's (ExYear),
    # so Exim's dated lines are written as a 2023 mainlog would have them (syslog lines carry no year).
    return [re.sub(r"^1998-", "2023-", line) for line in (*probe.server.log, *day.server.log, *server.log)]


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    out = {}
    for name, lines in (("postfix", _postfix_log()), ("exim", _exim_log())):
        path = tmp_path_factory.mktemp("maillog") / "mail.log"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out[name] = (path, lines)
    return out


def fail2ban_regex(path: Path, name: str, mode: str | None = None) -> tuple[dict[str, int], list[str]]:
    """Run the real fail2ban-regex with /etc/fail2ban's filter: the summary figures and the matched lines."""
    spec = f"{name}[mode={mode}]" if mode else name
    run = subprocess.run([FAIL2BAN_REGEX, "--print-all-matched", "--print-no-missed", "--print-no-ignored",
                          str(path), spec], capture_output=True, text=True, timeout=300, check=True)
    found = SUMMARY.search(run.stdout)
    assert found, run.stdout[-2000:]
    figures = dict(zip(("lines", "ignored", "matched", "missed"), map(int, found.groups()), strict=True))
    block = run.stdout.split("|- Matched line(s):", 1)
    matched = [line[3:] for line in block[1].splitlines()[0:] if line.startswith("|  ")] if len(block) > 1 else []
    return figures, matched


CASES = [
    ("postfix", "dovecot", None, [DOVECOT_FAIL]),
    ("postfix", "postfix", None, [RELAY_REJECT]),
    ("postfix", "postfix", "auth", [SASL_FAIL]),
    ("postfix", "postfix", "aggressive", [SASL_FAIL, RELAY_REJECT, AUTH_DISCONNECT]),
    ("exim", "exim", None, [EXIM_RELAY]),
    ("exim", "dovecot", None, [DOVECOT_FAIL]),
]


def _failures(lines, kinds):
    return [line for line in lines if any(k.search(line) for k in kinds)]


@pytest.mark.parametrize(("log", "name", "mode", "kinds"), CASES)
def test_simlab_writes_what_the_filters_read(logs, log, name, mode, kinds):
    """Every failure line simlab wrote is matched by simlab's reading of the stock filter; each kind occurs."""
    _path, lines = logs[log]
    failures = _failures(lines, kinds)
    assert len(failures) >= len(kinds) and all(any(k.search(f) for f in failures) for k in kinds)
    jail = Fail2Ban(filter=name, mode=mode)
    assert [line for line in lines if jail.host_in(line)] == failures


@needs_fail2ban
@pytest.mark.parametrize(("log", "name", "mode", "kinds"), CASES)
def test_real_fail2ban_regex_matches_every_failure_line(logs, log, name, mode, kinds):
    path, lines = logs[log]
    figures, matched = fail2ban_regex(path, name, mode)
    failures = _failures(lines, kinds)
    assert figures["lines"] == len(lines)
    assert figures["matched"] == len(failures), (figures, len(failures))
    assert figures["missed"] == len(lines) - len(failures)
    assert matched == failures


@needs_fail2ban
@pytest.mark.parametrize(("log", "name", "mode"), [(c[0], c[1], c[2]) for c in CASES])
def test_simlab_fail2ban_matches_the_same_lines_as_the_real_one(logs, log, name, mode):
    path, lines = logs[log]
    _figures, matched = fail2ban_regex(path, name, mode)
    jail = Fail2Ban(filter=name, mode=mode)
    assert [line for line in lines if jail.host_in(line)] == matched


@needs_fail2ban
def test_the_copied_filters_are_debians():
    for copy in FILTER_DIR.glob("*.conf"):
        installed = Path("/etc/fail2ban/filter.d") / copy.name
        if installed.exists():
            assert copy.read_bytes() == installed.read_bytes(), copy.name


@needs_fail2ban
def test_dovecots_own_quit_wording_escapes_the_stock_filter(tmp_path):
    """Real Dovecot 2.3.19 writes ``Aborted login by logging out (auth failed, ...)`` after QUIT, as simlab does;
    fail2ban 1.0.2's dovecot.conf misses it: a guesser that says QUIT slips past the jail."""
    server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"})
    assert server.persona.pop3_quit_log_reason == "Aborted login by logging out"
    _pop3_guesses(server)
    path = tmp_path / "mail.log"
    path.write_text("\n".join(server.log) + "\n", encoding="utf-8")
    figures, matched = fail2ban_regex(path, "dovecot")
    assert figures["matched"] == 1 and "Disconnected (auth failed, 1 attempts" in matched[0]  # the hang-up only
    jail = Fail2Ban(filter="dovecot")
    assert [line for line in server.log if jail.host_in(line)] == matched


def _spraying_log() -> list[str]:
    """A botnet spraying 587, 465 and POP3 (lesson 10), as /var/log/mail.log would hold it."""
    from simlab.scenarios import password_spraying

    return simlab.run(password_spraying(botnet_size=40, duration=2 * 3600), seed=2).server.log


@needs_fail2ban
@pytest.mark.parametrize(("name", "mode", "kinds"),
                         [("postfix", "auth", [SASL_FAIL]), ("dovecot", None, [DOVECOT_FAIL])])
def test_spraying_lines_are_what_the_stock_jails_read(tmp_path, name, mode, kinds):
    """The spraying lesson's lines (submission and submissions smtpd, pop3-login) against the real fail2ban-regex."""
    lines = _spraying_log()
    path = tmp_path / "mail.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    figures, matched = fail2ban_regex(path, name, mode)
    failures = _failures(lines, kinds)
    assert any("postfix/submissions/smtpd[" in line for line in failures) or name == "dovecot"
    assert figures["matched"] == len(failures) > 0 and matched == failures
    jail = Fail2Ban(filter=name, mode=mode)
    assert [line for line in lines if jail.host_in(line)] == matched


@needs_fail2ban
def test_the_per_account_filter_reads_with_the_real_fail2ban(tmp_path):
    """simlab's own per-user filter (``<F-ID>``: the user name) matches the same lines in the real fail2ban-regex."""
    from simlab.restrictions.logins import USER_FILTER, AccountJail

    lines = _spraying_log()
    path = tmp_path / "mail.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    figures, matched = fail2ban_regex(path, str(FILTER_DIR / f"{USER_FILTER}.conf"))
    failures = _failures(lines, [SASL_FAIL, DOVECOT_FAIL])
    assert figures["matched"] == len(failures) > 0 and matched == failures
    jail = AccountJail()
    assert [line for line in lines if jail.user_in(line)] == matched
