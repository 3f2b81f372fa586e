"""The forum's cases as ready runs: ``simlab.run(simlab.scenarios.relay_probe(), seed=1)``."""

from simlab.scenarios.base import DAY, HOUR, Scenario
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
from simlab.scenarios.run import run

__all__ = ["DAY", "HOUR", "SCENARIOS", "Scenario", "flood", "ip_rotation", "mixed_traffic", "relay_probe", "run",
           "spoofed_postmaster", "strict_ip_range", "wrong_password"]
