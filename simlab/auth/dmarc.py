"""DMARC (RFC 7489): does the From: domain stand behind this message, and what does it ask for if not?

* :func:`parse_record` reads a ``_dmarc`` TXT record (§6.3, §6.4): tags, defaults, and what was wrong.
* :func:`discover` is policy discovery (§6.6.3): ``_dmarc.<From domain>``, then ``_dmarc.<organizational
  domain>``, the organizational domain being the From domain's "registered" part by the Public Suffix
  List (§3.2), from the list that the **publicsuffixlist** package ships (no download at run time).
* :func:`aligned` is identifier alignment (§3.1): relaxed (same organizational domain) or strict (same name).
* :func:`evaluate` puts it together (§6.6.2): DMARC passes when SPF passed for an aligned MAIL FROM domain
  or a DKIM signature passed with an aligned ``d=``; a failure gets the policy ``p`` (or ``sp`` for a
  subdomain whose record came from the organizational domain), applied to ``pct`` percent of the failing
  mail (§6.6.4: the receiver's own random choice; outside the sample ``reject`` becomes ``quarantine``
  and ``quarantine`` becomes ``none``).

The DNS is data, as :func:`simlab.auth.spf.check_host` takes it (``{name: [(type, value), ...]}``,
:data:`simlab.auth.spf.TIMEOUT` for a lookup that times out). This module decides; the products that
run DMARC (:mod:`simlab.products.opendmarc`) only word the decision.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import getaddresses
from functools import lru_cache

from simlab.errors import ConfigError
from simlab.i18n import t

__all__ = ["POLICIES", "RESULTS", "DmarcRecord", "DmarcResult", "Discovery", "parse_record", "discover",
           "organizational_domain", "aligned", "evaluate", "author_domain", "txt_records"]

POLICIES = ("none", "quarantine", "reject")
"""The values of ``p`` and ``sp`` (RFC 7489 §6.3)."""
RESULTS = ("pass", "fail", "none", "temperror", "permerror")
"""DMARC's results as RFC 8601 and RFC 7489 §11.2 name them."""


@dataclass(frozen=True)
class DmarcRecord:
    """A parsed DMARC record. Tags left out have the defaults of RFC 7489 §6.3.

    ``errors`` lists what was wrong and replaced by the default ("Syntax errors in the remainder of the
    record SHOULD be discarded in favor of default values (if any) or ignored outright", §6.3); ``valid``
    is False when the record cannot be used at all (no valid ``p`` and no valid ``rua``, §6.6.3).
    """

    text: str
    p: str = "none"
    sp: str | None = None
    pct: int = 100
    adkim: str = "r"
    aspf: str = "r"
    rua: tuple[str, ...] = ()
    ruf: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    valid: bool = True


_TAG = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


