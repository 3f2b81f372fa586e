"""Lesson 11: a sender-authentication day, and the panel's half day, in seconds.

    python benchmarks/bench_sender_auth.py [--runs 5]

Each figure is the median wall-clock time of ``--runs`` calls of ``simlab.run(sender_authentication(...),
seed=1)`` with everything kept (events, transcripts, mail): every flow on, yourcompany.test running
policyd-spf, OpenDKIM and OpenDMARC. With ``dkim=True`` every legitimate message is signed by dkimpy
(RSA-2048, pure Python) at the site and verified at yourcompany.test, which is most of the cost.

simlab keeps DKIM signatures and verdicts by the exact message octets and key, and parsed records and
Authentication-Results fields by their text (:func:`simlab.auth.clear_caches`), so:

* **cold** figures forget all of it before each run: a day never replayed before, every signature new
  (the panel's first DKIM day at a seed, shown in its busy state);
* the **again** figure replays the panel's DKIM day once, untimed, then times the same day with another
  receiver setting (DMARC ``pct=99``) that sends the same mail: the panel's next click.

Targets: the panel's 12 hours with DKIM under 1 s cold (a heavy choice, shown busy) and under 100 ms again
(quick enough to need no busy state); without DKIM under 50 ms (the panels' median target); a whole day with
DKIM under 5 s.
"""

from __future__ import annotations

import argparse
import time

from benchlib import Figure, median, report, runs_text, timed

PANEL = {"duration": 12 * 3600.0}
DKIM = {"preset": "postfix", "dkim": True, "spf_reject": False}
#: (label, knobs, target in seconds, knobs of the untimed run made first, or None for a cold run)
CASES = (("EIMS 2.1, a day (no DKIM), cold", {}, 5.0, None),
         ("EIMS 2.1, the panel's 12 h (no DKIM), cold", PANEL, 0.05, None),
         ("Postfix + DKIM, a day, cold", DKIM, 5.0, None),
         ("Postfix + DKIM, the panel's 12 h, cold", DKIM | PANEL, 1.0, None),
         ("Postfix + DKIM, the panel's 12 h, again (pct=99)", DKIM | PANEL | {"pct": 99}, 0.1, DKIM | PANEL))


def main(argv: list[str] | None = None) -> list[Figure]:
    import simlab
    from simlab.auth import clear_caches

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    simlab.run(simlab.scenarios.sender_authentication(**DKIM, duration=3600.0), seed=2)  # dkimpy, the PSL loaded
    figures = []
    for label, knobs, target, first in CASES:
        scenario = simlab.scenarios.sender_authentication(**knobs)
        before = simlab.scenarios.sender_authentication(**first) if first is not None else None
        times, cpu = [], []
        for _ in range(args.runs):
            clear_caches()
            if before is not None:
                simlab.run(before, seed=1)
            started = time.process_time()
            times.append(timed(lambda s=scenario: simlab.run(s, seed=1)))
            cpu.append(time.process_time() - started)
        seconds = median(times)
        if target < 1:  # a panel's figure, in milliseconds
            shown, wanted = f"{seconds * 1000:.0f} ms", f"<= {target * 1000:g} ms"
            note = f"runs {runs_text(times, 'ms', 1000, 0)}; CPU {median(cpu) * 1000:.0f} ms"
        else:
            shown, wanted = f"{seconds:.2f} s", f"<= {target:g} s"
            note = f"runs {runs_text(times)}; CPU {median(cpu):.2f} s"
        figures.append(Figure(f"sender auth: {label}", shown, wanted, seconds <= target, note))
    report("Lesson 11: sender authentication", figures)
    return figures


if __name__ == "__main__":
    main()
