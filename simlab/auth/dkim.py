"""DKIM (RFC 6376): sign a message and verify its signatures, with dkimpy, against a DNS given as data.

* :func:`sign` adds one ``DKIM-Signature`` header field (RFC 6376 §3.5) made by dkimpy's ``dkim.sign``.
* :func:`verify` checks every signature with dkimpy's ``dkim.DKIM.verify``, its ``dnsfunc`` answering
  from the simulated DNS: the key is the TXT record at ``<selector>._domainkey.<domain>`` (§3.6.2.1).
* :func:`key_record` is the TXT record that publishes a lesson key; :func:`private_key` the key itself.

Keys: fixed RSA-2048 pairs shipped in ``simlab/data/dkim/`` (lesson keys, never secret; see the
README there), so that runs are the same every time. RSA PKCS#1 v1.5 signatures are deterministic; the
only changing part would be the ``t=`` tag, which dkimpy 1.1's ``DKIM.sign`` takes from ``time.time()``
and offers no parameter for. simlab's :class:`_Signer` (a ``dkim.DKIM``) therefore writes the tags
``DKIM.sign`` writes, with ``t=`` from the simulated clock, and has dkimpy make the signature, so a
signature depends only on the message, the key and the simulated time. Verification uses dkimpy's
``DKIM.verify`` as it is: it compares ``t=`` with the host's clock only to refuse a signature from the
future (§3.5), which a simulated 1998 never is.

Speed: dkimpy's RSA is pure Python (an RSA-2048 signature costs several milliseconds), and a lesson panel
replays the same day under another receiver setting, meeting the same messages again. So the lesson key is
parsed once, each signature is kept by the exact message octets, key, time and signed fields it was made from
(RSA PKCS#1 v1.5 is deterministic), and each verdict by the exact message octets, signature index and key
record - only when dkimpy's verdict cannot depend on the host's clock (no ``x=``, a ``t=`` in the past). Kept
results are what dkimpy gives for those inputs; :func:`simlab.auth.clear_caches` forgets them.

Results (RFC 6376 §6.1, named as RFC 8601 §2.7.1 names them): ``pass``, ``fail`` (the signature or the
body hash did not verify), ``neutral`` (a signature that cannot be checked, e.g. a syntax error in it),
``permerror`` (no key, or a key that cannot be used), ``temperror`` (the key lookup timed out),
and ``none`` (no signature at all).
"""

from __future__ import annotations

import base64
import re
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import dkim
from dkim.canonicalization import CanonicalizationPolicy
from dkim.crypto import HASH_ALGORITHMS, parse_pem_private_key

from simlab.errors import ConfigError
from simlab.i18n import t

__all__ = ["DkimResult", "KEY_DIR", "SIGNED_HEADERS", "LESSON_KEYS", "sign", "verify", "key_record",
           "private_key", "key_name", "message_bytes", "split_message"]

#: Where the lesson keys live (``<domain>.<selector>.pem``).
KEY_DIR = Path(__file__).resolve().parent.parent / "data" / "dkim"
#: The lesson keys shipped: ``(domain, selector)``.
LESSON_KEYS = (("example.com", "mail"),)
#: The header fields signed, as OpenDKIM signs them on Debian 12 (its default ``SignHeaders`` that are present
#: in simlab's messages, and ``OversignHeaders From`` from Debian's ``/etc/opendkim.conf``: ``from`` listed once
#: more than it occurs, so a second From: added later breaks the signature, RFC 6376 §8.15).
SIGNED_HEADERS = ("from", "to", "subject", "date", "message-id", "from")

