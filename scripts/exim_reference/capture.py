#!/usr/bin/env python3
"""Record a real Exim's SMTP replies and log lines as simlab's golden file.

Drives Debian's Exim 4 (``exim4-daemon-light``) in host-checking mode,
``exim4 -bh <client_ip>``, with the dialogues of ``cases.py`` under each
reference config (``update-exim4.conf.conf-A``, ``-B``) and writes
``tests/data/exim_reference.json``.

``-bh`` runs one whole SMTP session on stdin/stdout as if it came from
``<client_ip>``, through every ACL and with recipient verification, but
delivers nothing, writes no log file and opens no network port: the log lines
Exim would write are printed on stderr prefixed ``LOG:`` (with the ACL debug
trace, lines starting ``>>>``, which is not recorded).  No daemon is started.

This is a maintenance tool, NOT part of the test suite.  It must run as root:
it rewrites Exim's Debian configuration (and puts the previous files back at
the end) and creates the local accounts the cases need.  See README.md for
everything it touches.  Standard library only.

Usage (as root)::

    python3 scripts/exim_reference/capture.py              # configs A and B
    python3 scripts/exim_reference/capture.py --configs A --out /tmp/a.json
    python3 scripts/exim_reference/capture.py --no-manage --configs A
        # use Exim as it is configured now, touching nothing
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import select
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import cases as case_table  # noqa: E402  (sibling data module, needs the path above)

REPO = HERE.parent.parent
DEFAULT_OUT = REPO / "tests" / "data" / "exim_reference.json"

EXIM = "/usr/sbin/exim4"
UPDATE_CONF = Path("/etc/exim4/update-exim4.conf.conf")
LOCALMACROS = Path("/etc/exim4/exim4.conf.localmacros")
MAILNAME = Path("/etc/mailname")
MAILNAME_TEXT = "mail.example.com\n"
MANAGED_FILES = (UPDATE_CONF, LOCALMACROS, MAILNAME)
BACKUP_SUFFIX = ".pre-simlab"  # FILE.pre-simlab: the admin's own file
ABSENT_SUFFIX = ".pre-simlab-absent"  # marker: FILE did not exist before
TEMPLATE_MARK = "simlab's scripts/exim_reference/capture.py"
LOCAL_USERS = ["bob", "alice", "webmaster", "user_name"]
PACKAGES = ["exim4-daemon-light", "exim4-config", "exim4-base"]

REPLY_TIMEOUT = 20.0  # seconds to wait for one SMTP reply
REPLY_START = re.compile(r"^\d{3}[ -]")
# "Tue, 01 Dec 2026 09:23:54 +0000" in the banner
DATE_RE = re.compile(r"\b[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}\b")
# Exim 4.96 message ids: 6-6-2 base-62 characters (4.97+: 6-11-4)
MSGID_RE = re.compile(r"\b[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}\b")

NOTES = [
    ("Recorded with 'exim4 -bh <client_ip>' (host-checking mode): a whole SMTP "
     "session on stdin/stdout as if from client_ip, through every ACL and "
     "with recipient verification, but nothing delivered, no log file "
     "written and no network port opened. No daemon was running."),
    ("replies[i] answers commands[i]. commands[0] is the greeting (EHLO or "
     "HELO <helo>) unless helo is null. A command containing \\n is a message "
     "body sent after a 354 (lines sent with CRLF); its reply is the reply to "
     "the final '.'. Multi-line replies are joined with \\n."),
    ("A case with closed_early true was ended by Exim: the remaining "
     "commands were not answered and their replies are null."),
    ("Normalisation: the date in the banner is replaced by DATE, message ids "
     "(e.g. 1xYK5a-00018w-2r) by MSGID, in replies and log."),
    ("log holds the lines -bh prints on stderr prefixed 'LOG: ' (prefix "
     "removed): the lines Exim would write to mainlog/rejectlog, without the "
     "'YYYY-MM-DD HH:MM:SS ' timestamp (and pid/message-id fields) of the "
     "real log files. The ACL debug trace (lines starting '>>>') is not "
     "recorded. Other stderr lines, if any, are in stderr_other."),
    ("-bh prints a few '**** ...' banner lines on stdout (before the 220, "
     "after the 250 of an accepted message: 'SMTP testing: that is not a "
     "real message id!'); they are not part of the SMTP dialogue and are "
     "dropped."),
    ("Reverse DNS: Debian sets host_lookup = *, so Exim looks up every "
     "client's name (gethostbyaddr, i.e. /etc/hosts and DNS). 203.0.113.7 and "
     "192.0.2.10 have no name (log: 'no host name found for IP address ...'); "
     "127.0.0.1 is 'localhost' in /etc/hosts but the forward check fails "
     "('127.0.0.1 does not match any IP address for localhost'), so every "
     "client is logged as H=(helo) [ip] without a verified name."),
    ("DNS: the recording machine's resolver answered NXDOMAIN at once for "
     "every name used here (all foreign domains are under the reserved TLD "
     ".test, which the real DNS does not resolve either). So the dnslookup "
     "routers decline foreign domains without delay: a recipient that must "
     "be verified in a relay domain (config B, x@partner.test) gets "
     "'550 Unrouteable address', not a 451 defer. Foreign recipients from "
     "relay_from_hosts are accepted before any verification, so no DNS "
     "lookup is made for them."),
    ("Accounts bob, alice, webmaster, user_name exist as system users "
     "(UID >= 1000, no home, shell /usr/sbin/nologin); postmaster and "
     "webmaster are aliases in Debian's /etc/aliases (both to root)."),
]


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command, echoing it, and return the completed process."""
    print("+", " ".join(argv), file=sys.stderr)
    return subprocess.run(argv, check=check, text=True, capture_output=True)


