"""S4 today: SPF, DKIM and DMARC at the receiving end, against the spoofed ``Postmaster@`` sender.

The thread's third case (S4) is a spammer who wrote ``MAIL FROM:<Postmaster@<site domain>>`` and got
EIMS 2.1 to relay to yourcompany.test. Today the *receiving* server checks the sender: yourcompany.test's
Postfix runs policyd-spf (SPF, RFC 7208) at RCPT and OpenDKIM and OpenDMARC (DKIM, RFC 6376; DMARC,
RFC 7489) at the end of DATA, as Debian 12 packages them (:mod:`simlab.products.milters`); the site
(example.com) publishes what it wants checked: an SPF record, a DKIM key (if its server signs), a DMARC
policy. :func:`sender_authentication` runs four flows of mail to yourcompany.test:

``site_relay`` (a)
    the forum's spoof, relayed by the site's own server. It leaves from example.com's own address, so
    SPF (``v=spf1 mx -all``) *passes* and DMARC passes with it: the checks authenticate servers, not
    people, and cannot undo an open relay at home.
``direct`` (b)
    the same forgery sent by the spammer straight to mail.yourcompany.test from 203.0.113.51: SPF fails,
    and policyd-spf (or OpenDMARC, under ``p=reject``) refuses it.
``legit`` (c)
    bob's and alice's ordinary mail to yourcompany.test, through the site's server.
``forwarded`` (d)
    bob's mail to ``sales@remote.test``, an address remote.test's Postfix forwards to
    ``sales@yourcompany.test`` (``virtual_alias_maps``), and the spammer's forgery sent to the same alias.
    The forwarder keeps the envelope sender, so SPF fails at yourcompany.test; a DKIM signature
    survives the trip (the forwarder adds only a ``Received:`` line), and DMARC passes through DKIM
    alignment. Without DKIM, ``p=reject`` loses the legitimate message - the old tension between
    forwarding and sender checks: RFC 2505 §2.6.2 (refusing outside mail that claims a local sender
    breaks forwarding and lists), RFC 7489 §10.1 (SPF applied before DMARC) and RFC 7960 §3 (indirect
    mail flows: aliases, mailing lists).

The result's summary counts each flow at yourcompany.test: ``<kind>_<path>_<outcome>`` with kind
``forged``/``legit``, path ``via_site``, ``direct`` or ``forwarded``, outcome ``delivered`` (in the
mailbox), ``quarantined`` (held by OpenDMARC) or ``refused`` (anywhere on the way: by the site's
server, the forwarder or yourcompany.test). A message is forged when its envelope sender is the forged
``Postmaster@<site domain>``; no one else in the scenario writes that address.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

from simlab.engine.actors import Actor, LocalUser, SpoofingSpammer
from simlab.engine.conversation import Outcome
from simlab.engine.world import World
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.base import RELAY_BY_SENDER_DOMAIN
from simlab.scenarios.base import DAY, HOUR, Scenario
from simlab.scenarios.catalog import ServerArg, _everyday, _positive, _scenario, _site, locals_knobs
from simlab.scenarios.site import ACCOUNTS, REMOTE, SPOOFER_IP, YOURCOMPANY

__all__ = ["FLOWS", "PATHS", "OUTCOMES", "DMARC_POLICIES", "FORWARDER_ALIAS", "sender_authentication",
           "SenderAuthTally", "ForgedSender", "LegitSender", "summary_keys", "RECEIVER_IP", "FORWARDER_IP",
           "DIRECT_SPOOFER_IP"]

#: The flows :func:`sender_authentication` can run, and the (kind, path) counts each gives.
FLOWS = {"site_relay": (("forged", "via_site"),), "direct": (("forged", "direct"),),
         "legit": (("legit", "via_site"),), "forwarded": (("legit", "forwarded"), ("forged", "forwarded"))}
PATHS = ("via_site", "direct", "forwarded")
OUTCOMES = ("delivered", "quarantined", "refused")
DMARC_POLICIES = ("none", "quarantine", "reject")
#: remote.test's forwarding address: Postfix ``virtual_alias_maps`` there sends it on unchanged.
FORWARDER_ALIAS = {"sales@remote.test": "sales@yourcompany.test"}
RECEIVER_IP = "198.51.100.80"
FORWARDER_IP = "198.51.100.90"
#: The spammer who sends straight to yourcompany.test (another address of the forum's outside world).
DIRECT_SPOOFER_IP = "203.0.113.51"
SELECTOR = "mail"


def summary_keys(flows: Sequence[str] = tuple(FLOWS)) -> list[str]:
    """The summary keys the flows give: ``forged_via_site_delivered`` ..."""
    return [f"{kind}_{path}_{outcome}" for flow in flows for kind, path in FLOWS[flow] for outcome in OUTCOMES]


@dataclass
class ForgedSender(SpoofingSpammer):
    """The forum's spammer, sending as ``Postmaster@<site domain>`` on one path (``path``); counts each
    message refused in its own session (by the server it talks to) under ``forged_<path>_refused``."""

    path: str = "via_site"

    def after_session(self, world: World, outcome: Outcome) -> None:
        if not outcome.message_accepted:
            world.mark(f"forged_{self.path}_refused")


@dataclass
class LegitSender(LocalUser):
    """A member of staff writing to yourcompany.test on one path (``path``); counts each message the first
    server refuses (the site's, for alice outside the allow-list of SIMS) under ``legit_<path>_refused``."""

    path: str = "via_site"

    def connect(self, world: World, server: str, service: str, script, on_end=None, ip: str | None = None,
                port: int | None = None) -> None:
        if service == "smtp":
            inner = on_end

            def on_end(outcome: Outcome) -> None:
                if not outcome.message_accepted:
                    world.mark(f"legit_{self.path}_refused")
                if inner is not None:
                    inner(outcome)

        super().connect(world, server, service, script, on_end, ip, port)


@dataclass
class SenderAuthTally(Actor):
    """yourcompany.test's postmaster, keeping score: what became of each message that reached the receiver.

    It listens to the receiving server (its host is ``host``): delivered and held messages, and refusals
    of mail *relayed* to it (by the site's server or the forwarder; a sender talking to it directly counts
    its own refusals). Kind by the envelope sender (``forged_sender``), path by the client: the site's
    server (``site_ip``), the forwarder (``forwarder_ip``), anyone else (direct). It also gives the
    receiver's OpenDMARC its own random stream for ``pct`` (``World.stream``), so draws do not depend on
    any other actor.
    """

    forged_sender: str = "Postmaster@example.com"
    site_ip: str = "192.0.2.25"
    forwarder_ip: str = FORWARDER_IP
    flows: Sequence[str] = tuple(FLOWS)

    def start(self, world: World) -> None:
        for key in summary_keys(self.flows):
            world.counts.setdefault(key, 0)
        server = world.network.host(self.host).server
        for milter in getattr(server, "milters", ()):
            if hasattr(milter, "rng"):
                milter.rng = world.stream(f"{milter.process} at {self.host}")
        server.accept_listeners.append(lambda ctx, message, rcpts: self._count(world, ctx, "delivered"))
        if hasattr(server, "hold_listeners"):
            server.hold_listeners.append(lambda ctx, message: self._count(world, ctx, "quarantined"))
            server.verdict_listeners.append(lambda ctx, stage, verdict: self._verdict(world, ctx, verdict))

    def _path(self, ip: str) -> str:
        return {self.site_ip: "via_site", self.forwarder_ip: "forwarded"}.get(ip, "direct")

    def _kind(self, ctx) -> str:
        sender = ctx.sender.text if ctx.sender is not None else ""
        return "forged" if sender.lower() == self.forged_sender.lower() else "legit"

    def _count(self, world: World, ctx, outcome: str) -> None:
        from simlab.addresses.networks import ip_text

        path = self._path(ip_text(ctx.client_ip))
        key = f"{self._kind(ctx)}_{path}_{outcome}"
        if outcome == "refused" and path == "direct":
            return  # the direct sender counts its own refusals
        if key in world.counts:
            world.mark(key)

    def _verdict(self, world: World, ctx, verdict: dict) -> None:
        if verdict.get("action") == "reject":
            self._count(world, ctx, "refused")


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(name, value, t("sender_auth.error.not_a_choice"), ", ".join(map(repr, choices)))


def sender_authentication(preset: str | None = None, duration: float = DAY, spf: str | None = "v=spf1 mx -all",
                          dkim: bool = False, dmarc: str | None = "reject", pct: int = 100,
                          receiver_checks: bool = True, spf_reject: bool = True, dmarc_enforce: bool = True,
                          relay_restriction: bool | None = None, flows: Sequence[str] = tuple(FLOWS),
                          forgeries: int = 8, every: float = 2 * HOUR, legit_every: float = 2 * HOUR,
                          server: ServerArg = None) -> Scenario:
    """S4 today: the spoofed Postmaster against SPF, DKIM and DMARC at yourcompany.test.

    Args:
        preset: the site's product (default ``"eims-2.1"``, as in lesson 03); or give ``server``.
        spf: the SPF record the site's domain publishes (None: none).
        dkim: the site's server signs its mail with DKIM and the key is published at
            ``mail._domainkey.<domain>`` (needs a product with DKIM signing: Postfix with OpenDKIM).
        dmarc: the DMARC policy published at ``_dmarc.<domain>``: ``"none"``, ``"quarantine"``,
            ``"reject"``, or None for no record; ``pct``: the percentage of failing mail it applies to.
        receiver_checks: yourcompany.test's Postfix runs policyd-spf, OpenDKIM and OpenDMARC.
        spf_reject: policyd-spf refuses an SPF ``fail`` at RCPT (Debian's ``Mail_From_reject = Fail``);
            False leaves the decision to DMARC (``Mail_From_reject = False``, RFC 7489 §10.1).
        dmarc_enforce: OpenDMARC acts on the policy (``RejectFailures true``, ``HoldQuarantinedMessages
            true``); False is Debian's default: it only records the result in a header.
        relay_restriction: the site's relay rule on the sender's domain (EIMS; on by default there).
        flows: which flows run (see the module): any of ``site_relay``, ``direct``, ``legit``, ``forwarded``.
        forgeries: forged messages on each forged flow; ``every``: mean seconds between them.
        legit_every: mean seconds between legitimate messages on each legitimate flow.
        server: any server built by a preset (or a function returning one), instead of ``preset``.
    """
    site = _site("eims-2.1", preset, server)
    product = site.product
    names = site.names
    _positive("forgeries", forgeries, whole=True)
    _positive("every", every)
    _positive("legit_every", legit_every)
    _positive("duration", duration)
    if spf is not None and (not isinstance(spf, str) or not spf.lower().startswith("v=spf1")
                            or (len(spf) > 6 and spf[6] != " ")):
        raise ConfigError("spf", spf, t("sender_auth.error.not_an_spf_record"), t("sender_auth.error.expected_spf"))
    _check_choice("dmarc", dmarc, (*DMARC_POLICIES, None))
    if isinstance(pct, bool) or not isinstance(pct, int) or not 0 <= pct <= 100:
        raise ConfigError("pct", pct, t("sender_auth.error.not_a_percentage"), t("sender_auth.error.expected_pct"))
    for name, value in (("dkim", dkim), ("receiver_checks", receiver_checks), ("spf_reject", spf_reject),
                        ("dmarc_enforce", dmarc_enforce)):
        if not isinstance(value, bool):
            raise ConfigError(name, value, t("exercise.common.not_a_switch"), t("sender_auth.error.expected_switch"))
    if isinstance(flows, str) or not flows or any(f not in FLOWS for f in flows) or len(set(flows)) != len(flows):
        raise ConfigError("flows", flows, t("sender_auth.error.not_flows"),
                          t("sender_auth.error.expected_flows", flows=", ".join(FLOWS)))
    settings: dict = {}
    if relay_restriction is None and not site.given and product.can(RELAY_BY_SENDER_DOMAIN):
        relay_restriction = True  # lesson 03's EIMS 2.1: Relay Restriction on, as the thread's admin had it
    if relay_restriction is not None:
        settings |= product.relay_restriction(relay_restriction)
    txt: dict[str, list[str]] = {}
    if spf is not None:
        txt[names.domain] = [spf]
    if dkim:
        from simlab.auth.dkim import key_name, key_record  # dkimpy loads on first use

        settings |= product.dkim_signing(names.domain, SELECTOR, [names.lan])
        key_record(names.domain, SELECTOR)  # a ConfigError if simlab ships no lesson key for this domain
        txt[key_name(SELECTOR, names.domain)] = [key_record(names.domain, SELECTOR)]
    if dmarc is not None:
        record = f"v=DMARC1; p={dmarc}" + (f"; pct={pct}" if pct != 100 else "")
        txt[f"_dmarc.{names.domain}"] = [record]
    remote: dict[str, dict] = {}
    if receiver_checks:
        remote[YOURCOMPANY] = {
            "policyd_spf": {"Mail_From_reject": "Fail" if spf_reject else "False"},
            "smtpd_milters": ["opendkim", "opendmarc"],
            "opendkim": {"Mode": "v"},
            "opendmarc": {"RejectFailures": dmarc_enforce, "HoldQuarantinedMessages": dmarc_enforce}}
    if "forwarded" in flows:
        remote[REMOTE] = {"virtual_alias_maps": dict(FORWARDER_ALIAS)}
    forged = f"Postmaster@{names.domain}"
    port = product.auth_submission_port()
    actors: list[Actor] = [*_everyday(site), SenderAuthTally("yourcompany's postmaster", YOURCOMPANY,
                                                             forged_sender=forged, site_ip=names.address,
                                                             flows=tuple(flows))]
    if "site_relay" in flows:
        actors.append(ForgedSender("spoofing spammer", "attacker", ips=(SPOOFER_IP,), server=names.hostname,
                                   local_domain=names.domain, victims=("user_name@yourcompany.test",),
                                   messages=forgeries, every=every, path="via_site"))
    if "direct" in flows:
        actors.append(ForgedSender("direct spoofer", "attacker", ips=(DIRECT_SPOOFER_IP,), server=YOURCOMPANY,
                                   local_domain=names.domain, victims=("ceo@yourcompany.test",),
                                   messages=forgeries, every=every, path="direct"))
    if "legit" in flows:
        actors.append(LegitSender("bob to yourcompany", "pc-bob", account="bob", password=ACCOUNTS["bob"],
                                domain=names.domain, server=names.hostname, send_every=legit_every, check_every=0,
                                recipients=("user_name@yourcompany.test",)))
        actors.append(LegitSender("alice to yourcompany", "roaming", account="alice", password=ACCOUNTS["alice"],
                                domain=names.domain, server=names.hostname, send_every=legit_every, check_every=0,
                                recipients=("sales@yourcompany.test",), use_auth=port is not None, port=port))
    if "forwarded" in flows:
        actors.append(LegitSender("bob to the forwarder", "pc-bob", account="bob", password=ACCOUNTS["bob"],
                                  domain=names.domain, server=names.hostname, send_every=legit_every, check_every=0,
                                  recipients=tuple(FORWARDER_ALIAS), path="forwarded"))
        actors.append(ForgedSender("spammer to the forwarder", "attacker", ips=(SPOOFER_IP,), server=REMOTE,
                                   local_domain=names.domain, victims=tuple(FORWARDER_ALIAS), messages=forgeries,
                                   every=every, path="forwarded"))
    knobs = locals_knobs({k: v for k, v in locals().items() if k in _KNOBS})
    return _scenario(site, "sender_authentication", "S4 today: SPF, DKIM and DMARC against the spoofed sender",
                     settings, actors, duration, txt=txt, remote_settings=remote, knobs=knobs)


_KNOBS = tuple(inspect.signature(sender_authentication).parameters)
