#!/usr/bin/env python3
"""Record a real Postfix's SMTP replies and log lines as simlab's golden file.

Drives a real Postfix (Debian's 3.7 package) listening on 127.0.0.1:25 with
the dialogues of ``cases.py`` under each reference config (``main-A.cf``,
``main-B.cf``; ``main-C.cf`` with the submission service of Debian's
``master.cf`` on 127.0.0.1:587) and writes ``tests/data/postfix_reference.json``.

This is a maintenance tool, NOT part of the test suite.  It must run as root
on a throw-away machine: by default it overwrites /etc/postfix/main.cf,
starts and stops Postfix and a private Dovecot auth instance.  See README.md
for the packages it needs and everything it touches.  Standard library only.

Per case the script opens a fresh connection, reads the banner, sends
``XCLIENT ADDR=<ip> NAME=[UNAVAILABLE] HELO=<helo>`` (so Postfix treats the
session as coming from ``unknown[<ip>]``), reads the new banner, sends
``EHLO <helo>`` and then each command, reading the full reply after each.
Replies are recorded as sent on the wire, multi-line replies joined with
"\\n".  Afterwards the new ``postfix/smtpd`` lines of the mail log are
recorded with the syslog prefix stripped and queue ids replaced by
``QUEUEID``.

Usage (as root)::

    python3 scripts/postfix_reference/capture.py            # configs A, B and C
    python3 scripts/postfix_reference/capture.py --configs A --out /tmp/a.json
    python3 scripts/postfix_reference/capture.py --no-manage --configs A
        # drive an already running, already configured server only
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import cases as case_table  # sibling data module, needs the path above

REPO = HERE.parent.parent
DEFAULT_OUT = REPO / "tests" / "data" / "postfix_reference.json"

HOST = "127.0.0.1"  # never anything but loopback
PORT = 25
LOG_FILE = Path("/var/log/postfix-ref.log")
MAIN_CF = Path("/etc/postfix/main.cf")
MAIN_CF_BACKUP = Path("/etc/postfix/main.cf.pre-simlab")
MASTER_CF = Path("/etc/postfix/master.cf")
MASTER_CF_BACKUP = Path("/etc/postfix/master.cf.pre-simlab")
# Debian's master.cf as the package ships it (postinst copies it to /etc/postfix/master.cf).
MASTER_CF_DIST = Path("/usr/share/postfix/master.cf.dist")
# For the recording only: no TLS is simulated (simlab's Postfix has smtpd_tls_security_level = none).
SUBMISSION_TLS_ASIDE = {"smtpd_tls_security_level=encrypt": "smtpd_tls_security_level=none",
                        "smtpd_tls_auth_only=yes": "smtpd_tls_auth_only=no"}
RECIPIENT_MAP = Path("/etc/postfix/local_recipients")
LOCAL_RECIPIENTS = ["bob", "alice", "postmaster", "webmaster", "user_name"]
DOVECOT_CONF = HERE / "dovecot-ref.conf"
DOVECOT_USERS = Path("/etc/dovecot/simlab-ref-users")
DOVECOT_PID = Path("/run/dovecot-simlab-ref/master.pid")
SASL_SOCKET = Path("/var/spool/postfix/private/auth")
TEMPLATE_MARK = "simlab's golden SMTP capture"

# main.cf settings copied into the JSON meta block.
META_PARAMS = [
    "mail_version", "compatibility_level", "myhostname", "mydomain",
    "myorigin", "mydestination", "relay_domains", "mynetworks",
    "inet_interfaces", "inet_protocols", "smtpd_banner",
    "smtpd_authorized_xclient_hosts", "smtpd_client_restrictions",
    "smtpd_helo_required", "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions", "smtpd_error_sleep_time",
    "smtpd_soft_error_limit", "smtpd_hard_error_limit",
    "smtpd_reject_unlisted_recipient", "smtpd_reject_unlisted_sender",
    "strict_rfc821_envelopes", "allow_percent_hack", "swap_bangpath",
    "allow_untrusted_routing", "resolve_dequoted_address",
    "resolve_null_domain", "append_dot_mydomain",
    "local_recipient_maps", "unknown_local_recipient_reject_code",
    "relay_recipient_maps", "alias_maps", "disable_vrfy_command",
    "line_length_limit", "message_size_limit", "smtpd_sasl_auth_enable",
    "smtpd_sasl_type", "smtpd_sasl_path", "smtpd_sasl_security_options",
    "smtpd_tls_security_level", "default_transport", "relay_transport",
    "local_transport", "virtual_transport", "smtpd_peername_lookup",
    "smtpd_forbidden_commands", "smtpd_forbid_bare_newline",
    "smtpd_forbid_unauth_pipelining", "smtpd_recipient_limit",
]

NOTES = [
    ("The capture client is 127.0.0.1. A case with a client_ip starts with "
     "XCLIENT ADDR=<client_ip> NAME=[UNAVAILABLE] [HELO=<helo>], so Postfix "
     "treats and logs the session as unknown[<client_ip>]; the first log line "
     "'connect from unknown[127.0.0.1]' predates the XCLIENT. Cases whose "
     "xclient is null (the direct/ ones) send no XCLIENT: a plain session "
     "from client_ip 127.0.0.1, which is outside mynetworks."),
    ("XCLIENT shows up in the disconnect counters as 'xclient=0/1' and adds 1 "
     "to the commands total (e.g. 'ehlo=1 xclient=0/1 mail=1 rcpt=0/1 quit=1 "
     "commands=3/5'). A session without XCLIENT logs 'ehlo=1 mail=1 rcpt=0/1 "
     "quit=1 commands=3/4', and 'commands=4' (no '/total') when every "
     "command succeeded: compare the direct/ cases."),
    ("replies[i] answers commands[i]. commands[0] is the EHLO unless helo is "
     "null. A command containing \\n is a message body sent after a 354 "
     "(lines sent with CRLF); its reply is the reply to the final '.'."),
    ("A case with closed_early true was disconnected by the server: the "
     "remaining commands (normally just QUIT) were not answered and their "
     "replies are null."),
    ("Multi-line replies are joined with \\n. Queue ids are replaced with "
     "QUEUEID in replies and log. log holds only postfix/smtpd lines, with "
     "everything up to and including 'postfix/smtpd[PID]: ' stripped."),
    ("smtpd_error_sleep_time = 0: a default Postfix (1s) pauses before error "
     "replies; only the timing differs."),
    "Every transport is discard; nothing was delivered or sent anywhere.",
    ("Config C: main-C.cf (config A's settings) and Debian's master.cf with "
     "its 'submission inet' entry and that entry's -o lines uncommented, as "
     "Debian's own comment asks, except TLS: smtpd_tls_security_level=none "
     "and smtpd_tls_auth_only=no instead of encrypt/yes, since the capture "
     "client speaks no TLS (meta.configs.C.master_cf_submission holds the "
     "entry as installed). Its cases (port 587) are the 'sub/' ones and two "
     "direct/ ones; log_program names the syslog name of their lines."),
]

REPLY_TIMEOUT = 10.0  # seconds to wait for one SMTP reply
LOG_TIMEOUT = 5.0  # seconds to wait for a session's "disconnect" log line
LOG_PREFIX_RE = re.compile(r"^.*? (postfix(?:/submission)?/smtpd)\[\d+\]: ")


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command, echoing it, and return the completed process."""
    print("+", " ".join(argv), file=sys.stderr)
    return subprocess.run(argv, check=check, text=True, capture_output=True)