# ---------------------------------------------------------------------------
# One -bh session
# ---------------------------------------------------------------------------
class SessionClosed(Exception):
    """Exim ended the session before a complete reply."""


class HostCheckSession:
    """``exim4 -bh <ip>`` driven one command at a time through pipes."""

    def __init__(self, client_ip: str) -> None:
        self.proc = subprocess.Popen([EXIM, "-bh", client_ip], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        self.buf = b""
        self.stderr_chunks: list[bytes] = []
        self.stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self.stderr_thread.start()

    def _drain_stderr(self) -> None:
        while True:
            chunk = self.proc.stderr.read(65536)
            if not chunk:
                return
            self.stderr_chunks.append(chunk)

    def _readline(self) -> str:
        deadline = time.monotonic() + REPLY_TIMEOUT
        while b"\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply from exim4 -bh")
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise SessionClosed(self.buf.decode("latin-1"))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("latin-1").removesuffix("\r")

    def reply(self) -> str:
        """Read one complete (possibly multi-line) reply, joined with \\n.

        Lines before the first reply line ('**** ...' banners of -bh, blank
        lines) are skipped.
        """
        line = self._readline()
        while not REPLY_START.match(line) and not re.fullmatch(r"\d{3}", line):
            line = self._readline()
        lines = [line]
        while len(line) >= 4 and line[3] == "-":
            line = self._readline()
            lines.append(line)
        return "\n".join(lines)

    def send_line(self, line: str) -> None:
        try:
            self.proc.stdin.write(line.encode("latin-1") + b"\r\n")
        except BrokenPipeError as exc:
            raise SessionClosed(self.buf.decode("latin-1")) from exc

    def command(self, line: str) -> str:
        self.send_line(line)
        return self.reply()

    def finish(self) -> tuple[str, list[str]]:
        """Close stdin, wait for exit; return (stdout left over, stderr lines)."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        rest = self.buf + self.proc.stdout.read()
        self.proc.wait(timeout=REPLY_TIMEOUT)
        self.stderr_thread.join(timeout=REPLY_TIMEOUT)
        err = b"".join(self.stderr_chunks).decode("latin-1")
        return rest.decode("latin-1"), err.splitlines()


def normalise(text: str) -> str:
    return MSGID_RE.sub("MSGID", DATE_RE.sub("DATE", text))


def run_case(case: dict) -> dict:
    ip, helo = case["client_ip"], case["helo"]
    greeting = case.get("greeting", "EHLO")
    commands = ([f"{greeting} {helo}"] if helo is not None else []) + case["commands"]
    session = HostCheckSession(ip)
    replies: list[str] = []
    closed_early = False
    try:
        banner = last = session.reply()
        for cmd in commands:
            if "\n" in cmd:  # message body
                if not last.startswith("354"):
                    raise ValueError(f"{case['name']}: body without 354")
                for body_line in cmd.split("\n"):
                    session.send_line(body_line)
                last = session.reply()
            else:
                last = session.command(cmd)
            replies.append(last)
    except SessionClosed:
        closed_early = True
    rest, err = session.finish()
    # What is left on stdout after QUIT is -bh's own "**** ..." chatter.
    trailing = "\n".join(ln.rstrip("\r") for ln in rest.splitlines()
                         if ln.strip() and not ln.startswith("****"))
    log = [normalise(ln[len("LOG: "):]) for ln in err if ln.startswith("LOG: ")]
    other = [ln for ln in err if not ln.startswith((">>>", "LOG: ")) and ln.strip()]
    result = {
        "name": case["name"],
        "client_ip": ip,
        "helo": helo,
        "greeting": greeting if helo is not None else None,
        "banner": normalise(banner),
        "commands": commands,
        # None for commands left unanswered because Exim ended the session.
        "replies": [normalise(r) for r in replies] + [None] * (len(commands) - len(replies)),
        "log": log,
    }
    if closed_early:
        result["closed_early"] = True
    if trailing:
        result["trailing"] = trailing
    if other:
        result["stderr_other"] = other
    return result


# ---------------------------------------------------------------------------
# Configuration management
# ---------------------------------------------------------------------------
def save_original(path: Path) -> None:
    """Keep the admin's own file (or the fact there was none), once."""
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    absent = path.with_name(path.name + ABSENT_SUFFIX)
    if backup.exists() or absent.exists():
        return  # an earlier, interrupted run already saved it
    if not path.exists():
        absent.write_text("")
    elif path != MAILNAME and TEMPLATE_MARK in path.read_text():
        return  # our own file, left by an interrupted run without backup
    else:
        shutil.copy2(path, backup)


