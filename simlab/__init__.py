"""simlab: mail-server security taught by simulation.

Servers come from :mod:`simlab.presets`; each hands out SMTP and POP3
sessions that answer as the real product did::

    import simlab
    server = simlab.presets.postfix(myhostname="mail.example.com", mydestination=["example.com"],
                                    mynetworks=["192.0.2.0/24"], accounts={"bob": "s3cret"})
    s = server.smtp_session(client_ip="203.0.113.7")
    s.send("EHLO client.test")

A day of traffic around a server is a scenario run::

    result = simlab.run(simlab.scenarios.relay_probe(preset="eims-1.2"), seed=1)
    result.summary["bounces_to_postmaster"]

and many runs, over a grid of settings and seeds, a sweep (a pandas table)::

    simlab.sweep(simlab.scenarios.ip_rotation, {"pool_size": [1, 10, 50]}, seeds=range(1, 4))

Learner-facing text (labels, messages, errors) speaks English or Japanese: ``simlab.set_language("ja")``,
or ``SIMLAB_LANG=ja`` in the environment (:mod:`simlab.i18n`).
"""

from simlab import presets, products, restrictions, scenarios
from simlab.clock import ManualClock
from simlab.errors import ConfigError, SessionClosed
from simlab.i18n import language, set_language
from simlab.protocol import MailServer, Pop3Reply, Pop3Session, Reply, SmtpSession
from simlab.scenarios import Scenario, load_scenario, run

__version__ = "0.1.0"

#: Views loaded on first use, so that ``import simlab`` needs no widgets or matplotlib.
_LAZY = {"ui": "simlab.ui", "plots": "simlab.plots", "exercises": "simlab.exercises", "live": "simlab.live"}
#: Functions loaded on first use: name -> (module, function).
_LAZY_FUNCTIONS = {"sweep": ("simlab.sweep", "sweep"), "compare": ("simlab.comparison", "compare")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(_LAZY[name])
    if name in _LAZY_FUNCTIONS:
        import importlib

        module, function = _LAZY_FUNCTIONS[name]
        value = getattr(importlib.import_module(module), function)
        globals()[name] = value  # importing the module bound the name to it; the function is meant
        return value
    raise AttributeError(f"module 'simlab' has no attribute {name!r}")


__all__ = [
    "ConfigError", "MailServer", "compare", "ManualClock", "Pop3Reply", "Pop3Session", "Reply", "SessionClosed",
    "Scenario", "SmtpSession", "__version__", "load_scenario", "presets", "products", "restrictions", "run",
    "scenarios", "sweep", "language", "set_language",
]