@lru_cache(maxsize=256)
def parse_record(text: str) -> DmarcRecord | None:
    """Parse one TXT string; ``None`` when it is not a DMARC record (it does not begin ``v=DMARC1``, §6.6.3).

    Raises nothing: bad values are noted in :attr:`DmarcRecord.errors` and replaced by defaults. The record
    (immutable) is kept per text, so a run reads each published record once.
    """
    parts = [part for part in text.split(";")]
    first = _TAG.match(parts[0]) if parts else None
    if first is None or first.group(1) != "v" or first.group(2) != "DMARC1":
        return None
    tags: dict[str, str] = {}
    errors: list[str] = []
    for part in parts[1:]:
        if not part.strip():
            continue
        match = _TAG.match(part)
        if match is None:
            errors.append(f"{part.strip()!r} is not a tag=value pair")
            continue
        name = match.group(1).lower()
        if name in tags:
            errors.append(f"tag {name} appears twice; the first is used")
            continue
        tags[name] = match.group(2)
    values: dict[str, object] = {}
    p = tags.get("p", "").lower()
    has_p = p in POLICIES
    if "p" not in tags:
        errors.append("p is missing (REQUIRED, §6.3)")
    elif not has_p:
        errors.append(f"p={tags['p']!r} is not none, quarantine or reject")
    if has_p:
        values["p"] = p
    if "sp" in tags:
        sp = tags["sp"].lower()
        if sp in POLICIES:
            values["sp"] = sp
        else:
            errors.append(f"sp={tags['sp']!r} is not none, quarantine or reject")
    if "pct" in tags:
        raw = tags["pct"]
        if raw.isdigit() and 0 <= int(raw) <= 100:
            values["pct"] = int(raw)
        else:
            errors.append(f"pct={raw!r} is not a whole number from 0 to 100; 100 is used")
    for name in ("adkim", "aspf"):
        if name in tags:
            mode = tags[name].lower()
            if mode in ("r", "s"):
                values[name] = mode
            else:
                errors.append(f"{name}={tags[name]!r} is not r or s; r is used")
    for name in ("rua", "ruf"):
        if name in tags:
            uris = tuple(u.strip() for u in tags[name].split(",") if u.strip())
            good = tuple(u for u in uris if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", u))
            if len(good) != len(uris):
                errors.append(f"{name}={tags[name]!r} holds a value that is not a URI")
            values[name] = good
    valid = has_p or bool(values.get("rua"))
    if not has_p and valid:
        values["p"] = "none"  # §6.6.3: act as if p=none was given, since rua is valid
    return DmarcRecord(text=text, errors=tuple(errors), valid=valid, **values)


def txt_records(dns: Mapping[str, object], name: str) -> list[str] | object | None:
    """The TXT strings at ``name`` (list), :data:`~simlab.auth.spf.TIMEOUT`, or ``None`` for NXDOMAIN."""
    from simlab.auth.spf import TIMEOUT

    records = None
    for key in (name, name.lower(), name.rstrip(".").lower(), name.rstrip(".").lower() + "."):
        if key in dns:
            records = dns[key]
            break
    if records is TIMEOUT:
        return TIMEOUT
    if records is None:
        return None
    texts = []
    for record in records:
        if record is TIMEOUT:
            return TIMEOUT
        kind, value = record
        if kind == "TXT" and value is TIMEOUT:
            return TIMEOUT
        if kind == "TXT":
            texts.append("".join(value) if isinstance(value, tuple | list) else str(value))
    return texts


@lru_cache(maxsize=4096)
def organizational_domain(domain: str) -> str:
    """RFC 7489 §3.2: the public suffix (from the PSL) plus one label; the name itself if it is a suffix."""
    from publicsuffixlist import PublicSuffixList

    name = domain.rstrip(".").lower()
    found = _psl(PublicSuffixList).privatesuffix(name)
    return found or name


@lru_cache(maxsize=1)
def _psl(cls):
    return cls()


def aligned(identifier: str, from_domain: str, mode: str = "r") -> bool:
    """Identifier alignment (§3.1.1, §3.1.2): strict ``s`` needs the same name, relaxed ``r`` the same
    organizational domain."""
    if mode not in ("r", "s"):
        raise ConfigError("alignment mode", mode, t("auth.dmarc.not_a_mode"), t("auth.dmarc.expected_mode"))
    a, b = identifier.rstrip(".").lower(), from_domain.rstrip(".").lower()
    if not a or not b:
        return False
    if mode == "s":
        return a == b
    return organizational_domain(a) == organizational_domain(b)


@dataclass(frozen=True)
class Discovery:
    """What policy discovery found: the record, where (``policy_domain``), or why nothing (``status``:
    ``found``, ``none``, ``temperror``, ``permerror``)."""

    status: str
    record: DmarcRecord | None = None
    policy_domain: str = ""
    queried: tuple[str, ...] = ()
    reason: str = ""


def discover(from_domain: str, dns: Mapping[str, object]) -> Discovery:
    """RFC 7489 §6.6.3: the DMARC record for ``from_domain``, falling back to its organizational domain."""
    from simlab.auth.spf import TIMEOUT

    domain = from_domain.rstrip(".").lower()
    org = organizational_domain(domain)
    queried: list[str] = []
    for candidate in dict.fromkeys((domain, org)):
        name = f"_dmarc.{candidate}"
        queried.append(name)
        texts = txt_records(dns, name)
        if texts is TIMEOUT:
            return Discovery("temperror", queried=tuple(queried), reason=t("auth.dmarc.reason.timed_out", name=name))
        records = [r for r in (parse_record(text) for text in texts or ()) if r is not None]
        if len(records) > 1:
            return Discovery("none", queried=tuple(queried),
                             reason=t("auth.dmarc.reason.several", name=name, count=len(records)))
        if records:
            record = records[0]
            if not record.valid:
                return Discovery("permerror", record, candidate, tuple(queried),
                                 t("auth.dmarc.reason.invalid", name=name, errors="; ".join(record.errors)))
            return Discovery("found", record, candidate, tuple(queried))
    return Discovery("none", queried=tuple(queried), reason=t("auth.dmarc.reason.no_record",
                                                                  names=t("auth.dmarc.reason.or").join(queried)))


@dataclass(frozen=True)
class DmarcResult:
    """The DMARC verdict on one message.

    Attributes:
        result: ``pass``, ``fail``, ``none``, ``temperror`` or ``permerror``.
        from_domain: the RFC 5322.From domain (``header.from``).
        policy_domain: where the record was found (the From domain or its organizational domain).
        policy: the policy that applies (``p``, or ``sp`` for a subdomain covered by the organizational
            domain's record); ``none`` without a record.
        disposition: what the receiver does by DMARC (§6.6.4): ``none``, ``quarantine`` or ``reject``.
        sampled: whether the failing message fell inside ``pct`` (always True at pct=100).
        spf_aligned, dkim_aligned: which identifier passed aligned.
        record: the record used, if any. reason: a sentence for lessons.
    """

    result: str
    from_domain: str
    policy_domain: str = ""
    policy: str = "none"
    disposition: str = "none"
    sampled: bool = True
    spf_aligned: bool = False
    dkim_aligned: bool = False
    record: DmarcRecord | None = None
    reason: str = ""
    checked: tuple[str, ...] = field(default=())


def _dkim_pairs(dkim: Sequence[object]) -> list[tuple[str, str]]:
    pairs = []
    for item in dkim:
        if isinstance(item, tuple):
            pairs.append((str(item[0]), str(item[1])))
        else:
            pairs.append((str(getattr(item, "result", "none")), str(getattr(item, "domain", ""))))
    return pairs


def evaluate(from_domain: str, dns: Mapping[str, object], *, spf_result: str = "none", spf_domain: str = "",
             dkim: Sequence[object] = (), sample: random.Random | Callable[[], float] | None = None
             ) -> DmarcResult:
    """RFC 7489 §6.6.2-§6.6.4 for one message.

    Args:
        from_domain: the domain of the message's From: address.
        dns: the DNS as data.
        spf_result, spf_domain: SPF's result and the domain it checked (the MAIL FROM domain, or the HELO
            name for the null sender).
        dkim: the DKIM verdicts: :class:`~simlab.auth.dkim.DkimResult` objects or ``(result, d=)`` pairs.
        sample: the receiver's random stream for ``pct`` (a :class:`random.Random` or a function returning a
            number in [0, 1)); drawn only when a failing message meets a pct below 100.
    """
    domain = (from_domain or "").rstrip(".").lower()
    if not domain:
        return DmarcResult("none", "", reason=t("auth.dmarc.reason.no_from"))
    found = discover(domain, dns)
    if found.status == "temperror":
        return DmarcResult("temperror", domain, reason=found.reason, checked=found.queried)
    if found.status == "permerror":
        return DmarcResult("permerror", domain, found.policy_domain, record=found.record, reason=found.reason,
                           checked=found.queried)
    if found.status == "none":
        return DmarcResult("none", domain, reason=found.reason, checked=found.queried)
    record = found.record
    assert record is not None
    subdomain = found.policy_domain != domain
    policy = record.sp if subdomain and record.sp is not None else record.p
    spf_ok = spf_result == "pass" and aligned(spf_domain, domain, record.aspf)
    dkim_ok = any(result == "pass" and aligned(d, domain, record.adkim) for result, d in _dkim_pairs(dkim))
    base = {"from_domain": domain, "policy_domain": found.policy_domain, "policy": policy, "record": record,
            "spf_aligned": spf_ok, "dkim_aligned": dkim_ok, "checked": found.queried}
    if spf_ok or dkim_ok:
        how = t("auth.dmarc.reason.and").join(w for w, ok in (("SPF", spf_ok), ("DKIM", dkim_ok)) if ok)
        return DmarcResult("pass", reason=t("auth.dmarc.reason.pass", how=how, domain=domain), **base)
    sampled = True
    if record.pct < 100 and policy != "none":
        draw = sample.random() if isinstance(sample, random.Random) else (sample() if sample else 0.0)
        sampled = draw * 100 < record.pct
    disposition = policy if sampled else {"reject": "quarantine", "quarantine": "none"}.get(policy, "none")
    why = t("auth.dmarc.reason.fail", spf=spf_result, spf_domain=spf_domain or t("auth.dmarc.reason.no_domain"),
            domain=domain, policy=policy, policy_domain=found.policy_domain)
    if not sampled:
        why += t("auth.dmarc.reason.outside_pct", pct=record.pct, disposition=disposition)
    return DmarcResult("fail", disposition=disposition, sampled=sampled, reason=why, **base)


@lru_cache(maxsize=1024)
def author_domain(value: str | None) -> str | None:
    """The domain of a From: field's single address (§6.6.1); ``None`` when there is not exactly one.

    Kept per field value (the standard library's address parser is slow and the senders few)."""
    if not value:
        return None
    addresses = [addr for _name, addr in getaddresses([value]) if addr]
    if len(addresses) != 1 or "@" not in addresses[0]:
        return None
    return addresses[0].rpartition("@")[2].rstrip(">").lower() or None


def _clear_caches() -> None:
    """Forget the parsed records, From: domains and organizational domains (:func:`simlab.auth.clear_caches`)."""
    parse_record.cache_clear()
    author_domain.cache_clear()
    organizational_domain.cache_clear()
