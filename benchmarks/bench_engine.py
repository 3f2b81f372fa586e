"""simlab's engine against SimPy: sessions per second for the same traffic, measured in the same run.

    python benchmarks/bench_engine.py [--sessions 100000] [--runs 5]

The reference is a SimPy model written here, as a SimPy user would write it: clients arrive every
0.5 ms, each opens a session (banner, EHLO, MAIL, RCPT, DATA, body, QUIT), the server answers each
command after 1 ms, and relaying is allowed when the recipient's domain is local or the client is
in the trusted /24; half the clients are trusted, half the recipients local.

Against it, ``simlab.scenarios.mixed_traffic(sessions=N)`` on the Postfix preset with everything
on: each command parsed by the SMTP session, the relay decision made by Postfix's restriction
lists, every Postfix log line written, events and transcripts recorded, mail stored, and mail
accepted for relaying delivered onward to the next simulated server. Runs alternate, SimPy then
simlab, and each figure is the median of ``--runs`` runs.

For information, a second reference does the same protocol work as simlab in SimPy: the same
model, but each command answered by a simlab Postfix session (parsing, restrictions, log lines),
at a tenth of the size. It shows how much of simlab's time is the engine and how much the
sessions themselves.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import sys

from benchlib import Figure, median, report, runs_text, timed

TARGET_RATIO = 3.0


class SimpyServer:
    """The server side of the SimPy model: one reply code per command, and the relay rule."""

    LOCAL_DOMAINS = frozenset({"example.com"})
    TRUSTED = ipaddress.ip_network("192.0.2.0/24")

    def __init__(self) -> None:
        self.accepted = 0
        self.refused = 0

    def answer(self, client_ip: str, command: str, recipient: str) -> int:
        if command == "RCPT":
            domain = recipient.rpartition("@")[2].lower()
            if domain in self.LOCAL_DOMAINS or ipaddress.ip_address(client_ip) in self.TRUSTED:
                return 250
            self.refused += 1
            return 554
        if command == "body":
            self.accepted += 1
        return {"banner": 220, "EHLO": 250, "MAIL": 250, "DATA": 354, "body": 250, "QUIT": 221}[command]


def simpy_run(sessions: int, seed: int = 1) -> SimpyServer:
    """The SimPy model: ``sessions`` clients, one every 0.5 ms."""
    import simpy

    env = simpy.Environment()
    rng = random.Random(seed)
    server = SimpyServer()

    def client(n: int):
        trusted = rng.random() < 0.5
        local = rng.random() < 0.5
        ip = f"192.0.2.{100 + n % 150}" if trusted else f"198.51.100.{100 + n % 100}"
        rcpt = rng.choice(("bob@example.com", "alice@example.com") if local else ("carol@remote.test",
                                                                                  "dave@remote.test"))
        for command in ("banner", "EHLO", "MAIL", "RCPT", "DATA", "body", "QUIT"):
            yield env.timeout(0.001)  # the server answers after 1 ms
            code = server.answer(ip, command, rcpt)
            if code >= 400:  # recipient refused: say QUIT
                yield env.timeout(0.001)
                server.answer(ip, "QUIT", rcpt)
                return

    def arrivals():
        for n in range(sessions):
            env.process(client(n))
            yield env.timeout(0.0005)

    env.process(arrivals())
    env.run()
    return server


def simpy_sessions_run(sessions: int, seed: int = 1):
    """The SimPy model with simlab's own Postfix sessions answering: the same protocol work as simlab."""
    import simpy

    from simlab.scenarios.site import site_server

    env = simpy.Environment()
    rng = random.Random(seed)
    server = site_server("postfix", {})
    body = ["From: <someone@elsewhere.test>", "To: <bob@example.com>", "Subject: hello",
            "Date: Thu, 11 Jun 1998 01:25:32 +0000", "", "Hello.", "."]

    def client(n: int):
        trusted = rng.random() < 0.5
        local = rng.random() < 0.5
        ip = f"192.0.2.{100 + n % 150}" if trusted else f"198.51.100.{100 + n % 100}"
        rcpt = rng.choice(("bob@example.com", "alice@example.com") if local else ("carol@remote.test",
                                                                                  "dave@remote.test"))
        yield env.timeout(0.001)
        server.clock.set(env.now)
        session = server.smtp_session(ip)
        sender = "bob@example.com" if trusted else "someone@elsewhere.test"
        for lines in (["EHLO client.test"], [f"MAIL FROM:<{sender}>"], [f"RCPT TO:<{rcpt}>"], ["DATA"], body,
                      ["QUIT"]):
            yield env.timeout(0.001)  # the session answers after 1 ms
            server.clock.set(env.now)
            for line in lines:
                reply = session.send(line)
            if session.closed:
                return
            if reply.code >= 400:  # recipient refused: say QUIT
                yield env.timeout(0.001)
                server.clock.set(env.now)
                session.send("QUIT")
                return

    def arrivals():
        for n in range(sessions):
            env.process(client(n))
            yield env.timeout(0.0005)

    env.process(arrivals())
    env.run()
    return server


def simlab_run(sessions: int, seed: int = 1):
    import simlab

    return simlab.run(simlab.scenarios.mixed_traffic(sessions=sessions, preset="postfix"), seed=seed)


def measure(sessions: int, runs: int) -> list[Figure]:
    simpy_times, simlab_times = [], []
    checks: dict[str, object] = {}
    for _ in range(runs):
        simpy_times.append(timed(lambda: checks.__setitem__("simpy", simpy_run(sessions))))
        simlab_times.append(timed(lambda: checks.__setitem__("simlab", simlab_run(sessions))))
        checks.pop("simlab")  # free the big result before the next run
    simpy_rate, simlab_rate = sessions / median(simpy_times), sessions / median(simlab_times)
    ratio = simlab_rate / simpy_rate
    fewer = f"; {runs} runs" if runs < 5 else ""
    small = max(1, sessions // 10)
    same_work, small_simlab = [], []
    for _ in range(runs):
        same_work.append(timed(lambda: simpy_sessions_run(small)))
        small_simlab.append(timed(lambda: simlab_run(small)))
    same_rate, small_rate = small / median(same_work), small / median(small_simlab)
    return [
        Figure(f"SimPy model, N={sessions:,}", f"{simpy_rate:,.0f} sessions/s", "(reference)", None,
               f"runs {runs_text(simpy_times)}"),
        Figure(f"simlab mixed_traffic (postfix, full), N={sessions:,}", f"{simlab_rate:,.0f} sessions/s", "", None,
               f"runs {runs_text(simlab_times)}"),
        Figure("engine: simlab / SimPy sessions per second", f"{ratio:.3f}x", f">= {TARGET_RATIO:g}x",
               ratio >= TARGET_RATIO, f"median of {runs} runs each{fewer}"),
        Figure(f"SimPy + simlab's sessions (same protocol work), N={small:,}", f"{same_rate:,.0f} sessions/s",
               "(information)", None, f"runs {runs_text(same_work)}"),
        Figure(f"simlab / that, N={small:,}", f"{small_rate / same_rate:.2f}x", "(information)", None,
               f"simlab {small_rate:,.0f} sessions/s; runs {runs_text(small_simlab)}"),
    ]


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000, help="sessions per run (default 100,000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each (default 5)")
    args = parser.parse_args(argv)
    figures = measure(args.sessions, args.runs)
    report("1. Engine vs SimPy", figures)
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