def start_daemon(*argv: str) -> None:
    """Run a command that forks a daemon.

    The daemon inherits the child's stdout/stderr, so they must not be pipes
    (capture_output would wait for the daemon to exit); the command's own
    output goes straight to our stderr instead.
    """
    print("+", " ".join(argv), file=sys.stderr)
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL,
                   stdout=sys.stderr, stderr=sys.stderr)


# ---------------------------------------------------------------------------
# SMTP client
# ---------------------------------------------------------------------------
class ConnectionClosed(Exception):
    """The server closed the connection before a complete reply."""


class SmtpWire:
    """A line-oriented SMTP client that keeps replies exactly as received."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=REPLY_TIMEOUT)
        self.buf = b""

    def _readline(self) -> str:
        while b"\r\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionError:
                chunk = b""
            if not chunk:
                raise ConnectionClosed(self.buf.decode("latin-1"))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def reply(self) -> str:
        """Read one complete (possibly multi-line) reply, joined with \\n."""
        lines = []
        while True:
            line = self._readline()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines)

    def send_line(self, line: str) -> None:
        try:
            self.sock.sendall(line.encode("latin-1") + b"\r\n")
        except ConnectionError as exc:
            raise ConnectionClosed(self.buf.decode("latin-1")) from exc

    def command(self, line: str) -> str:
        self.send_line(line)
        return self.reply()

    def leftover(self, wait: float = 0.5) -> str:
        """Whatever the server still sends until it closes the connection."""
        self.sock.settimeout(wait)
        data = self.buf
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:  # includes the timeout
            pass
        return data.decode("latin-1")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------
# Mail log
# ---------------------------------------------------------------------------
def log_size() -> int:
    return LOG_FILE.stat().st_size if LOG_FILE.exists() else 0


def read_log_from(offset: int) -> list[str]:
    with LOG_FILE.open("rb") as fh:
        fh.seek(offset)
        data = fh.read()
    # Only complete lines.
    text = data.decode("utf-8", "replace")
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    return text.splitlines()


def session_log(offset: int, client_ip: str) -> list[str]:
    """Wait for the session's disconnect line; return its smtpd lines."""
    deadline = time.monotonic() + LOG_TIMEOUT
    while True:
        lines = [ln for ln in read_log_from(offset) if LOG_PREFIX_RE.match(ln)]
        if any(f"disconnect from unknown[{client_ip}]" in ln for ln in lines):
            break
        if time.monotonic() > deadline:
            print(f"  ! no disconnect line for {client_ip}", file=sys.stderr)
            break
        time.sleep(0.05)
    return [LOG_PREFIX_RE.sub("", ln) for ln in lines]