class _Signer(dkim.DKIM):
    """dkimpy's ``DKIM`` signing at a given time.

    dkimpy 1.1's ``DKIM.sign`` reads the host's clock for the ``t=`` tag and has no parameter for it, so a
    signature would change from run to run. This signer builds the same tags in the same order as
    ``DKIM.sign`` does for an RSA key (``v a c d i q s t h bh b``), with ``t=`` from the simulated clock, and
    lets dkimpy's own ``gen_header`` canonicalize, hash, sign and fold, with dkimpy's
    ``CanonicalizationPolicy``, ``HASH_ALGORITHMS`` and ``parse_pem_private_key``: the result is byte for
    byte what ``dkim.sign`` gives at that time (``tests/test_auth_dkim.py`` checks it against ``dkim.sign``).
    """

    def sign_at(self, now: float, selector: bytes, domain: bytes, privkey: bytes,
                include_headers: Sequence[bytes]) -> bytes:
        key = _parsed_key(privkey)
        policy = CanonicalizationPolicy.from_c_value(b"relaxed/simple")
        headers = tuple(h.lower() for h in include_headers)
        self.include_headers = headers
        self.hasher = HASH_ALGORITHMS[self.signature_algorithm]
        digest = self.hasher()
        digest.update(policy.canonicalize_body(self.body))
        tags = [(b"v", b"1"), (b"a", self.signature_algorithm), (b"c", policy.to_c_value()), (b"d", domain),
                (b"i", b"@" + domain), (b"q", b"dns/txt"), (b"s", selector), (b"t", str(int(now)).encode("ascii")),
                (b"h", b" : ".join(headers)), (b"bh", base64.b64encode(digest.digest())), (b"b", b"0" * 60)]
        header = self.gen_header(tags, headers, policy, b"DKIM-Signature", key)
        self.domain, self.selector, self.signature_fields = domain, selector, dict(tags)
        return b"DKIM-Signature: " + header


@lru_cache(maxsize=8)
def _parsed_key(privkey: bytes) -> dict:
    """dkimpy's ``parse_pem_private_key``, once per key (its ASN.1 reader is pure Python); dkimpy only reads
    the numbers it gives."""
    return parse_pem_private_key(privkey)


@dataclass(frozen=True)
class DkimResult:
    """One signature's verdict (or ``none`` when the message has no signature).

    Attributes:
        result: ``pass``, ``fail``, ``neutral``, ``permerror``, ``temperror`` or ``none``.
        domain, selector: the signature's ``d=`` and ``s=``.
        identity: its ``i=`` (default ``@<d>``, RFC 6376 §3.5).
        algorithm: its ``a=``.
        keybits: the size of the key found (0 when none).
        b: the signature's ``b=`` value (for ``header.b``, RFC 6008).
        reason: why, in the words of RFC 6376 §6.1 (empty for a pass).
    """

    result: str
    domain: str = ""
    selector: str = ""
    identity: str = ""
    algorithm: str = ""
    keybits: int = 0
    b: str = ""
    reason: str = ""


def key_name(selector: str, domain: str) -> str:
    """The DNS name of a key: ``<selector>._domainkey.<domain>`` (RFC 6376 §3.6.2.1)."""
    return f"{selector}._domainkey.{domain}".lower()


@lru_cache(maxsize=8)
def private_key(domain: str, selector: str) -> bytes:
    """The lesson private key (PEM) for ``domain``/``selector``; a ConfigError if simlab ships none."""
    path = KEY_DIR / f"{domain.lower()}.{selector.lower()}.pem"
    if (domain.lower(), selector.lower()) not in LESSON_KEYS or not path.is_file():
        raise ConfigError("dkim key", f"{selector}._domainkey.{domain}", t("auth.dkim.not_a_key"),
                          t("expected.one_of", choices=", ".join(key_name(s, d) for d, s in LESSON_KEYS)))
    return path.read_bytes()


@lru_cache(maxsize=8)
def key_record(domain: str, selector: str = "mail") -> str:
    """The TXT record publishing the lesson key's public half: ``v=DKIM1; k=rsa; p=<base64 DER>``
    (RFC 6376 §3.6.1), shipped beside the private key (``openssl rsa -pubout -outform DER | base64``)."""
    private_key(domain, selector)  # a ConfigError for a key simlab does not ship
    return (KEY_DIR / f"{domain.lower()}.{selector.lower()}.txt").read_text(encoding="ascii").strip()


def message_bytes(lines: Sequence[str]) -> bytes:
    """A message's lines (header, blank line, body) as the octets on the wire, CRLF line ends."""
    return "".join(f"{line}\r\n" for line in lines).encode("utf-8", "surrogateescape")


