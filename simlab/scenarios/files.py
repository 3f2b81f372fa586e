"""Scenario files: a whole :class:`~simlab.scenarios.base.Scenario` in TOML.

Read with the standard library's :mod:`tomllib` (TOML 1.0), written with
``tomli-w``. A file holds the same things as a scenario built in Python -
the site's server, its defences, router filters, extra hosts and DNS
records, the actors and the duration - so an exercise can be written, shared
and run without Python::

    name = "my_lab"
    title = "A relay probe against my own Postfix"
    duration = 86400.0

    [server]
    preset = "postfix"
    standard_site = false           # the settings below are the whole server
    [server.settings]
    myhostname = "mail.mycompany.test"
    mydestination = ["mycompany.test"]
    mynetworks = ["192.0.2.0/24"]

    [[actors]]
    type = "RelayScanner"
    name = "relay survey"
    host = "attacker"
    server = "mail.mycompany.test"

Top-level keys: ``name``, ``title``, ``duration``, ``mx_via_provider``,
``process_limit``, ``idle_timeout``, ``retry_interval``, ``queue_lifetime``
(both left out: the product's own queue schedule), ``queue_lifetime_reason``;
tables ``[site]`` (``domain``, ``hostname``, ``address``, ``lan``; by default
the standard site, or the server's own names when ``standard_site = false``),
``[server]`` (``preset``, ``standard_site``: whether ``settings`` go on top of
the product's settings for the standard site (default) or are the whole
server, ``settings``), ``[[defences]]`` and ``[[router_filters]]`` (``type``
and the restriction's arguments), ``[[actors]]`` (``type`` and the actor's
fields), ``[[hosts]]`` (:class:`~simlab.scenarios.base.HostSpec`'s fields,
``server`` as ``{preset, settings}``), ``[dns]`` (``mx``, ``a``, ``txt``: TXT records by name, e.g.
SPF, DKIM keys and DMARC policies), ``[remote_settings]`` (settings added to the standard world's
other servers, by host name: sender checks and aliases, see
:func:`~simlab.scenarios.site.build_network`).
Every key is checked: a misspelt or unknown key, or a value of the wrong
kind, is a :class:`simlab.ConfigError` naming the file, the key's path and
the value. :func:`dump_scenario` writes any scenario so, and
``load_scenario(dump)`` runs the same at every seed.
"""

from __future__ import annotations

import dataclasses
import inspect
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simlab import products
from simlab.engine import actors as actor_module
from simlab.engine.actors import Actor
from simlab.engine.traffic import TrafficMix
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.base import SiteNames
from simlab.protocol.policy import Restriction
from simlab.restrictions import AccountLockout, Anvil, ClientHosts, Fail2Ban, FailureDelay, RouterFilter
from simlab.scenarios.base import HostSpec, Scenario, ServerSpec
from simlab.scenarios.sender_auth import ForgedSender, LegitSender, SenderAuthTally
from simlab.scenarios.site import STANDARD_SITE, build_server

__all__ = ["ACTOR_TYPES", "DEFENCE_TYPES", "load_scenario", "loads_scenario", "dump_scenario", "dumps_scenario"]

#: Actors a file may name, by class name.
ACTOR_TYPES: dict[str, type[Actor]] = {
    name: getattr(actor_module, name) for name in actor_module.__all__
    if isinstance(getattr(actor_module, name), type) and issubclass(getattr(actor_module, name), Actor)
    and name != "Actor"} | {"TrafficMix": TrafficMix, "ForgedSender": ForgedSender,
                                                 "LegitSender": LegitSender, "SenderAuthTally": SenderAuthTally}
#: Defences a file may name (``[[defences]]`` and ``[[router_filters]]``), by class name.
DEFENCE_TYPES: dict[str, type[Restriction]] = {cls.__name__: cls for cls in (
    Fail2Ban, AccountLockout, FailureDelay, RouterFilter, ClientHosts, Anvil)}

_TOP = ("name", "title", "duration", "mx_via_provider", "process_limit", "idle_timeout", "retry_interval",
        "queue_lifetime", "queue_lifetime_reason",
        "site", "server", "defences", "router_filters", "actors", "hosts", "dns", "remote_settings")
_NUMBERS = ("duration", "idle_timeout", "retry_interval", "queue_lifetime")


