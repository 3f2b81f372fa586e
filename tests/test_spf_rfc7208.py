"""The official SPF test suite (RFC 7208), every test its own pytest id, against ``check_host``.

``tests/data/rfc7208-tests.yml`` is the openspf.org suite as pyspf 2.0.14's source distribution
ships it (its licence: ``tests/data/rfc7208-tests.LICENSE``; where it came from:
``tests/data/rfc7208-tests.README``). This driver reads the zone data as pyspf's own driver
(``test/testspf.py``) does:

* records written as type ``SPF`` are also served as ``TXT`` when the name has no TXT record of its
  own (RFC 7208 dropped type SPF; the suite relies on drivers to copy them), and a TXT value
  ``NONE`` is not a record: it only stops that copy;
* a bare ``TIMEOUT`` entry makes every lookup the name has no records for time out (pyspf: a
  TIMEOUT before any record of the type asked); it becomes :data:`simlab.auth.spf.TIMEOUT`;
* the explanation ``DEFAULT`` is the driver's default explanation (pyspf's driver calls
  ``set_default_explanation('DEFAULT')``), passed as ``default_explanation``;
* a test passes with any of its listed results; ``strict`` (a pyspf option) is not used.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simlab.auth.spf import RESULTS, TIMEOUT, check_host

SUITE = Path(__file__).resolve().parent / "data" / "rfc7208-tests.yml"


def zone(zonedata: dict) -> dict:
    """The ``dns`` mapping of one scenario's zone data."""
    dns = {}
    for name, entries in zonedata.items():
        records, spf, has_txt = [], [], False
        for entry in entries:
            if entry == "TIMEOUT":
                records.append(TIMEOUT)
                continue
            ((rtype, value),) = entry.items()
            if rtype in ("TXT", "SPF") and isinstance(value, str):
                value = [value]
            if rtype == "TXT":
                has_txt = True
            elif rtype == "SPF":
                spf.append(value)
            if value == ["NONE"]:
                continue
            records.append((rtype, tuple(value) if rtype == "MX" else value))
        if not has_txt:
            records += [("TXT", value) for value in spf]
        dns[name] = records
    return dns


def load() -> list:
    with SUITE.open("rb") as stream:
        scenarios = list(yaml.safe_load_all(stream))
    cases = []
    for scenario in scenarios:
        dns = zone(scenario["zonedata"])
        for test_id, test in scenario["tests"].items():
            cases.append(pytest.param(test, dns, id=test_id))
    return cases


CASES = load()


def test_the_whole_suite_is_here():
    assert len(CASES) == 203
    assert len({case.id for case in CASES}) == 203
    assert SUITE.read_text(encoding="utf-8").startswith("# This is the openspf.org test suite (release 2014.04)")
    assert "Redistributions of source code must retain" in SUITE.with_suffix(".LICENSE").read_text()


@pytest.mark.parametrize(("test", "dns"), CASES)
def test_rfc7208(test, dns):
    expected = test["result"] if isinstance(test["result"], list) else [test["result"]]
    assert set(expected) <= set(RESULTS)
    result = check_host(test["host"], test["mailfrom"], test["helo"], dns, default_explanation="DEFAULT")
    assert result in expected, f"{result!r} ({result.reason}); the suite wants {expected}: {test.get('description')}"
    if "explanation" in test:
        assert result.explanation == test["explanation"]