def log_programs(offset: int) -> list[str]:
    """The syslog names (``postfix/smtpd``, ``postfix/submission/smtpd``) of the lines since ``offset``."""
    found = {m.group(1) for m in map(LOG_PREFIX_RE.match, read_log_from(offset)) if m}
    return sorted(found)


def normalise(text: str, queue_ids: set[str]) -> str:
    """Replace the queue ids seen in this session with QUEUEID."""
    for qid in queue_ids:
        text = re.sub(rf"\b{qid}\b", "QUEUEID", text)
    return text


# ---------------------------------------------------------------------------
# Running one case
# ---------------------------------------------------------------------------
def run_case(case: dict, port: int) -> dict:
    ip, helo = case["client_ip"], case["helo"]
    xclient = None
    if case.get("xclient", True):
        xclient = f"XCLIENT ADDR={ip} NAME=[UNAVAILABLE]"
        if helo is not None:
            xclient += f" HELO={helo}"
    commands = ([f"EHLO {helo}"] if helo is not None else []) + case["commands"]

    port = case.get("port", port)
    offset = log_size()
    wire = SmtpWire(HOST, port)
    replies: list[str] = []
    banner = xclient_reply = None
    closed_early = False
    try:
        banner = last = wire.reply()
        if xclient is not None:
            xclient_reply = last = wire.command(xclient)
        for cmd in commands:
            if "\n" in cmd:  # message body
                if not last.startswith("354"):
                    raise ValueError(f"{case['name']}: body without 354")
                for body_line in cmd.split("\n"):
                    wire.send_line(body_line)
                last = wire.reply()
            else:
                last = wire.command(cmd)
            replies.append(last)
        trailing = wire.leftover()
    except ConnectionClosed as exc:
        closed_early = True
        trailing = str(exc)
    finally:
        wire.close()

    log = session_log(offset, ip)
    queue_ids = set()
    for text in replies + log:
        m = re.search(r"queued as ([0-9A-F]+)", text)
        if m:
            queue_ids.add(m.group(1))
        m = re.match(r"([0-9A-F]{6,16}): ", text)
        if m:
            queue_ids.add(m.group(1))

    result = {
        "name": case["name"],
        "client_ip": ip,
        "helo": helo,
        "xclient": xclient,
        "banner": banner,
        "xclient_reply": xclient_reply,
        "commands": commands,
        # None for commands left unanswered because the server hung up.
        "replies": [normalise(r, queue_ids) for r in replies]
        + [None] * (len(commands) - len(replies)),
        "log": [normalise(ln, queue_ids) for ln in log],
    }
    if port != PORT:
        result["port"] = port
        result["log_program"] = ", ".join(log_programs(offset))
    if closed_early:
        result["closed_early"] = True
    if trailing:
        result["trailing"] = trailing
    return result