def restore_originals() -> None:
    for path in MANAGED_FILES:
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        absent = path.with_name(path.name + ABSENT_SUFFIX)
        if backup.exists():
            shutil.move(backup, path)
        elif absent.exists():
            path.unlink(missing_ok=True)
            absent.unlink()
    if shutil.which("update-exim4.conf"):
        run("update-exim4.conf")  # regenerate /var/lib/exim4/config.autogenerated


def ensure_users() -> list[str]:
    """Create the local accounts the cases need; return those created now."""
    created = []
    for name in LOCAL_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            run("useradd", "-M", "-s", "/usr/sbin/nologin", name)
            created.append(name)
    return created


def remove_users(names: list[str]) -> None:
    for name in names:
        run("userdel", name, check=False)


def install_config(name: str) -> None:
    for path in MANAGED_FILES:
        save_original(path)
    shutil.copyfile(HERE / f"update-exim4.conf.conf-{name}", UPDATE_CONF)
    shutil.copyfile(HERE / "exim4.conf.localmacros", LOCALMACROS)
    MAILNAME.write_text(MAILNAME_TEXT)
    run("update-exim4.conf")


def exim_settings() -> dict[str, str]:
    """The effective lists and options the cases depend on (exim4 -bP)."""
    out = {}
    for opt in ("primary_hostname", "qualify_domain", "host_lookup", "allow_domain_literals",
                "percent_hack_domains", "smtp_banner", "message_size_limit",
                "recipient_unqualified_hosts", "sender_unqualified_hosts",
                "acl_smtp_mail", "acl_smtp_rcpt", "acl_smtp_data"):
        out[opt] = run(EXIM, "-bP", opt).stdout.strip().partition(" = ")[2]
    # Named lists are only visible in the generated config file.
    generated = Path(run(EXIM, "-bP", "configure_file").stdout.strip())  # just the path
    for line in generated.read_text().splitlines():
        m = re.match(r"^(domainlist|hostlist) (\w+) = (.*)$", line)
        if m:
            out[f"{m.group(1)} {m.group(2)}"] = m.group(3)
    macros = run(EXIM, "-bP", "macros").stdout
    for line in macros.splitlines():
        m = re.match(r"^(MAIN_LOCAL_DOMAINS|MAIN_RELAY_TO_DOMAINS|MAIN_RELAY_NETS|"
                     r"MAIN_HARDCODE_PRIMARY_HOSTNAME|CHECK_RCPT_LOCAL_LOCALPARTS|"
                     r"CHECK_RCPT_REMOTE_LOCALPARTS)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def package_versions() -> dict[str, str]:
    versions = {}
    for pkg in PACKAGES:
        versions[pkg] = run("dpkg-query", "-W", "-f=${Version}", pkg, check=False).stdout.strip()
    return versions


def exim_daemon_running() -> bool:
    """True if an exim daemon (not one of our -bh children) is running."""
    out = run("ps", "-eo", "pid=,args=", check=False).stdout
    return any(re.search(r"\bexim4?\b.*-bd", line) for line in out.splitlines())


# ---------------------------------------------------------------------------
def capture_config(name: str) -> tuple[dict, list[dict]]:
    results = []
    for case in case_table.CASES:
        print(f"[{name}] {case['name']}", file=sys.stderr)
        results.append({"config": name, **run_case(case)})
    conf = UPDATE_CONF.read_text() if UPDATE_CONF.exists() else ""
    meta = {
        "update_exim4_conf_conf": {
            k: v.strip("'") for k, v in re.findall(r"^(\w+)=(.*)$", conf, re.M)},
        "effective": exim_settings(),
        "ehlo_reply": next(r["replies"][0] for r in results if r["name"] == "greeting/noop"),
    }
    return meta, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=list(case_table.CONFIGS),
                        choices=case_table.CONFIGS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-manage", action="store_true",
                        help="do not touch the configuration; use Exim as configured")
    args = parser.parse_args()
    if args.no_manage and len(args.configs) != 1:
        parser.error("--no-manage records exactly one config")
    if os.geteuid() != 0:
        sys.exit("run as root: exim4 -bh needs it to read the configuration")
    if exim_daemon_running():
        sys.exit("an exim daemon is running; stop it first (this script never needs one)")

    metas, all_results, created = {}, [], []
    try:
        if not args.no_manage:
            created = ensure_users()
        for name in args.configs:
            if not args.no_manage:
                install_config(name)
            metas[name], results = capture_config(name)
            all_results.extend(results)
    finally:
        if not args.no_manage:
            restore_originals()
            remove_users(created)

    version = run(EXIM, "-bV").stdout.splitlines()[0]  # "Exim version 4.96 #2 built ..."
    doc = {
        "meta": {
            "exim_version": version.split()[2],
            "exim_bV": re.sub(r" built .*", "", version),
            "debian_packages": package_versions(),
            "recorded_by": "scripts/exim_reference/capture.py",
            "exim4_conf_localmacros": (HERE / "exim4.conf.localmacros").read_text(),
            "mailname": MAILNAME_TEXT.strip(),
            "local_users": LOCAL_USERS,
            "aliases": {"postmaster": "root", "webmaster": "root"},
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