def split_message(data: bytes) -> list[str]:
    """The inverse of :func:`message_bytes`."""
    text = data.decode("utf-8", "surrogateescape")
    if text.endswith("\r\n"):
        text = text[:-2]
    return text.split("\r\n")


def sign(lines: Sequence[str], domain: str, selector: str = "mail", *, now: float,
         headers: Sequence[str] = SIGNED_HEADERS) -> list[str]:
    """The ``DKIM-Signature`` header field for the message, as the lines dkimpy folds it into.

    ``now`` is the signing time in Unix seconds (the ``t=`` tag). Canonicalization ``relaxed/simple``,
    OpenDKIM's Debian setting (``Canonicalization relaxed/simple``) and dkimpy's default.
    """
    key = private_key(domain, selector)
    present = {line.partition(":")[0].strip().lower() for line in _header_lines(lines)}
    chosen = tuple(h for h in headers if h in present)
    if "from" not in chosen:
        raise ConfigError("dkim message", "no From: field", t("auth.dkim.cannot_sign"), t("auth.dkim.expected_from"))
    return list(_signature(message_bytes(lines), domain, selector, int(now), chosen, key))


@lru_cache(maxsize=2048)
def _signature(data: bytes, domain: str, selector: str, now: int, chosen: tuple[str, ...], key: bytes
               ) -> tuple[str, ...]:
    """The signature's lines for exactly these octets, key and time.

    Kept: an RSA-2048 signature costs milliseconds in dkimpy's pure-Python RSA, and it is a function of these
    inputs alone (PKCS#1 v1.5 signatures are deterministic, ``t=`` is ``now``), so the same message signed
    again - the same day replayed with another receiver setting - gives the very same field at once.
    """
    raw = _Signer(data).sign_at(now, selector.encode(), domain.encode(), key, [h.encode() for h in chosen])
    return tuple(raw.decode("ascii").rstrip("\r\n").split("\r\n"))


def _header_lines(lines: Sequence[str]):
    for line in lines:
        if not line:
            return
        yield line


def _dnsfunc(dns: Mapping[str, object]):
    from simlab.auth.spf import TIMEOUT

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        records = dns.get(name.decode("ascii", "replace").rstrip(".").lower())
        if records is TIMEOUT:
            raise dkim.DnsTimeoutError(f"DNS timeout for {name!r}")
        if not records:
            return None
        for kind, value in records:
            if value is TIMEOUT:
                raise dkim.DnsTimeoutError(f"DNS timeout for {name!r}")
            if kind == "TXT":
                text = "".join(value) if isinstance(value, tuple | list) else str(value)
                return text.encode("ascii", "replace")
        return None

    return lookup


#: How far in the future a ``t=`` may lie: dkimpy 1.1's own leeway ("10H leeway for mailers with inaccurate clocks").
FUTURE_SLOP = 36000

_TAG = re.compile(r"\s*([a-z]+)\s*=\s*([^;]*)")


def _tags(value: str) -> dict[str, str]:
    return {m.group(1): re.sub(r"\s+", "", m.group(2)) for m in _TAG.finditer(value)}