# ---------------------------------------------------------------------------
# Server management
# ---------------------------------------------------------------------------
def postconf(*args: str) -> dict[str, str]:
    """Parse ``postconf [args]`` output ("name = value" lines) into a dict."""
    out = run("postconf", *args).stdout
    values = {}
    for line in out.splitlines():
        key, _, value = line.partition(" =")
        values[key.strip()] = value.strip()
    return values


def safety_check() -> None:
    """Refuse to run unless Postfix is loopback-only and discards everything."""
    conf = postconf("inet_interfaces", "default_transport", "relay_transport",
                    "local_transport", "virtual_transport")
    if conf["inet_interfaces"] != "127.0.0.1":
        sys.exit(f"refusing: inet_interfaces = {conf['inet_interfaces']}")
    for key in ("default_transport", "relay_transport", "local_transport",
                "virtual_transport"):
        if conf[key] != "discard":
            sys.exit(f"refusing: {key} = {conf[key]}")


def postfix_running() -> bool:
    return run("postfix", "status", check=False).returncode == 0


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=2) as sock:
                sock.recv(1024)
                sock.sendall(b"QUIT\r\n")
                sock.recv(1024)
            time.sleep(1.0)  # let the probe's log lines settle
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"Postfix did not come up on {HOST}:{port}")


def submission_master_cf() -> tuple[str, list[str]]:
    """Debian's master.cf with the ``submission inet`` entry uncommented (TLS aside).

    Returns the whole file and the entry's lines as installed.
    """
    lines = MASTER_CF_DIST.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"#submission\s+inet\s", line))
    entry = [lines[start][1:]]
    out = lines[:start] + [f"# {TEMPLATE_MARK}: submission uncommented, TLS aside", entry[0]]
    end = start + 1
    while end < len(lines) and lines[end].startswith(("#  -o ", "#     ")):
        line = lines[end]
        if line.startswith("#  -o "):  # an option of the entry: uncommented
            line = line[1:]
            for debian, recorded in SUBMISSION_TLS_ASIDE.items():
                line = line.replace(debian, recorded)
            entry.append(line)
        out.append(line)  # Debian's comment inside the entry stays a comment
        end += 1
    return "\n".join(out + lines[end:]) + "\n", entry


def install_master_cf(name: str) -> list[str]:
    """Debian's stock master.cf for configs A and B; with the submission entry for C."""
    if MASTER_CF.exists() and TEMPLATE_MARK not in MASTER_CF.read_text() \
            and MASTER_CF.read_text() != MASTER_CF_DIST.read_text() and not MASTER_CF_BACKUP.exists():
        shutil.copy2(MASTER_CF, MASTER_CF_BACKUP)
    if name == "C":
        text, entry = submission_master_cf()
        MASTER_CF.write_text(text)
        return entry
    shutil.copyfile(MASTER_CF_DIST, MASTER_CF)
    return []


def install_config(name: str) -> list[str]:
    """Install main-<name>.cf, master.cf and the lookup tables, then (re)start Postfix.

    Returns the submission entry installed in master.cf (empty for A and B).
    """
    if postfix_running():
        run("postfix", "stop")
    if MAIN_CF.exists() and TEMPLATE_MARK not in MAIN_CF.read_text() \
            and not MAIN_CF_BACKUP.exists():
        shutil.copy2(MAIN_CF, MAIN_CF_BACKUP)
    shutil.copyfile(HERE / f"main-{name}.cf", MAIN_CF)
    entry = install_master_cf(name)
    RECIPIENT_MAP.write_text("".join(f"{r}\tOK\n" for r in LOCAL_RECIPIENTS))
    run("postmap", f"hash:{RECIPIENT_MAP}")
    safety_check()
    # Debian's service wrapper normally syncs the chroot (resolv.conf etc.).
    helper = Path("/usr/lib/postfix/configure-instance.sh")
    if helper.exists():
        run(str(helper), "-")
    run("postfix", "check")
    start_daemon("postfix", "start")
    return entry