class _Reader:
    """Walks one file's data, naming the key path in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, path: str, value: Any, problem: str, expected: str) -> ConfigError:
        return ConfigError(f"{self.source}: {path}", value, problem, expected)

    def table(self, path: str, value: Any, allowed: tuple[str, ...] | list[str]) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, value, "is not a table", f"a table with keys among {', '.join(allowed)}")
        for key in value:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                raise self.error(where, value[key], "is not a known key", f"one of {', '.join(allowed)}")
        return dict(value)

    def array(self, path: str, value: Any) -> list:
        if not isinstance(value, list):
            raise self.error(path, value, "is not an array of tables", f"[[{path}]] entries")
        return value

    def number(self, path: str, value: Any, whole: bool = False) -> float:
        kinds = int if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or value < 0:
            raise self.error(path, value, "is not a number", "a whole number >= 0" if whole else "a number >= 0")
        return value

    def text(self, path: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise self.error(path, value, "is not a text", "a quoted string")
        return value

    def switch(self, path: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, value, "is not true or false", "true or false (unquoted)")
        return value

    # --- the parts ---------------------------------------------------------------------------
    def server(self, data: Any) -> tuple[str, dict, bool]:
        table = self.table("server", data, ("preset", "standard_site", "settings"))
        if "preset" not in table:
            raise self.error("server.preset", None, "is missing", f"one of {', '.join(products.names())}")
        preset = self.text("server.preset", table["preset"])
        if preset not in products.PRODUCTS:
            raise self.error("server.preset", preset, "is not a preset", f"one of {', '.join(products.names())}")
        standard = self.switch("server.standard_site", table.get("standard_site", True))
        settings = self.table("server.settings", table.get("settings", {}), products.get(preset).setting_names)
        return preset, settings, standard

    def site(self, data: Any) -> SiteNames:
        table = self.table("site", data, [f.name for f in dataclasses.fields(SiteNames)])
        return SiteNames(**{key: self.text(f"site.{key}", value) for key, value in table.items()})

    def restriction(self, path: str, data: Any) -> Restriction:
        if not isinstance(data, Mapping) or "type" not in data:
            raise self.error(f"{path}.type", None, "is missing", f"one of {', '.join(DEFENCE_TYPES)}")
        kind = data["type"]
        if kind not in DEFENCE_TYPES:
            raise self.error(f"{path}.type", kind, "is not a defence", f"one of {', '.join(DEFENCE_TYPES)}")
        cls = DEFENCE_TYPES[kind]
        parameters = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        table = self.table(path, data, ["type", *parameters])
        table.pop("type")
        try:
            return cls(**table)
        except ConfigError as exc:
            raise self.error(f"{path}.{exc.setting}", exc.value, exc.problem, exc.expected) from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise self.error(path, table, f"does not make a {kind} ({exc})", f"the arguments of {kind}") from None

    def actor(self, path: str, data: Any) -> Actor:
        if not isinstance(data, Mapping) or "type" not in data:
            raise self.error(f"{path}.type", None, "is missing", f"one of {', '.join(ACTOR_TYPES)}")
        kind = data["type"]
        if kind not in ACTOR_TYPES:
            raise self.error(f"{path}.type", kind, "is not an actor", f"one of {', '.join(ACTOR_TYPES)}")
        cls = ACTOR_TYPES[kind]
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        table = self.table(path, data, ["type", *fields])
        table.pop("type")
        for key in ("name", "host"):
            if key not in table:
                raise self.error(f"{path}.{key}", None, "is missing", "a quoted string")
        values = {key: self._field_value(f"{path}.{key}", fields[key], value) for key, value in table.items()}
        return cls(**values)

    def _field_value(self, path: str, spec: dataclasses.Field, value: Any) -> Any:
        default = spec.default
        if default is dataclasses.MISSING and spec.default_factory is not dataclasses.MISSING:
            default = spec.default_factory()
        if isinstance(default, bool):
            return self.switch(path, value)
        if isinstance(default, int | float):
            return self.number(path, value, whole=isinstance(default, int) and not isinstance(value, float))
        if isinstance(default, tuple | list):
            if not isinstance(value, list):
                raise self.error(path, value, "is not an array", "a list in brackets, e.g. [\"bob\", \"alice\"]")
            return tuple(value)
        if isinstance(default, str) or default is None or default is dataclasses.MISSING:
            if value is not None and not isinstance(value, str | int | float):
                raise self.error(path, value, "is not a text or number", "a quoted string")
            return value
        return value

    def host(self, path: str, data: Any) -> HostSpec:
        names = [f.name for f in dataclasses.fields(HostSpec)]
        table = self.table(path, data, names)
        for key in ("name", "ip"):
            if key not in table:
                raise self.error(f"{path}.{key}", None, "is missing", "a quoted string")
        if "links" in table:
            links = table["links"]
            if not isinstance(links, list) or not all(isinstance(x, list) and len(x) == 2 and isinstance(x[0], str)
                                                      and isinstance(x[1], int | float) for x in links):
                raise self.error(f"{path}.links", links, "is not a list of links",
                                 '[["internet", 0.02]]: a host name and a latency in seconds')
            table["links"] = tuple((name, float(latency)) for name, latency in links)
        if "server" in table:
            server = self.table(f"{path}.server", table["server"], ("preset", "settings"))
            preset, settings, _ = self.server({"preset": server.get("preset"), "settings": server.get("settings", {}),
                                               "standard_site": False})
            table["server"] = ServerSpec(preset, settings)
        return HostSpec(**table)

    def dns(self, data: Any) -> tuple[dict[str, list[str]], dict[str, str]]:
        table = self.table("dns", data, ("mx", "a", "txt"))
        mx = self.table("dns.mx", table.get("mx", {}), list(table.get("mx", {})))
        a = self.table("dns.a", table.get("a", {}), list(table.get("a", {})))
        for domain, hosts in mx.items():
            if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
                raise self.error(f"dns.mx.{domain}", hosts, "is not a list of host names", '["mx.partner.test"]')
        for name, ip in a.items():
            self.text(f"dns.a.{name}", ip)
        return mx, a

    def txt(self, data: Any) -> dict[str, list[str]]:
        table = self.table("dns", data, ("mx", "a", "txt"))
        txt = self.table("dns.txt", table.get("txt", {}), list(table.get("txt", {})))
        for name, texts in txt.items():
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise self.error(f"dns.txt.{name}", texts, "is not a list of TXT records", '["v=spf1 mx -all"]')
        return {name: list(texts) for name, texts in txt.items()}

    def remote_settings(self, data: Any) -> dict[str, dict[str, Any]]:
        from simlab.scenarios.site import REMOTE_SETTINGS

        table = self.table("remote_settings", data, list(data) if isinstance(data, Mapping) else [])
        return {host: self.table(f"remote_settings.{host}", settings, REMOTE_SETTINGS)
                for host, settings in table.items()}


def loads_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """A scenario from TOML text (``source`` names it in errors)."""
    reader = _Reader(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, text[:40] + ("..." if len(text) > 40 else ""),
                          t("scenario_file.error.not_toml", reason=exc),
                          t("scenario_file.expected.toml")) from None
    data = reader.table("", data, _TOP)
    if "server" not in data:
        raise reader.error("server", None, "is missing", "a [server] table with preset = \"...\"")
    preset, settings, standard = reader.server(data["server"])
    options: dict[str, Any] = {}
    for key in _NUMBERS:
        if key in data:
            options[key] = float(reader.number(key, data[key]))
    if "queue_lifetime_reason" in data:
        options["queue_lifetime_reason"] = reader.text("queue_lifetime_reason", data["queue_lifetime_reason"])
    if "process_limit" in data:
        options["process_limit"] = int(reader.number("process_limit", data["process_limit"], whole=True)) or None
    if "mx_via_provider" in data:
        options["mx_via_provider"] = reader.switch("mx_via_provider", data["mx_via_provider"])
    base = None if standard else settings
    overrides = settings if standard else {}
    try:
        server = build_server(preset, base, overrides)
    except ConfigError as exc:
        raise reader.error(f"server.settings.{exc.setting}", exc.value, exc.problem, exc.expected) from None
    product = products.get(preset)
    site = reader.site(data["site"]) if "site" in data else (STANDARD_SITE if standard else product.site_names(server))
    restrictions = [reader.restriction(f"defences[{n}]", item)
                    for n, item in enumerate(reader.array("defences", data.get("defences", [])))]
    routers = [reader.restriction(f"router_filters[{n}]", item)
               for n, item in enumerate(reader.array("router_filters", data.get("router_filters", [])))]
    actors = [reader.actor(f"actors[{n}]", item)
              for n, item in enumerate(reader.array("actors", data.get("actors", [])))]
    hosts = [reader.host(f"hosts[{n}]", item) for n, item in enumerate(reader.array("hosts", data.get("hosts", [])))]
    mx, a = reader.dns(data.get("dns", {}))
    txt = reader.txt(data.get("dns", {}))
    remote = reader.remote_settings(data.get("remote_settings", {}))
    name = reader.text("name", data.get("name", Path(source).stem or "scenario"))
    title = reader.text("title", data.get("title", name))
    return Scenario(name, title, preset, overrides, actors, restrictions=restrictions, router_filters=routers,
                    server_settings=base, site=site, hosts=hosts, mx=mx, a=a, txt=txt, remote_settings=remote,
                    **options)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file (TOML)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("scenario file", str(path), t("scenario_file.error.unreadable", reason=exc.strerror),
                          t("scenario_file.expected.readable")) \
            from None
    return loads_scenario(text, str(path))


# --- writing ---------------------------------------------------------------------------------------
def _plain(value: Any, where: str) -> Any:
    """A value as TOML holds it: tuples become arrays, mappings tables; None is left out by the caller."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item, where) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item, f"{where}.{key}") for key, item in value.items() if item is not None}
    raise ConfigError(where, value, t("scenario_file.error.unwritable"), t("scenario_file.expected.plain"))