def verify(lines: Sequence[str], dns: Mapping[str, object], *, now: float | None = None) -> list[DkimResult]:
    """Every ``DKIM-Signature`` of the message checked (RFC 6376 §6), top one first.

    ``dns`` maps a name to its records, as :func:`simlab.auth.spf.check_host` takes it. ``now`` is the
    verifier's simulated time in Unix seconds: a signature whose ``t=`` lies more than :data:`FUTURE_SLOP`
    after it is ``neutral``, as dkimpy itself treats one from the future of the host's clock (RFC 6376 §3.5
    lets a verifier ignore it); None skips that check. A message without signatures gives
    ``[DkimResult("none")]``.
    """
    signatures = []
    current: list[str] | None = None
    for line in _header_lines(lines):
        if line[:1] in (" ", "\t") and current is not None:
            current.append(line)
            continue
        current = None
        if line.partition(":")[0].strip().lower() == "dkim-signature":
            current = [line.partition(":")[2]]
            signatures.append(current)
    if not signatures:
        return [DkimResult("none")]
    data = message_bytes(lines)
    lookup = _dnsfunc(dns)
    results = []
    for index, parts in enumerate(signatures):
        tags = _tags(" ".join(parts))
        facts = {"domain": tags.get("d", "").lower(), "selector": tags.get("s", ""),
                 "identity": tags.get("i", f"@{tags.get('d', '').lower()}"), "algorithm": tags.get("a", ""),
                 "b": tags.get("b", "")}
        checker = dkim.DKIM(data, minkey=1024)  # reads the message (a malformed header raises, as before)
        if now is not None and tags.get("t", "").isdigit() and int(tags["t"]) > now + FUTURE_SLOP:
            results.append(DkimResult("neutral", **facts, reason=f"t= value is in the future ({tags['t']})"))
            continue
        try:
            key = lookup(key_name(facts["selector"], facts["domain"]).encode())
        except dkim.DnsTimeoutError:
            results.append(DkimResult("temperror", **facts, reason="key query timed out"))
            continue
        if key is None:
            results.append(DkimResult("permerror", **facts, reason="no key for signature"))
            continue
        memo = (data, index, key) if _lasting(tags) else None
        known = _VERIFIED.get(memo) if memo is not None else None
        if known is not None:
            results.append(known)
            continue
        result = _verify_one(checker, index, lookup, facts)
        if memo is not None and result.result != "temperror":
            _remember(memo, result)
        results.append(result)
    return results


#: Verdicts by (message octets, signature index, key record): what dkimpy said (see :func:`_lasting`).
_VERIFIED: OrderedDict[tuple[bytes, int, bytes], DkimResult] = OrderedDict()
_VERIFIED_SIZE = 2048


def _remember(memo: tuple[bytes, int, bytes], result: DkimResult) -> None:
    _VERIFIED[memo] = result
    while len(_VERIFIED) > _VERIFIED_SIZE:
        _VERIFIED.popitem(last=False)


def _lasting(tags: Mapping[str, str]) -> bool:
    """Whether dkimpy's verdict on this signature cannot change with the host's clock, so it may be kept: it
    reads the clock only for ``t=`` (a signature from its future is refused) and ``x=`` (an expired one);
    without ``x=`` and with ``t=`` already past, the verdict is a function of the message octets and the key
    record alone."""
    stamp = tags.get("t")
    return "x" not in tags and (stamp is None or (stamp.isdigit() and int(stamp) <= time.time()))


def _verify_one(checker: dkim.DKIM, index: int, lookup, facts: dict[str, str]) -> DkimResult:
    """dkimpy's ``DKIM.verify`` on one signature, as a verdict."""
    try:
        ok = checker.verify(idx=index, dnsfunc=lookup)
    except dkim.DnsTimeoutError:
        return DkimResult("temperror", **facts, reason="key query timed out")
    except dkim.ValidationError as exc:
        if "body hash mismatch" in str(exc):
            return DkimResult("fail", **facts, keybits=_keybits(checker), reason="body hash did not verify")
        return DkimResult("neutral", **facts, reason=f"signature syntax error: {exc}")
    except (dkim.KeyFormatError, dkim.UnknownKeyTypeError, dkim.UnparsableKeyError) as exc:
        return DkimResult("permerror", **facts, reason=f"key unusable: {exc}")
    except dkim.MessageFormatError as exc:
        return DkimResult("neutral", **facts, reason=f"signature syntax error: {exc}")
    if ok:
        return DkimResult("pass", **facts, keybits=_keybits(checker))
    return DkimResult("fail", **facts, keybits=_keybits(checker), reason="signature did not verify")


def _keybits(checker: dkim.DKIM) -> int:
    return int(getattr(checker, "keysize", 0) or 0)


def _clear_caches() -> None:
    """Forget the kept signatures, verdicts and parsed keys (:func:`simlab.auth.clear_caches`)."""
    _signature.cache_clear()
    _parsed_key.cache_clear()
    _VERIFIED.clear()
