"""Ready-made servers, with settings named as each product named them.

* :func:`eims_1_2` - EIMS 1.2: no relay control at all.
* :func:`eims_2_1` - EIMS 2.1: Relay Restriction and IP Range Restriction, off as shipped.
* :func:`sims` - SIMS: Client Hosts decide relaying; optional DNS blocklist.
* :func:`postfix` - Postfix 3.7 defaults, with Dovecot for POP3.

:data:`PRESETS` maps the CLI names (``eims-1.2``, ``eims-2.1``, ``sims``, ``postfix``) to them.
"""

from simlab.presets.eims import EimsPersona, eims_1_2, eims_2_1
from simlab.presets.postfix import PostfixPersona, postfix
from simlab.presets.sims import SimsPersona, sims

PRESETS = {"eims-1.2": eims_1_2, "eims-2.1": eims_2_1, "sims": sims, "postfix": postfix}

__all__ = ["PRESETS", "EimsPersona", "PostfixPersona", "SimsPersona", "eims_1_2", "eims_2_1", "postfix", "sims"]