def _restriction_table(restriction: Restriction, where: str) -> dict[str, Any]:
    kind = type(restriction).__name__
    if DEFENCE_TYPES.get(kind) is not type(restriction):
        raise ConfigError(where, restriction, t("scenario_file.error.unwritable"),
                          t("expected.one_of", choices=", ".join(DEFENCE_TYPES)))
    return {"type": kind, **_plain(dict(restriction.given), where)}


def _actor_table(actor: Actor, where: str) -> dict[str, Any]:
    kind = type(actor).__name__
    if ACTOR_TYPES.get(kind) is not type(actor):
        raise ConfigError(where, actor, t("scenario_file.error.unwritable"),
                          t("expected.one_of", choices=", ".join(ACTOR_TYPES)))
    table: dict[str, Any] = {"type": kind}
    for spec in dataclasses.fields(actor):
        if spec.init:
            value = getattr(actor, spec.name)
            if value is not None:
                table[spec.name] = _plain(value, f"{where}.{spec.name}")
    return table


def dump_scenario(scenario: Scenario) -> dict[str, Any]:
    """The scenario as the tables of a scenario file."""
    data: dict[str, Any] = {"name": scenario.name, "title": scenario.title, "duration": scenario.duration,
                            "mx_via_provider": scenario.mx_via_provider, "idle_timeout": scenario.idle_timeout}
    if scenario.retry_interval is not None:
        data["retry_interval"] = scenario.retry_interval
    if scenario.queue_lifetime is not None:  # None: the product's own queue schedule
        data["queue_lifetime"] = scenario.queue_lifetime
        data["queue_lifetime_reason"] = scenario.queue_lifetime_reason
    if scenario.process_limit is not None:
        data["process_limit"] = scenario.process_limit
    standard = scenario.server_settings is None
    settings = dict(scenario.settings) if standard else dict(scenario.server_settings) | dict(scenario.settings)
    extra = list(settings.pop("restrictions", None) or ())
    data["server"] = {"preset": scenario.preset, "standard_site": standard,
                      "settings": _plain(settings, "server.settings")}
    if scenario.site != STANDARD_SITE:
        data["site"] = _plain(dataclasses.asdict(scenario.site), "site")
    defences = [*scenario.restrictions, *extra]
    if defences:
        data["defences"] = [_restriction_table(r, f"defences[{n}]") for n, r in enumerate(defences)]
    if scenario.router_filters:
        data["router_filters"] = [_restriction_table(r, f"router_filters[{n}]")
                                  for n, r in enumerate(scenario.router_filters)]
    if scenario.hosts:
        data["hosts"] = []
        for n, host in enumerate(scenario.hosts):
            table = _plain({k: v for k, v in dataclasses.asdict(host).items() if k != "server"}, f"hosts[{n}]")
            if host.server is not None:
                table["server"] = {"preset": host.server.preset,
                                   "settings": _plain(dict(host.server.settings), f"hosts[{n}].server")}
            data["hosts"].append(table)
    if scenario.mx or scenario.a or scenario.txt:
        data["dns"] = {"mx": _plain(scenario.mx, "dns.mx"), "a": _plain(scenario.a, "dns.a")}
        if scenario.txt:
            data["dns"]["txt"] = _plain(scenario.txt, "dns.txt")
    if scenario.remote_settings:
        data["remote_settings"] = _plain(scenario.remote_settings, "remote_settings")
    data["actors"] = [_actor_table(actor, f"actors[{n}]") for n, actor in enumerate(scenario.actors)]
    return data


def dumps_scenario(scenario: Scenario) -> str:
    """The scenario as the text of a scenario file."""
    import tomli_w

    return tomli_w.dumps(dump_scenario(scenario), multiline_strings=False)
