"""Ready-made servers, with settings named as each product named them.

* :func:`eims_1_2` - EIMS 1.2: no relay control at all.
* :func:`eims_2_1` - EIMS 2.1: Relay Restriction and IP Range Restriction, off as shipped.
* :func:`sims` - SIMS: Client Hosts decide relaying; optional DNS blocklist.
* :func:`postfix` - Postfix 3.7 defaults, with Dovecot for POP3.
* :func:`exim` - Exim 4.96 as Debian 12 ships it (exim4-config), settings named as in its main configuration.

Each lives in its product's module in :mod:`simlab.products`, beside what
else simlab knows about that product. :data:`PRESETS` maps the registry's
names (``eims-1.2``, ``eims-2.1``, ``sims``, ``postfix``, ...) to them.
"""

from simlab.products import PRODUCTS
from simlab.products.eims import EimsPersona, eims_1_2, eims_2_1
from simlab.products.exim import EximPersona, exim
from simlab.products.postfix import PostfixPersona, postfix
from simlab.products.sims import SimsPersona, sims

PRESETS = {name: product.factory for name, product in PRODUCTS.items()}

__all__ = ["PRESETS", "EimsPersona", "EximPersona", "PostfixPersona", "SimsPersona", "eims_1_2", "eims_2_1", "exim",
           "postfix", "sims"]
