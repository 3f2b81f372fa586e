"""Sessions per second over loopback: simlab's live Postfix against a bare aiosmtpd server.

Each session is what a mail client does for one message, with smtplib:
connect, EHLO, MAIL, RCPT, DATA with a short body, QUIT. Both servers run
in this process, on their own event loop thread, and are measured in the
same run, alternately; each figure is the median of several runs.

    python benchmarks/bench_live.py [--sessions 200] [--runs 7]

The bare server is aiosmtpd's own SMTP with a handler that accepts
everything: the cost of an asyncio SMTP server with no policy, no log and
no store. The ratio shows what simlab's model (restrictions, log lines in
Postfix's format, the mail store) costs on top of it.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import statistics
import sys
import time

from aiosmtpd.controller import Controller

import simlab
import simlab.live

BODY = "Subject: benchmark\r\n\r\nOne short line.\r\n"


class AcceptEverything:
    """aiosmtpd handler: every recipient and every message is fine."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_session(port: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("bench.test")
        client.mail("alice@remote.test")
        client.rcpt("bob@example.com")
        code, _ = client.data(BODY)
        if code != 250:
            raise RuntimeError(f"DATA answered {code}")


def rate(port: int, sessions: int) -> float:
    start = time.perf_counter()
    for _ in range(sessions):
        one_session(port)
    return sessions / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200, help="sessions per run (default 200)")
    parser.add_argument("--runs", type=int, default=7, help="runs per server, at least 5 (default 7)")
    args = parser.parse_args(argv)
    runs = max(5, args.runs)

    server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"})
    # a fixed server_hostname spares aiosmtpd a socket.getfqdn() lookup per connection
    bare = Controller(AcceptEverything(), hostname="127.0.0.1", port=free_port(), server_hostname="mail.example.com")
    bare.start()
    try:
        with simlab.live.serve(server, pop3_port=None) as lab:
            for port in (lab.smtp_port, bare.port):  # warm up
                rate(port, 20)
            simlab_rates, bare_rates = [], []
            for _ in range(runs):
                simlab_rates.append(rate(lab.smtp_port, args.sessions))
                bare_rates.append(rate(bare.port, args.sessions))
            errors = list(lab.errors)
    finally:
        bare.stop()

    delivered = len(server.mailboxes.get("bob", []))
    simlab_median, bare_median = statistics.median(simlab_rates), statistics.median(bare_rates)
    print(f"sessions per run: {args.sessions}, runs: {runs} (connect, EHLO, MAIL, RCPT, DATA, QUIT)")
    print(f"simlab live (postfix preset): {simlab_median:8.1f} sessions/s  "
          f"(runs: {', '.join(f'{r:.0f}' for r in simlab_rates)})")
    print(f"bare aiosmtpd Controller:     {bare_median:8.1f} sessions/s  "
          f"(runs: {', '.join(f'{r:.0f}' for r in bare_rates)})")
    print(f"ratio simlab/aiosmtpd:        {simlab_median / bare_median:8.2f}")
    print(f"messages stored by simlab: {delivered}; faults in the lab: {len(errors)}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