def start_dovecot() -> None:
    DOVECOT_USERS.write_text("bob:{PLAIN}s3cret\n")
    os.chmod(DOVECOT_USERS, 0o640)
    shutil.chown(DOVECOT_USERS, "root", "dovecot")
    if DOVECOT_PID.exists():
        stop_dovecot()
    start_daemon("dovecot", "-c", str(DOVECOT_CONF))
    deadline = time.monotonic() + 10
    while not SASL_SOCKET.exists():
        if time.monotonic() > deadline:
            sys.exit("Dovecot auth socket did not appear")
        time.sleep(0.1)


def stop_dovecot() -> None:
    run("doveadm", "-c", str(DOVECOT_CONF), "stop", check=False)
    deadline = time.monotonic() + 10
    while DOVECOT_PID.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def restore_main_cf() -> None:
    if MAIN_CF_BACKUP.exists():
        shutil.move(MAIN_CF_BACKUP, MAIN_CF)
    if MASTER_CF_BACKUP.exists():
        shutil.move(MASTER_CF_BACKUP, MASTER_CF)
    elif MASTER_CF.exists() and TEMPLATE_MARK in MASTER_CF.read_text():
        shutil.copyfile(MASTER_CF_DIST, MASTER_CF)


# ---------------------------------------------------------------------------
def capture_config(name: str, port: int) -> tuple[dict, list[dict]]:
    explicit = postconf("-n")  # main.cf as written (non-default settings)
    effective = postconf("-x", *META_PARAMS)  # values in force, expanded
    results = []
    for case in case_table.cases_for(name):
        print(f"[{name}] {case['name']}", file=sys.stderr)
        result = run_case(case, port)
        results.append({"config": name, **result})
    ehlo = next(r["replies"][0] for r in results if r["name"] in ("verb/noop", "sub/noop"))
    meta = {"main_cf": explicit, "effective": effective, "ehlo_reply": ehlo,
            "local_recipients": LOCAL_RECIPIENTS,
            "sasl_users": {"bob": "s3cret"} if explicit.get(
                "smtpd_sasl_auth_enable") == "yes" else {}}
    return meta, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=list(case_table.CONFIGS),
                        choices=case_table.CONFIGS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--no-manage", action="store_true",
                        help="do not touch the server; drive it as configured")
    args = parser.parse_args()
    if args.no_manage and len(args.configs) != 1:
        parser.error("--no-manage records exactly one config")

    metas, all_results = {}, []
    dovecot_up = False
    try:
        for name in args.configs:
            entry = []
            if not args.no_manage:
                entry = install_config(name)
                if not dovecot_up:  # after Postfix made its queue directories (the auth socket lives there)
                    start_dovecot()
                    dovecot_up = True
                wait_for_port(args.port)
                if entry:
                    wait_for_port(587)
            safety_check()
            metas[name], results = capture_config(name, args.port)
            if entry:
                metas[name]["master_cf_submission"] = entry
            all_results.extend(results)
    finally:
        if not args.no_manage:
            if postfix_running():
                run("postfix", "stop")
            stop_dovecot()
            restore_main_cf()

    version = next(iter(metas.values()))["effective"]["mail_version"]
    doc = {
        "meta": {
            "postfix_version": version,
            "source": "Debian bookworm package postfix "
                      + run("dpkg-query", "-W", "-f=${Version}", "postfix",
                            check=False).stdout.strip(),
            "recorded_by": "scripts/postfix_reference/capture.py",
            "notes": NOTES,
            "configs": metas,
        },
        "cases": all_results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(all_results)} cases to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
