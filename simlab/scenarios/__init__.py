"""The forum's cases as ready runs, and scenarios of your own.

* ``simlab.run(simlab.scenarios.relay_probe(), seed=1)``: a case of the thread on the standard site;
  ``relay_probe(server=simlab.presets.postfix(...))``: the same on any server.
* :class:`Scenario`, :class:`HostSpec`, :class:`ServerSpec`: a world composed by hand.
* :func:`load_scenario`: a scenario file (TOML); :func:`dumps_scenario` writes one.
"""

from simlab.scenarios.base import DAY, HOUR, HostSpec, Scenario, ServerSpec
from simlab.scenarios.catalog import (
    SCENARIOS,
    flood,
    ip_rotation,
    mixed_traffic,
    relay_probe,
    spoofed_postmaster,
    strict_ip_range,
    wrong_password,
)
from simlab.scenarios.files import dump_scenario, dumps_scenario, load_scenario, loads_scenario
from simlab.scenarios.run import run
from simlab.scenarios.sender_auth import sender_authentication
from simlab.scenarios.spraying import password_spraying, spraying_sweep

__all__ = ["DAY", "HOUR", "SCENARIOS", "HostSpec", "Scenario", "ServerSpec", "dump_scenario", "dumps_scenario",
           "flood", "ip_rotation", "load_scenario", "loads_scenario", "mixed_traffic", "relay_probe", "run",
           "spoofed_postmaster", "strict_ip_range", "wrong_password", "password_spraying", "spraying_sweep",
           "sender_authentication"]
