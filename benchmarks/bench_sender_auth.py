"""Lesson 11: a sender-authentication day, and the panel's half day, in seconds.

    python benchmarks/bench_sender_auth.py [--runs 5]

Each figure is the median wall-clock time of ``--runs`` calls of ``simlab.run(sender_authentication(...),
seed=1)`` with everything kept (events, transcripts, mail): every flow on, yourcompany.test running
policyd-spf, OpenDKIM and OpenDMARC. With ``dkim=True`` every legitimate message is signed by dkimpy
(RSA-2048, pure Python) at the site and verified at yourcompany.test, which is most of the cost.

Target: the panel's 12 hours under 2 s with DKIM on (a student's click), a whole day under 5 s.
"""

from __future__ import annotations

import argparse
import time

from benchlib import Figure, median, report, runs_text, timed

CASES = (("EIMS 2.1, a day (no DKIM)", {}, 5.0),
         ("Postfix with DKIM, a day", {"preset": "postfix", "dkim": True, "spf_reject": False}, 5.0),
         ("Postfix with DKIM, the panel's 12 hours", {"preset": "postfix", "dkim": True, "spf_reject": False,
                                                      "duration": 12 * 3600.0}, 2.0))


def main(argv: list[str] | None = None) -> list[Figure]:
    import simlab

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    figures = []
    for label, knobs, target in CASES:
        scenario = simlab.scenarios.sender_authentication(**knobs)
        times, cpu = [], []
        for _ in range(args.runs):
            started = time.process_time()
            times.append(timed(lambda s=scenario: simlab.run(s, seed=1)))
            cpu.append(time.process_time() - started)
        seconds = median(times)
        figures.append(Figure(f"sender auth: {label}", f"{seconds:.2f} s", f"<= {target:g} s", seconds <= target,
                              f"runs {runs_text(times)}; CPU {median(cpu):.2f} s"))
    report("Lesson 11: sender authentication", figures)
    return figures


if __name__ == "__main__":
    main()
